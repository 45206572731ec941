"""The Slack Home tab: "Conversas ativas", the dashboard's list, per user, with its buttons.

Slack shows a Home only after we publish one (`views.publish`), so it is published when a
user opens it (`app_home_opened`) and again, for the users who opened it lately, when the
list changes. Refreshes are batched: whatever changes while one round is publishing, or
within the pause between rounds, goes out in the next round, so a storm of changes costs
one `views.publish` per viewer per round and the rounds stay under Slack's Tier 4 limit.

Who opened Home lately is kept in the store (a bounded, expiring set shared by every process),
so a change made in any process refreshes every recent viewer. A Home-tab click carries no
channel nor `response_url`, so what the card would say
ephemerally is shown at the top of the clicker's Home instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot import replies
from bot.background import Background, RetryLater
from bot.slack import texts
from bot.slack.actions import SlackActions
from bot.slack.cards import RELEASE, TAKE, escape, slack_since, slack_time
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities
from handoff.manager import SessionManager
from handoff.model import Mode, Session
from handoff.store import SessionStore, StoreUnavailable

log = logging.getLogger("handoff.slack")

HOME_TAKE = "handoff_home_assumir"
HOME_RELEASE = "handoff_home_liberar"
#: A Home button does what the card's button of the same meaning does.
AS_CARD = {HOME_TAKE: TAKE, HOME_RELEASE: RELEASE}

#: Slack's limit on the blocks of one view.
MAX_BLOCKS = 100
_MAX_TEXT = 300
_MAX_NAME = 100
_TRANSIENT = (RetryLater, StoreUnavailable, aiohttp.ClientError, OSError, TimeoutError)


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class Row:
    """One session as a viewer sees it: its holder as Slack shows them, and whose it is."""

    session: Session
    holder: str | None = None
    mine: bool = False


def waiting_since(s: Session) -> float | None:
    """Since when the customer waits for a person; None when nobody owes them an answer."""
    if s.mode is Mode.AGENT:
        return None
    if s.last_customer_message is None:
        return s.paused_at if s.mode is Mode.PAUSED else None
    if s.last_human_message is not None and s.last_human_message >= s.last_customer_message:
        return None
    return s.last_customer_message


def ordered(rows: Iterable[Row]) -> list[Row]:
    """Waiting customers first, the longest wait on top; the rest keep the store's order."""
    indexed = [(waiting_since(r.session), i, r) for i, r in enumerate(rows)]
    indexed.sort(key=lambda t: (t[0] is None, t[0] or 0.0, t[1]))
    return [r for _, _, r in indexed]


def _button(label: str, action_id: str, phone: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": phone,
                              "text": {"type": "plain_text", "text": label}}
    if style:
        button["style"] = style
    return button


def _buttons(row: Row, supervisor: bool) -> list[dict[str, Any]]:
    """As the dashboard offers them; a supervisor may also release someone else's."""
    s = row.session
    out = []
    if s.mode is not Mode.HUMAN or not row.mine:
        out.append(_button(texts.SLACK_BUTTON_TAKE, HOME_TAKE, s.phone,
                           "primary" if s.mode is Mode.PAUSED else None))
    if row.mine or s.mode is Mode.PAUSED or (s.mode is Mode.HUMAN and supervisor):
        out.append(_button(texts.SLACK_BUTTON_RELEASE, HOME_RELEASE, s.phone))
    return out


def _status(row: Row) -> str:
    s = row.session
    if s.mode is Mode.AGENT:
        return texts.SLACK_HOME_AGENT
    holder = row.holder or texts.SLACK_HOME_NOBODY
    if row.mine:
        holder = texts.SLACK_HOME_YOU.format(holder=holder)
    since = waiting_since(s)
    wait = (texts.SLACK_HOME_ANSWERED if since is None
            else texts.SLACK_HOME_WAITING.format(time=slack_since(since)))
    return texts.SLACK_HOME_STATUS.format(holder=holder, wait=wait)


