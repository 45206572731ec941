"""The card's thread is the conversation: the holder's replies in it go to the customer.

A reply is written to the outbox before Slack is answered (`accept`), then taken from it in
order for its conversation (`written`). A reply by the holder (or, while the customer waits,
by whoever answers first: an implicit takeover) is recorded as the attendant's message, to be
delivered: the store writes it to the outbox with the change, and the customer sender sends it
through the Cloud API or the relay, in order. Its fate shows as a reaction on the Slack
message (see `bot.slack.feed`). A reply by anyone else is not sent: they get an ephemeral hint
with the Assumir button. `nota: …` is an internal note, kept in the history and never sent.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.slack import texts
from bot.slack.cards import TAKE, slack_time
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities
from bot.slack.markup import to_whatsapp
from bot.slack.notifier import thread_key
from bot.slack.templates import OPEN as TEMPLATE_OPEN
from handoff.events import AttendantWrote
from handoff.ledger import Ledger
from handoff.machine import Outcome, Sender
from handoff.manager import SessionManager
from handoff.model import Mode, Source
from handoff.watch import window_closes

log = logging.getLogger("handoff.slack")


def origin(channel: str, ts: str) -> str:
    """Where an attendant wrote a message, as the outbox events carry it."""
    return f"slack:{channel}:{ts}"


def parse_origin(value: str | None) -> tuple[str, str] | None:
    """`(channel, ts)` of a Slack origin; None for any other origin."""
    if not value:
        return None
    kind, _, rest = value.partition(":")
    channel, _, ts = rest.partition(":")
    return (channel, ts) if kind == "slack" and channel and ts else None


def shared_files(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The files of a message, as the customer sender needs them (Slack's own fields)."""
    out = []
    for f in event.get("files") or []:
        if not isinstance(f, dict) or not isinstance(f.get("id"), str):
            continue
        out.append({k: f[k] for k in ("id", "name", "title", "mimetype", "size",
                                       "url_private_download", "mode", "file_access")
                    if k in f and isinstance(f[k], str | int)})
    return out


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class ThreadBridge:
    """Thread replies → the customer (through the outbox)."""

    def __init__(self, manager: SessionManager, api: SlackApi, identities: Identities,
                 ledger: Ledger, *, templates: bool = False) -> None:
        self.templates = templates
        self.manager = manager
        self.api = api
        self.identities = identities
        self.ledger = ledger

    async def accept(self, event: dict[str, Any]) -> None:
        """A `message` event, before Slack is answered: a person's reply in a card's thread
        is written to the outbox (two Redis calls, no Slack call), so replies are taken in
        the order Slack delivered them, whichever process got each, and survive a crash."""
        channel, ts = _str(event.get("channel")), _str(event.get("ts"))
        thread, user = _str(event.get("thread_ts")), _str(event.get("user"))
        text = event.get("text")
        files = shared_files(event)
        if (channel is None or ts is None or thread is None or thread == ts or user is None
                or not isinstance(text, str) or event.get("bot_id")
                or event.get("subtype") not in (None, "thread_broadcast", "file_share")
                or (not text.strip() and not files)):
            return
        phone = await self.ledger.get(thread_key(channel, thread))
        if phone is None:
            return
        await self.manager.emit(phone, AttendantWrote(
            phone, self.manager.clock(), user, text, origin(channel, ts),
            origin(channel, thread), files or None))

    async def written(self, event: AttendantWrote) -> None:
        """A reply taken from the outbox, in order: a note, a hint, or a message to send."""
        found, place = parse_origin(event.origin), parse_origin(event.place)
        if found is None or place is None:
            return
        (channel, ts), thread = found, place[1]
        phone, user, text = event.phone, event.author, event.text
        attendant = await self.identities.attendant(user)
        if text.strip().casefold().startswith(texts.NOTE_PREFIX):
            await self.manager.note(phone, attendant, text, source=Source.SLACK,
                                    origin=origin(channel, ts))
            return
        session = await self.manager.get(phone)
        if session is None:
            return
        if session.mode is Mode.HUMAN and session.human_attendant != attendant:
            holder = await self.identities.mention(session.human_attendant)
            await self._hint(channel, thread, user, phone,
                             texts.THREAD_NOT_HOLDER.format(phone=phone, holder=holder))
            return
        if session.mode is Mode.AGENT:
            await self._hint(channel, thread, user, phone,
                             texts.THREAD_NOT_TAKEN.format(phone=phone))
            return
        closes = window_closes(session)
        if closes is not None and event.at >= closes:
            await self._hint(channel, thread, user, phone, texts.THREAD_WINDOW_CLOSED.format(
                phone=phone, time=slack_time(closes)),
                button=(TEMPLATE_OPEN, texts.SLACK_BUTTON_TEMPLATE) if self.templates else None)
            return
        if session.mode is Mode.PAUSED:
            taken = await self.manager.takeover(phone, attendant, source=Source.SLACK)
            if taken.outcome is Outcome.CONFLICT and taken.session is not None:
                holder = await self.identities.mention(taken.session.human_attendant)
                await self._hint(channel, thread, user, phone,
                                 texts.THREAD_NOT_HOLDER.format(phone=phone, holder=holder))
                return
        # Recorded and queued for the customer in one step; the same Slack message delivered
        # again (another event id, another process) is a duplicate and queued once.
        written = await to_whatsapp(text, self.identities.name)
        if event.files:
            names = ", ".join(str(f.get("name")) for f in event.files)
            written = (written + "\n" if written.strip() else "") + \
                texts.THREAD_FILES.format(names=names)
        await self.manager.handle_message(
            phone, written, Sender.HUMAN, attendant=attendant,
            message_id=f"slack:{channel}:{ts}", source=Source.SLACK, deliver=True,
            origin=origin(channel, ts),
            media={"files": event.files, "text": await to_whatsapp(text, self.identities.name)}
            if event.files else None)

    async def _hint(self, channel: str, thread: str, user: str, phone: str, text: str, *,
                    button: tuple[str, str] | None = (TAKE, texts.SLACK_BUTTON_TAKE)) -> None:
        """Only the replier sees it, with the button that would let them answer."""
        blocks: list[dict[str, Any]] = [{"type": "section",
                                         "text": {"type": "mrkdwn", "text": text}}]
        if button is not None:
            blocks.append({"type": "actions", "elements": [{
                "type": "button", "action_id": button[0], "value": phone, "style": "primary",
                "text": {"type": "plain_text", "text": button[1]}}]})
        try:
            await self.api.call("chat.postEphemeral", channel=channel, user=user,
                                thread_ts=thread, text=text, blocks=blocks)
        except SlackError as exc:
            log.warning("slack_hint_failed", extra={"user": user, "error": exc.error})
