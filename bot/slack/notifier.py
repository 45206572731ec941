"""Keeps each session's Slack card true: one card per episode, updated on every mode change.

An episode runs from the change that takes a session out of `agent` mode to the release that
hands it back; its card is posted once — across processes, by whoever claims
`slack:card:{phone}:{episode}` in the store — and its channel and ts are kept on the session
(`metadata.slack_card`). Listeners only schedule work; everything here runs in the background.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.background import Background
from bot.slack.cards import CardView, card, change_line
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities
from handoff import texts
from handoff.ledger import Ledger
from handoff.manager import Change, Notice, SessionManager
from handoff.model import Event, Mode, Session
from handoff.summary import SUMMARY_KEY

log = logging.getLogger("handoff.slack")

CARD_KEY = "slack_card"
#: How long a card's thread keeps answering for its customer (thread → phone in the ledger).
THREAD_TTL = 30 * 24 * 3600.0


def thread_key(channel: str, ts: str) -> str:
    return f"slack:thread:{channel}:{ts}"
_SHOWN_MAX = 2048


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


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class CardNotifier:
    """Manager listener: posts, updates and threads the escalation cards."""

    def __init__(self, manager: SessionManager, api: SlackApi, identities: Identities,
                 background: Background, channel: str | None, *,
                 claim_ttl: float = 7 * 24 * 3600, wait_attempts: int = 12,
                 ledger: Ledger | None = None) -> None:
        self.manager = manager
        self.api = api
        self.identities = identities
        self.background = background
        self.channel = channel
        self.claim_ttl = claim_ttl
        self.wait_attempts = wait_attempts
        self.ledger = ledger
        self._locks = KeyedLocks()
        self._claimed: set[str] = set()
        self._shown: dict[str, tuple[Any, ...]] = {}
        if not channel:
            log.warning("slack_no_channel", extra={"detail": texts.SLACK_NO_CHANNEL})

    def on_change(self, change: Change) -> None:
        self.background.spawn(self.sync(change), name="slack_card", phone=change.session.phone)

    def on_notice(self, notice: Notice) -> None:
        """Notices with text become thread lines (delivery reports have none: reactions)."""
        if notice.text:
            self.background.spawn(self.notice(notice), name="slack_notice",
                                  phone=notice.phone)

    async def sync(self, change: Change) -> None:
        """Bring the card up to date with `change` and say it in the thread."""
        phone = change.session.phone
        async with self._locks(phone):
            try:
                found = await self._card(phone, change.event)
                if found is None:
                    return
                current, posted = found
                current = await self._refresh(phone, current)
                if not posted:
                    who = await self.identities.mention(change.event.actor)
                    await self._line(current, change_line(change.event, who))
                summary = change.session.metadata.get(SUMMARY_KEY)
                if change.event.event in ("release", "auto_release") and \
                        isinstance(summary, dict):
                    await self._line(current, await self._summary_line(summary))
            except SlackError as exc:
                log.error("slack_card_failed", extra={"phone": phone, "error": exc.error})

    async def notice(self, notice: Notice) -> None:
        """A line in the session's card thread (the card is created first if need be);
        a reminder goes to the attendant alone."""
        async with self._locks(notice.phone):
            try:
                found = await self._card(notice.phone, None)
                if found is None:
                    return
                attendant = notice.detail.get("attendant")
                if notice.kind == "reminder" and isinstance(attendant, str) and \
                        await self._remind(found[0], attendant, notice.text):
                    return
                await self._line(found[0], notice.text,
                                 broadcast=bool(notice.detail.get("broadcast")))
            except SlackError as exc:
                log.error("slack_notice_failed", extra={"phone": notice.phone,
                                                        "kind": notice.kind, "error": exc.error})

    async def _card(self, phone: str, event: Event | None) -> tuple[Card, bool] | None:
        """The card of `event`'s episode (any current card for a notice), posting it if none.

        Returns the card and whether this call posted it.
        """
        if not self.channel:
            return None
        session = await self.manager.get(phone)
        if session is None:
            return None
        current = Card.of(session)
        if current is not None and event is None:
            return current, False
        history = await self.manager.history(phone) or []
        episode = episode_of(history, event)
        if current is not None and not _older(current.episode, episode):
            return current, False
        key = f"slack:card:{phone}:{episode}"
        if key in self._claimed or await self.manager.store.claim(key, self.claim_ttl):
            # Kept until posted: a later change in this process retries a failed post.
            self._claimed.add(key)
            posted = await self._post(session, history, episode)
            self._claimed.discard(key)
            return posted, True
        waited = await self._wait_for(phone, episode)
        return (waited, False) if waited is not None else None

    async def _post(self, session: Session, history: list[Event], episode: str) -> Card:
        view = await self._view(session, history)
        text, blocks = card(view)
        data = await self.api.call("chat.postMessage", channel=self.channel, text=text,
                                   blocks=blocks)
        posted = Card(str(data.get("channel") or self.channel), str(data["ts"]), episode)
        await self.manager.update_metadata(session.phone, {CARD_KEY: posted.to_json()})
        if self.ledger is not None:
            await self.ledger.put(thread_key(posted.channel, posted.ts), session.phone,
                                  THREAD_TTL)
        self._remember(posted.ts, view.key())
        log.info("slack_card_posted", extra={"phone": session.phone, "ts": posted.ts})
        return posted

    async def _summary_line(self, summary: dict[str, Any]) -> str:
        who = await self.identities.mention(summary.get("attendant")) or texts.SLACK_LINE_NOBODY
        return texts.THREAD_SUMMARY.format(
            who=who, duration=texts.duration(float(summary.get("seconds") or 0)),
            customer=summary.get("customer_messages", 0),
            attendant=summary.get("attendant_messages", 0))

    async def _wait_for(self, phone: str, episode: str) -> Card | None:
        """Another process claimed the card: wait (bounded) for it to appear on the session."""
        delay = 0.05
        for _ in range(self.wait_attempts):
            await asyncio.sleep(delay)
            session = await self.manager.get(phone)
            current = Card.of(session) if session else None
            if current is not None and not _older(current.episode, episode):
                return current
            delay = min(delay * 2, 5.0)
        log.error("slack_card_missing", extra={"phone": phone, "episode": episode})
        return None

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
                log.warning("slack_card_gone", extra={"phone": phone, "ts": current.ts})
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
        return CardView(session, last, holder, actor, recent)

    async def _remind(self, current: Card, attendant: str, text: str) -> bool:
        """Ephemeral in the card's thread, else a direct message; False if not a Slack user."""
        user = await self.identities.user_id(attendant)
        if user is None:
            return False
        try:
            await self.api.call("chat.postEphemeral", channel=current.channel, user=user,
                                thread_ts=current.ts, text=text)
        except SlackError as exc:
            log.info("slack_reminder_dm", extra={"user": user, "error": exc.error})
            await self.api.call("chat.postMessage", channel=user, text=text)
        return True

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