def _row_blocks(row: Row, supervisor: bool) -> list[dict[str, Any]]:
    s = row.session
    phone = escape(s.phone)
    name = (s.profile_name or "")[:_MAX_NAME]
    title = texts.SLACK_HOME_NAMED.format(name=escape(name), phone=phone) if name else phone
    last = " ".join((s.last_customer_text or "").split())[:_MAX_TEXT]
    text = texts.SLACK_HOME_ROW.format(
        icon=replies.MODE_EMOJI.get(s.mode.value, "❓"), name=title, status=_status(row),
        text=escape(last) if last else texts.SLACK_HOME_NO_TEXT)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "actions", "block_id": f"home:{s.phone}"[:255],
             "elements": _buttons(row, supervisor)}]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def home_view(rows: list[Row], *, now: float, notice: str | None = None,
              supervisor: bool = False) -> dict[str, Any]:
    """The Home view for one user: the ordered list, capped to Slack's 100 blocks."""
    rows = ordered(rows)
    modes = [r.session.mode for r in rows]
    waiting = sum(1 for r in rows if waiting_since(r.session) is not None)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": texts.SLACK_HOME_TITLE}},
        _context(texts.SLACK_HOME_SUMMARY.format(
            waiting=waiting, human=modes.count(Mode.HUMAN), agent=modes.count(Mode.AGENT),
            time=slack_time(now)))]
    if notice:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": notice}})
    if not rows:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": texts.SLACK_HOME_EMPTY}})
    room = MAX_BLOCKS - len(blocks)
    shown = rows if 2 * len(rows) <= room else rows[:(room - 1) // 2]
    for row in shown:
        blocks += _row_blocks(row, supervisor)
    if len(shown) < len(rows):
        blocks.append(_context(texts.SLACK_HOME_MORE.format(count=len(rows) - len(shown))))
    return {"type": "home", "blocks": blocks}


# --------------------------------------------------------------------------- who and when


class RecentUsers:
    """The users who opened Home lately, kept in the store so every process refreshes them:
    at most `limit`, each forgotten after `ttl`."""

    GROUP = "slack:home:viewers"

    def __init__(self, store: SessionStore, *, ttl: float, limit: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ttl = ttl
        self.limit = limit
        self.clock = clock

    async def touch(self, user: str) -> None:
        await self.store.mark_recent(self.GROUP, user, self.clock(), self.limit)

    async def recent(self) -> set[str]:
        return set(await self.store.recent_members(self.GROUP, self.clock() - self.ttl))


class HomeTab:
    """Publishes each viewer's Home, on opening, after their clicks, and on changes."""

    def __init__(self, manager: SessionManager, store: SessionStore, api: SlackApi,
                 identities: Identities, actions: SlackActions, background: Background,
                 supervisors: Iterable[str], *, viewers_ttl: float = 4 * 3600,
                 max_viewers: int = 200,
                 min_interval: float = 2.0, per_viewer: float = 0.7,
                 notice_ttl: float = 60.0) -> None:
        self.manager = manager
        self.api = api
        self.identities = identities
        self.actions = actions
        self.background = background
        self.supervisors = frozenset(supervisors)
        self.viewers = RecentUsers(store, ttl=viewers_ttl, limit=max_viewers)
        #: Pause between refresh rounds: at least this, and `per_viewer` per user published
        #: (0.7 s keeps rounds under ~90 `views.publish` a minute).
        self.min_interval = min_interval
        self.per_viewer = per_viewer
        self.notice_ttl = notice_ttl
        self._notices: dict[str, tuple[str, float]] = {}
        self._due: set[str] = set()
        #: Every recent viewer is due: read from the store when the round starts, so a burst
        #: of changes costs one lookup and one round, whichever process the viewers used.
        self._all_due = False
        self._running = False
        self._next_at = 0.0

    def refresh_all(self) -> None:
        """Publish every recent viewer's Home in the next round."""
        self._all_due = True
        self._start()

    def refresh(self, users: Iterable[str]) -> None:
        """Publish these users' Homes in the next round."""
        self._due.update(users)
        self._start()

    def _start(self) -> None:
        if (self._due or self._all_due) and not self._running:
            self._running = True
            self.background.spawn(self._rounds(), name="slack_home_refresh")

    async def _rounds(self) -> None:
        try:
            while self._due or self._all_due:
                if self._all_due:
                    self._all_due = False
                    self._due |= await self.viewers.recent()
                    if not self._due:
                        continue
                pause = self._next_at - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                batch, self._due = self._due, set()
                self._next_at = time.monotonic() + max(self.min_interval,
                                                       len(batch) * self.per_viewer)
                sessions = await self._sessions()
                if sessions is None:
                    continue
                for user in sorted(batch):
                    await self.publish(user, sessions)
        finally:
            self._running = False

    # ---- Slack's requests (run in the background after Bolt acked)

    async def opened(self, event: dict[str, Any]) -> None:
        """`app_home_opened`: the Home tab (not the Messages tab) of a user, published now."""
        user = event.get("user")
        if not isinstance(user, str) or not user or event.get("tab") == "messages":
            return
        await self.viewers.touch(user)
        await self.publish(user)

    async def click(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Assumir or Liberar on Home: the card's action; its answer shown on Home."""
        user = (body.get("user") or {}).get("id")
        card_action = AS_CARD.get(str(action.get("action_id")))
        if not isinstance(user, str) or not user or card_action is None:
            log.warning("slack_home_click_ignored", extra={"action": action.get("action_id")})
            return
        await self.viewers.touch(user)
        value = action.get("value")
        answer = await self.actions.press(user, card_action,
                                          value if isinstance(value, str) else None)
        if answer is not None:
            # Nothing changed (a refusal, a failure): only the answer is new, for this user.
            self._notices[user] = (answer, time.monotonic() + self.notice_ttl)
            await self.publish(user)
        # Otherwise the change itself refreshes every viewer, this one included.

    # ---- publishing

    async def _sessions(self) -> list[Session] | None:
        try:
            return await self.manager.list_active()
        except StoreUnavailable as exc:
            log.error("slack_home_failed", extra={"error": repr(exc)})
            return None

    async def publish(self, user: str, sessions: list[Session] | None = None) -> None:
        """Draw `user`'s Home from `sessions` (else the store's list now) and publish it."""
        if sessions is None:
            sessions = await self._sessions()
            if sessions is None:
                return
        try:
            view = await self._view(user, sessions)
            await self.api.call("views.publish", user_id=user, view=view)
        except SlackError as exc:
            log.error("slack_home_failed", extra={"user": user, "error": exc.error})
        except _TRANSIENT as exc:
            log.error("slack_home_failed", extra={"user": user, "error": repr(exc)})

    async def _view(self, user: str, sessions: list[Session]) -> dict[str, Any]:
        me = await self._attendant(user)
        rows = []
        for s in sessions:
            holder = await self.identities.mention(s.human_attendant)
            mine = s.mode is Mode.HUMAN and me is not None and s.human_attendant == me
            rows.append(Row(s, holder, mine))
        return home_view(rows, now=time.time(), notice=self._notice(user),
                         supervisor=user in self.supervisors)

    async def _attendant(self, user: str) -> str | None:
        """Who the viewer is to the core; unknown for now when Slack cannot say."""
        try:
            return await self.identities.attendant(user)
        except _TRANSIENT as exc:
            log.warning("slack_home_identity_unknown", extra={"user": user, "error": repr(exc)})
            return None

    def _notice(self, user: str) -> str | None:
        now = time.monotonic()
        for who in [u for u, (_, until) in self._notices.items() if until <= now]:
            del self._notices[who]
        found = self._notices.get(user)
        return found[0] if found else None
