"""The card's thread is the conversation: customer messages land in it, and the holder's
replies in it go to the customer.

Customer → thread: every message a customer sends while a person is needed or holds the
conversation is posted in the card's thread, in order, by the notifier (one lock per phone).
Thread → customer: a reply by the holder (or, while the customer waits, by whoever answers
first: an implicit takeover) is recorded as the attendant's message and delivered through the
Cloud API or the integrator's relay; its fate shows as a reaction on the Slack message. A reply
by anyone else is not sent: they get an ephemeral hint with the Assumir button. `nota: …` is an
internal note, kept in the history and never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.background import Background
from bot.slack.cards import TAKE, escape
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities
from bot.slack.notifier import THREAD_TTL, CardNotifier, thread_key
from handoff import texts
from handoff.ledger import Ledger
from handoff.machine import Outcome, Reason, Sender
from handoff.manager import MessageResult, Notice, SessionManager
from handoff.model import Mode

log = logging.getLogger("handoff.slack")

REACTIONS = {"sent": "heavy_check_mark", "delivered": "ballot_box_with_check", "read": "eyes",
             "failed": "x", "note": "memo"}


@dataclass(frozen=True)
class Delivery:
    """What became of one reply: sent (with Meta's id when the Cloud API took it) or why not."""

    sent: bool
    wamid: str | None = None
    reason: str | None = None


#: Sends `text` to the customer of `phone` as `attendant`, by whatever channel is configured.
Deliver = Callable[[str, str, str, Mode], Awaitable[Delivery]]


def sent_key(wamid: str) -> str:
    return f"slack:sent:{wamid}"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class ThreadBridge:
    """Both directions between a card's thread and the customer."""

    def __init__(self, manager: SessionManager, api: SlackApi, identities: Identities,
                 notifier: CardNotifier, ledger: Ledger, background: Background,
                 deliver: Deliver) -> None:
        self.manager = manager
        self.api = api
        self.identities = identities
        self.notifier = notifier
        self.ledger = ledger
        self.background = background
        self.deliver = deliver

    # ---- customer → thread

    def on_message(self, sender: Sender, result: MessageResult) -> None:
        """Manager listener: a customer message while a person is needed goes to the thread."""
        session = result.session
        if sender is not Sender.CUSTOMER or session is None or result.reason not in (
                Reason.WAITING_HUMAN, Reason.HUMAN_ACTIVE):
            return
        text = texts.THREAD_CUSTOMER.format(who=escape(session.profile_name or session.phone),
                                            text=escape(session.last_customer_text or ""))
        self.notifier.on_notice(Notice(session.phone, "customer_message", text))

    # ---- thread → customer

    async def on_event(self, event: dict[str, Any]) -> None:
        """A `message` event: acted on only for a person's reply in a card's thread."""
        channel, ts = _str(event.get("channel")), _str(event.get("ts"))
        thread, user = _str(event.get("thread_ts")), _str(event.get("user"))
        text = event.get("text")
        if (channel is None or ts is None or thread is None or thread == ts or user is None
                or not isinstance(text, str) or event.get("bot_id")
                or event.get("subtype") not in (None, "thread_broadcast")):
            return
        phone = await self.ledger.get(thread_key(channel, thread))
        if phone is None:
            return
        attendant = await self.identities.attendant(user)
        if text.strip().casefold().startswith(texts.NOTE_PREFIX):
            await self.manager.record(phone, "note", attendant, "slack")
            await self._react(channel, ts, "note")
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
        if session.mode is Mode.PAUSED:
            taken = await self.manager.takeover(phone, attendant, source="slack")
            if taken.outcome is Outcome.CONFLICT and taken.session is not None:
                holder = await self.identities.mention(taken.session.human_attendant)
                await self._hint(channel, thread, user, phone,
                                 texts.THREAD_NOT_HOLDER.format(phone=phone, holder=holder))
                return
        recorded = await self.manager.handle_message(
            phone, text, Sender.HUMAN, attendant=attendant, message_id=f"slack:{channel}:{ts}",
            source="slack")
        if recorded.reason is Reason.DUPLICATE:
            return  # the same Slack message delivered again (another event id, another process)
        await self._send(phone, text, attendant, channel, ts, thread)

    async def _send(self, phone: str, text: str, attendant: str, channel: str, ts: str,
                    thread: str) -> None:
        outcome = await self.deliver(phone, text, attendant, Mode.HUMAN)
        if not outcome.sent:
            await self._react(channel, ts, "failed")
            if outcome.reason:  # a Cloud API failure is announced (and threaded) by outbound
                who = await self.identities.mention(attendant) or attendant
                await self._line(channel, thread, texts.THREAD_SEND_FAILED.format(
                    who=who, reason=outcome.reason))
            return
        if outcome.wamid:
            await self.ledger.put(sent_key(outcome.wamid), f"{channel} {ts}", THREAD_TTL)
        await self._react(channel, ts, "sent")

    # ---- delivery reports

    def on_notice(self, notice: Notice) -> None:
        """Meta's later statuses for a reply sent from Slack become reactions on it."""
        wamid, status = notice.detail.get("wamid"), notice.detail.get("status")
        if notice.kind == "delivery" and isinstance(wamid, str) and status in REACTIONS:
            self.background.spawn(self._status(wamid, str(status)), name="slack_reaction",
                                  phone=notice.phone)

    async def _status(self, wamid: str, status: str) -> None:
        where = await self.ledger.get(sent_key(wamid))
        if where is None:
            return
        channel, _, ts = where.partition(" ")
        await self._react(channel, ts, status)

    # ---- Slack calls

    async def _react(self, channel: str, ts: str, outcome: str) -> None:
        try:
            await self.api.call("reactions.add", channel=channel, timestamp=ts,
                                name=REACTIONS[outcome])
        except SlackError as exc:
            if exc.error != "already_reacted":
                log.warning("slack_reaction_failed", extra={"error": exc.error})

    async def _line(self, channel: str, thread: str, text: str) -> None:
        try:
            await self.api.call("chat.postMessage", channel=channel, thread_ts=thread, text=text)
        except SlackError as exc:
            log.warning("slack_thread_line_failed", extra={"error": exc.error})

    async def _hint(self, channel: str, thread: str, user: str, phone: str, text: str) -> None:
        """Only the replier sees it, with the button that would let them answer."""
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                  {"type": "actions", "elements": [{
                      "type": "button", "action_id": TAKE, "value": phone, "style": "primary",
                      "text": {"type": "plain_text", "text": texts.SLACK_BUTTON_TAKE}}]}]
        try:
            await self.api.call("chat.postEphemeral", channel=channel, user=user,
                                thread_ts=thread, text=text, blocks=blocks)
        except SlackError as exc:
            log.warning("slack_hint_failed", extra={"user": user, "error": exc.error})
