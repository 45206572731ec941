"""The outbox: every event a store transition writes, kept until each consumer group took it.

The store appends events in the same atomic step as the change they describe (Redis: `XADD`
inside the transition's Lua script; memory: in the same synchronous step). Events are split
into `shards` by phone, so one conversation's events stay in one ordered log. Each consumer
group (the Slack adapter, the customer sender, metrics) keeps its own position and its own
pending list; a shard is read by one process at a time under a lease (`handoff.delivery`), so
a conversation's events are applied in the order written, across processes.
"""

from __future__ import annotations

import asyncio
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from handoff.events import DomainEvent

#: How many shards the outbox has unless configured otherwise.
DEFAULT_SHARDS = 4


def shard_of(phone: str, shards: int) -> int:
    """The shard a conversation's events go to: stable across processes and restarts."""
    return zlib.crc32(phone.encode()) % shards


@dataclass(frozen=True)
class Envelope:
    """One outbox entry: its id in its shard, and the event."""

    id: str
    event: DomainEvent


@dataclass(frozen=True)
class GroupStats:
    """How far a consumer group is behind: never handed out, and handed out but not acked."""

    lag: int
    pending: int


@dataclass(frozen=True)
class OutboxStats:
    length: int
    groups: dict[str, GroupStats] = field(default_factory=dict)


class Outbox(ABC):
    """Reading side of the outbox (the store writes it), shared by all processes."""

    shards: int

    def shard_of(self, phone: str) -> int:
        return shard_of(phone, self.shards)

    @abstractmethod
    async def prepare(self, groups: Sequence[str]) -> None:
        """Create the consumer groups; a new group starts at the oldest entry kept."""

    @abstractmethod
    async def pending(self, group: str, shard: int, after: str | None,
                      count: int) -> list[Envelope]:
        """Entries of `shard` handed to `group` and not acked, oldest first, after `after`.

        Read by a process that has just taken the shard's lease: its last holder may have died
        with these in hand.
        """

    @abstractmethod
    async def read(self, group: str, shard: int, count: int, block: float) -> list[Envelope]:
        """Up to `count` entries `group` has not been handed yet, waiting up to `block` s."""

    @abstractmethod
    async def ack(self, group: str, shard: int, entry_id: str) -> None: ...

    @abstractmethod
    async def trim(self) -> int:
        """Drop the entries every group has acknowledged; how many were dropped."""

    @abstractmethod
    async def stats(self) -> OutboxStats: ...


@dataclass
class _Group:
    cursor: int = 0
    pending: dict[int, Envelope] = field(default_factory=dict)
    arrived: asyncio.Event | None = None


class MemoryOutbox(Outbox):
    """The outbox in this process, for the memory store: one shard, lost on restart."""

    shards = 1

    def __init__(self) -> None:
        self._entries: list[Envelope] = []
        self._first = 0          # the sequence number of `_entries[0]`
        self._next = 0
        self._groups: dict[str, _Group] = {}

    def append(self, events: Sequence[DomainEvent]) -> None:
        """Called by the memory store inside a transition (no await, so atomic with it)."""
        for event in events:
            self._entries.append(Envelope(str(self._next), event))
            self._next += 1
        for group in self._groups.values():
            if events and group.arrived is not None:
                group.arrived.set()

    async def prepare(self, groups: Sequence[str]) -> None:
        for group in groups:
            self._groups.setdefault(group, _Group(cursor=self._first))

    def _group(self, group: str) -> _Group:
        return self._groups.setdefault(group, _Group(cursor=self._first))

    async def pending(self, group: str, shard: int, after: str | None,
                      count: int) -> list[Envelope]:
        low = int(after) if after is not None else -1
        found = sorted(seq for seq in self._group(group).pending if seq > low)
        return [self._group(group).pending[seq] for seq in found[:count]]

    async def read(self, group: str, shard: int, count: int, block: float) -> list[Envelope]:
        g = self._group(group)
        if g.cursor >= self._next and block > 0:
            arrived = g.arrived = g.arrived or asyncio.Event()
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), block)
            except TimeoutError:
                return []
        out: list[Envelope] = []
        while g.cursor < self._next and len(out) < count:
            entry = self._entries[g.cursor - self._first]
            g.pending[g.cursor] = entry
            g.cursor += 1
            out.append(entry)
        return out

    async def ack(self, group: str, shard: int, entry_id: str) -> None:
        self._group(group).pending.pop(int(entry_id), None)

    def _low_water(self) -> int | None:
        if not self._groups:
            return None
        return min(min(g.pending, default=g.cursor) for g in self._groups.values())

    async def trim(self) -> int:
        low = self._low_water()
        if low is None or low <= self._first:
            return 0
        dropped = low - self._first
        del self._entries[:dropped]
        self._first = low
        return dropped

    async def stats(self) -> OutboxStats:
        return OutboxStats(len(self._entries), {
            name: GroupStats(self._next - g.cursor, len(g.pending))
            for name, g in self._groups.items()})
