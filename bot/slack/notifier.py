"""Keeps each session's Slack card true: one card per episode, updated on every mode change,
and writes the lines of its thread.

An episode runs from the change that takes a session out of `agent` mode to the release that
hands it back; its card's channel and ts are kept on the session (`metadata.slack_card`). The
outbox hands one conversation's events to one process at a time, in order, so a card is posted
by one writer; everything here runs from the outbox, never on a request path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot import replies
from bot.media import Opened
from bot.slack import texts
from bot.slack.cards import CardView, card, change_line, escape, slack_time
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities
from handoff.events import ModeChanged, Transferred, WindowDue
from handoff.hours import BusinessHours
from handoff.ledger import Ledger
from handoff.manager import SessionManager
from handoff.model import Event, Mode, Session, Source

log = logging.getLogger("handoff.slack")

CARD_KEY = "slack_card"
#: How long a card's thread keeps answering for its customer (thread → phone in the ledger).
THREAD_TTL = 30 * 24 * 3600.0


def thread_key(channel: str, ts: str) -> str:
    return f"slack:thread:{channel}:{ts}"


_SHOWN_MAX = 2048
#: How many earlier messages open a new card's thread.
OPENING_LINES = 10
_OPENING_TEXT = 300


@dataclass(frozen=True)
class Card:
    channel: str
    ts: str
    episode: str

    @classmethod
    def of(cls, session: Session) -> Card | None:
        raw = session.metadata.get(CARD_KEY)
        if not isinstance(raw, dict):
            return None
        channel, ts, episode = raw.get("channel"), raw.get("ts"), raw.get("episode")
        if not (isinstance(channel, str) and isinstance(ts, str)):
            return None
        return cls(channel, ts, episode if isinstance(episode, str) else "")

    def to_json(self) -> dict[str, str]:
        return {"channel": self.channel, "ts": self.ts, "episode": self.episode}


def _stamp(at: float) -> str:
    return f"{at:.6f}"


def _older(episode: str, than: str) -> bool:
    try:
        return float(episode) < float(than)
    except ValueError:
        return True


def episode_of(history: list[Event], event: Event | None) -> str:
    """The time the session last left `agent` mode, as of `event` (or now)."""
    if event is not None and event.from_mode == Mode.AGENT.value:
        return _stamp(event.at)
    limit = event.at if event is not None else float("inf")
    starts = [e.at for e in history if e.from_mode == Mode.AGENT.value and e.at <= limit]
    return _stamp(starts[-1]) if starts else _stamp(0.0)


def history_line(event: ModeChanged) -> Event:
    """The history line a mode change logged, as the card's helpers read it."""
    return Event(at=event.at, event=event.event, actor=event.actor, source=event.source,
                 from_mode=event.from_mode, to_mode=event.to_mode)


