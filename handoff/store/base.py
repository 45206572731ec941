"""The interface every store gives the manager: each method is one atomic transition."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handoff.events import DomainEvent
from handoff.machine import Inbound, Step
from handoff.model import Event, Line, Mode, Session
from handoff.outbox import Outbox

#: WhatsApp's customer-service window: agent sessions count as active this long.
ACTIVE_WINDOW_SECONDS = 24 * 3600
#: How many of a customer's last texts are kept (the Slack card shows them).
RECENT_TEXTS = 5
#: How many transcript lines a session keeps unless configured otherwise.
TRANSCRIPT_MAX = 500


@dataclass(frozen=True)
class Said:
    """A transcript line to add (the store numbers it)."""

    at: float
    sender: str
    text: str
    attendant: str | None = None
    media: dict[str, Any] | None = None


class StoreUnavailable(Exception):
    """The store cannot be reached; callers answer 503 so the sender retries."""


class SessionStore(ABC):
    """Sessions, their histories and the outbox of their events.

    Every mutating method is atomic: any number of callers, in any number of processes
    sharing one backend, see each transition happen once and whole, together with the events
    it appends to `outbox` (no event without its change, no change without its events).
    """

    kind: str
    outbox: Outbox

    @abstractmethod
    async def ingest(self, msg: Inbound, now: float) -> Step:
        """Record a message (deduped by `message_id`) and return the webhook's reason."""

    @abstractmethod
    async def takeover(self, phone: str, attendant: str, force: bool, now: float,
                       source: str) -> Step: ...

    @abstractmethod
    async def release(self, phone: str, attendant: str | None, force: bool, now: float,
                      source: str, idle_before: float | None = None) -> Step: ...

    @abstractmethod
    async def pause(self, phone: str, actor: str | None, force: bool, now: float,
                    source: str) -> Step: ...

    @abstractmethod
    async def transfer(self, phone: str, to: str, actor: str, expected: str | None,
                       force: bool, now: float, source: str) -> Step:
        """Pass a held conversation to `to` (see `machine.transfer`)."""

    @abstractmethod
    async def count_by_mode(self, now: float) -> dict[Mode, int]:
        """How many sessions `list_active` would show, per mode (for the metrics gauges)."""

    @abstractmethod
    async def get(self, phone: str) -> Session | None: ...

    @abstractmethod
    async def recent_texts(self, phone: str) -> list[str]:
        """The customer's last few texts, oldest first (kept by `ingest`)."""

    @abstractmethod
    async def list_active(self, now: float, mode: Mode | None = None) -> list[Session]:
        """Human and paused sessions, and agent ones whose customer wrote in the window."""

    @abstractmethod
    async def history(self, phone: str) -> list[Event] | None:
        """The session's events, oldest first; None for an unknown phone."""

    @abstractmethod
    async def update_metadata(self, phone: str, metadata: dict[str, Any], now: float,
                              events: Sequence[DomainEvent] = ()) -> Session | None: ...

    @abstractmethod
    async def record(self, phone: str, line: Event | None,
                     events: Sequence[DomainEvent] = (), *,
                     claim: tuple[str, float] | None = None,
                     said: Sequence[Said] = ()) -> bool:
        """A history line that is not a mode change, events, and transcript lines (`said`),
        for a known session, in one step.

        With `claim` (key, ttl) it happens only for the first caller to claim the key: an
        alert is raised once across processes. False when nothing was written.
        """

    @abstractmethod
    async def transcript(self, phone: str, limit: int, before: int | None = None
                         ) -> list[Line] | None:
        """Up to `limit` lines numbered below `before` (any, if None), oldest first; None for
        an unknown phone. Messages are added by `ingest` in the same step."""

    @abstractmethod
    async def mark_recent(self, group: str, member: str, now: float, limit: int) -> None:
        """Remember `member` in `group` as seen at `now`, keeping only the `limit` latest."""

    @abstractmethod
    async def recent_members(self, group: str, since: float) -> list[str]:
        """The members of `group` seen at or after `since`."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise `StoreUnavailable` when the backend cannot be reached."""

    async def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release connections; the memory store has none."""
