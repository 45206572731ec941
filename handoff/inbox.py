"""A durable work queue for inbound webhook items, with at-least-once delivery to workers.

The webhook answers 200 only after `put_once` returned, so what Meta handed over is kept
even if this process dies a moment later. Workers `take` entries, `ack` them when done, and
`touch` the ones they are still working on; an entry left unacknowledged longer than
`reclaim_after` (its worker died, or failed) is handed to the next `take`, in any process
sharing the backend. `put_once` drops a repeat of a key already queued, atomically with the
append, so each webhook item is queued at most once however often Meta retries it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One queued item: its id in the queue, its JSON body, how often it was handed out."""

    id: str
    body: dict[str, Any]
    deliveries: int = 1


class Inbox(ABC):
    """The queue interface; `take` hands out stale entries first, then new ones."""

    kind: str

    @abstractmethod
    async def put_once(self, key: str, body: dict[str, Any], ttl: float | None) -> bool:
        """Queue `body` unless `key` was queued before (until `ttl`); False for a repeat."""

    @abstractmethod
    async def take(self, consumer: str, count: int, block: float,
                   reclaim_after: float) -> list[Entry]:
        """Up to `count` entries for `consumer`, waiting up to `block` seconds for one."""

    @abstractmethod
    async def touch(self, consumer: str, ids: Sequence[str]) -> None:
        """Mark entries as still being worked on, so nobody reclaims them."""

    @abstractmethod
    async def ack(self, entry_id: str) -> None:
        """The entry is done; it is never handed out again."""

    async def prepare(self) -> None:
        """Create what the backend needs before the first `take` (Redis: the group)."""
        return None

    async def leave(self, consumer: str) -> None:
        """A consumer shutting down forgets its name if it holds nothing (Redis keeps names)."""
        return None


@dataclass
class _Pending:
    body: dict[str, Any]
    consumer: str
    since: float
    deliveries: int


class MemoryInbox(Inbox):
    """The same semantics in process memory, for the in-memory store (lost on restart)."""

    kind = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self._new: deque[tuple[str, dict[str, Any]]] = deque()
        self._pending: dict[str, _Pending] = {}
        self._keys: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._clock = clock
        self._wall = wall
        self._arrived: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    async def put_once(self, key: str, body: dict[str, Any], ttl: float | None) -> bool:
        now = self._wall()
        expires = self._keys.get(key)
        if expires is not None and expires > now:
            return False
        if len(self._keys) > 50_000:
            self._keys = {k: v for k, v in self._keys.items() if v > now}
        self._keys[key] = now + ttl if ttl else float("inf")
        self._new.append((str(next(self._ids)), body))
        self._event().set()
        return True

    async def take(self, consumer: str, count: int, block: float,
                   reclaim_after: float) -> list[Entry]:
        out = self._reclaim(consumer, count, reclaim_after)
        if not out and not self._new and block > 0:
            event = self._event()
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), block)
            except TimeoutError:
                pass
        now = self._clock()
        while self._new and len(out) < count:
            entry_id, body = self._new.popleft()
            self._pending[entry_id] = _Pending(body, consumer, now, 1)
            out.append(Entry(entry_id, body, 1))
        return out

    def _reclaim(self, consumer: str, count: int, reclaim_after: float) -> list[Entry]:
        now = self._clock()
        out: list[Entry] = []
        for entry_id, p in self._pending.items():
            if len(out) >= count:
                break
            if now - p.since >= reclaim_after:
                p.consumer, p.since, p.deliveries = consumer, now, p.deliveries + 1
                out.append(Entry(entry_id, p.body, p.deliveries))
        return out

    async def touch(self, consumer: str, ids: Sequence[str]) -> None:
        now = self._clock()
        for entry_id in ids:
            p = self._pending.get(entry_id)
            if p is not None:
                p.consumer, p.since = consumer, now

    async def ack(self, entry_id: str) -> None:
        self._pending.pop(entry_id, None)

    def __len__(self) -> int:
        """Entries queued or pending: what is not done yet."""
        return len(self._new) + len(self._pending)