class CardNotifier:
    """Posts, updates and threads the escalation cards."""

    def __init__(self, manager: SessionManager, api: SlackApi, identities: Identities,
                 channel: str | None, ledger: Ledger, *, templates: bool = False,
                 hours: BusinessHours | None = None) -> None:
        self.templates = templates
        self.hours = hours
        self.manager = manager
        self.api = api
        self.identities = identities
        self.channel = channel
        self.ledger = ledger
        self._shown: dict[str, tuple[Any, ...]] = {}
        if not channel:
            log.warning("slack_no_channel", extra={"detail": texts.SLACK_NO_CHANNEL})

    async def changed(self, event: ModeChanged) -> None:
        """Bring the card up to date after `event` and say it in the thread."""
        line = history_line(event)
        found = await self._card(event.phone, line)
        if found is None:
            return
        current = await self._refresh(event.phone, found)
        # A change that takes the customer from the bot starts the episode: its card says
        # it (whichever try posted the card), so the thread gets no line for it.
        if event.from_mode != Mode.AGENT:
            who = await self.identities.mention(event.actor)
            await self._line(current, change_line(line, who))

    async def opening(self, event: ModeChanged) -> None:
        """A new card's thread opens with what was said before the change that posted it
        (the bot's replies too); the message that asked for a person is on the card. Its own
        outbox target, after the card's: a retry of one never repeats the other."""
        if event.from_mode != Mode.AGENT:
            return
        current = await self._card(event.phone, history_line(event))
        if current is None:
            return
        lines = await self.manager.transcript(event.phone, OPENING_LINES * 4) or []
        before = [x for x in lines if x.at < event.at][-OPENING_LINES:]
        if not before:
            return
        session = await self.manager.get(event.phone)
        customer = (session.profile_name if session else None) or event.phone
        shown = []
        for x in before:
            if x.sender == "customer":
                who = escape(customer)
            elif x.sender in ("human", "note"):
                who = await self.identities.mention(x.attendant) or texts.SLACK_LINE_NOBODY
            else:
                who = texts.SLACK_OPENING_BOT
            text = escape(" ".join(x.text.split()))[:_OPENING_TEXT]
            shown.append(texts.SLACK_OPENING_LINE.format(
                icon=texts.SLACK_OPENING_ICON.get(x.sender, "💬"), who=who, text=text))
        await self._line(current, texts.SLACK_OPENING.format(lines="\n".join(shown)))

    async def window(self, event: WindowDue) -> None:
        """The window closes soon (a line for the holder) or has closed (the card says so)."""
        found = await self._card(event.phone, None)
        if found is None:
            return
        current = await self._refresh(event.phone, found)
        session = await self.manager.get(event.phone)
        who = escape((session.profile_name if session else None) or event.phone)
        if event.closed:
            await self._line(current, texts.SLACK_WINDOW_CLOSED_LINE.format(who=who))
            return
        holder = await self.identities.mention(event.holder) or texts.SLACK_LINE_NOBODY
        await self._line(current, texts.SLACK_WINDOW_CLOSING.format(
            holder=holder, who=who, time=slack_time(event.closes_at)))

    async def transferred(self, event: Transferred) -> None:
        """The card shows the new holder; the thread says who passed it to whom."""
        found = await self._card(event.phone, None)
        if found is None:
            return
        current = await self._refresh(event.phone, found)
        who = await self.identities.mention(event.by) or escape(event.by)
        to = await self.identities.mention(event.to) or escape(event.to)
        # From the monitor: a silent holder's conversation, accepted from an offer.
        line = (texts.SLACK_REASSIGN_LINE if event.source == Source.MONITOR
                else texts.SLACK_TRANSFER_LINE)
        await self._line(current, line.format(who=who, to=to, time=slack_time(event.at)))

    async def tell_new_holder(self, event: Transferred) -> None:
        """The new holder is told directly, with a link to the card's thread (its own target,
        so a failed message is tried again without repeating the thread line). Not when they
        took it from an offer: its message says so already."""
        if event.source == Source.MONITOR:
            return
        user = await self.identities.user_id(event.to)
        session = await self.manager.get(event.phone)
        current = Card.of(session) if session else None
        if user is None or current is None:
            return
        who = await self.identities.mention(event.by) or escape(event.by)
        customer = escape(session.profile_name or event.phone) if session else event.phone
        link = await self._permalink(current)
        text = (texts.SLACK_TRANSFER_DM.format(who=who, customer=customer, link=link) if link
                else texts.SLACK_TRANSFER_DM_NO_LINK.format(who=who, customer=customer))
        await self.api.call("chat.postMessage", channel=user, text=text)

    async def _permalink(self, current: Card) -> str | None:
        try:
            data = await self.api.call("chat.getPermalink", channel=current.channel,
                                       message_ts=current.ts)
        except SlackError as exc:
            log.warning("slack_permalink_failed", extra={"error": exc.error})
            return None
        link = data.get("permalink")
        return link if isinstance(link, str) and link else None

    async def line(self, phone: str, text: str, *, broadcast: bool = False) -> Card | None:
        """A line in the session's card thread (the card is posted first if need be)."""
        found = await self._card(phone, None)
        if found is None:
            return None
        await self._line(found, text, broadcast=broadcast)
        return found

    async def file(self, phone: str, opened: Opened, comment: str) -> bool:
        """A customer's file in the card's thread, with `comment` as its line (Slack's
        three-step upload: an upload URL, the bytes, then sharing it in the thread)."""
        found = await self._card(phone, None)
        if found is None:
            return False
        current = found
        step1 = await self.api.call("files.getUploadURLExternal", filename=opened.filename,
                                    length=opened.size)
        await self.api.upload(str(step1["upload_url"]), opened.chunks, opened.size)
        await self.api.call("files.completeUploadExternal",
                            files=[{"id": step1["file_id"], "title": opened.filename}],
                            channel_id=current.channel, thread_ts=current.ts,
                            initial_comment=comment)
        return True

    async def remind(self, phone: str, attendant: str, text: str) -> None:
        """Ephemeral to the holder in the card's thread, else a direct message; a holder who
        is not a Slack user gets the line in the thread."""
        found = await self._card(phone, None)
        if found is None:
            return
        user = await self.identities.user_id(attendant)
        if user is None:
            await self._line(found, text)
            return
        try:
            await self.api.call("chat.postEphemeral", channel=found.channel, user=user,
                                thread_ts=found.ts, text=text)
        except SlackError as exc:
            log.info("slack_reminder_dm", extra={"phone": phone, "user": user,
                                                 "error": exc.error})
            await self.api.call("chat.postMessage", channel=user, text=text)

    async def _card(self, phone: str, event: Event | None) -> Card | None:
        """The card of `event`'s episode (any current card for a line), posting it if none."""
        if not self.channel:
            return None
        session = await self.manager.get(phone)
        if session is None:
            return None
        current = Card.of(session)
        if current is not None and event is None:
            return current
        history = await self.manager.history(phone) or []
        episode = episode_of(history, event)
        if current is not None and not _older(current.episode, episode):
            return current
        return await self._post(session, history, episode)

    async def _post(self, session: Session, history: list[Event], episode: str) -> Card:
        view = await self._view(session, history)
        text, blocks = card(view)
        data = await self.api.call("chat.postMessage", channel=self.channel, text=text,
                                   blocks=blocks)
        posted = Card(str(data.get("channel") or self.channel), str(data["ts"]), episode)
        await self.manager.update_metadata(session.phone, {CARD_KEY: posted.to_json()})
        await self.ledger.put(thread_key(posted.channel, posted.ts), session.phone, THREAD_TTL)
        self._remember(posted.ts, view.key())
        log.info("slack_card_posted", extra={"phone": session.phone, "slack_ts": posted.ts})
        return posted

    async def summary_line(self, summary: dict[str, Any]) -> str:
        who = await self.identities.mention(summary.get("attendant")) or texts.SLACK_LINE_NOBODY
        return texts.THREAD_SUMMARY.format(
            who=who, duration=replies.duration(float(summary.get("seconds") or 0)),
            customer=summary.get("customer_messages", 0),
            attendant=summary.get("attendant_messages", 0))

    async def _refresh(self, phone: str, current: Card) -> Card:
        """Redraw the card from the session as it is now, until what is shown is current.

        A card someone deleted is posted again. Returns the card in effect.
        """
        for _ in range(3):
            session = await self.manager.get(phone)
            if session is None or Card.of(session) != current:
                return current
            history = await self.manager.history(phone) or []
            view = await self._view(session, history)
            if self._shown.get(current.ts) == view.key():
                return current
            text, blocks = card(view)
            try:
                await self.api.call("chat.update", channel=current.channel, ts=current.ts,
                                    text=text, blocks=blocks)
            except SlackError as exc:
                if exc.error != "message_not_found":
                    raise
                log.warning("slack_card_gone", extra={"phone": phone, "slack_ts": current.ts})
                current = await self._post(session, history, current.episode)
                continue
            self._remember(current.ts, view.key())
        return current

    async def _view(self, session: Session, history: list[Event]) -> CardView:
        # The history also holds events that change no mode (pages, reminders): skip them.
        last = next((e for e in reversed(history) if e.to_mode is not None), None)
        holder = await self.identities.mention(session.human_attendant)
        actor = None
        if session.mode is Mode.AGENT and last is not None:
            actor = await self.identities.mention(last.actor)
        recent = await self.manager.recent_texts(session.phone)
        now = self.manager.clock()
        opens = None
        if self.hours is not None and session.mode is Mode.PAUSED and not self.hours.is_open(now):
            found = self.hours.next_opening(now)
            opens = found.at.timestamp() if found else None
        return CardView(session, last, holder, actor, recent, now, self.templates, opens)

    async def _line(self, current: Card, text: str, *, broadcast: bool = False) -> None:
        params: dict[str, Any] = {"channel": current.channel, "thread_ts": current.ts,
                                  "text": text}
        if broadcast:
            params["reply_broadcast"] = True
        await self.api.call("chat.postMessage", **params)

    def _remember(self, ts: str, key: tuple[Any, ...]) -> None:
        self._shown[ts] = key
        if len(self._shown) > _SHOWN_MAX:
            self._shown.pop(next(iter(self._shown)))
