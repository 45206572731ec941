"""Applies a consumer group's outbox events: at least once, once per target, in order.

A `Dispatcher` serves one consumer group (the Slack adapter, the customer sender, metrics).
Adapters subscribe by event type (`on(ModeChanged, "card", handler)`). Every shard of the
outbox is read by one process at a time, the holder of the shard's lease; the lease is
renewed every third of its life, so a process that dies (or stops) leaves its shards to a
live one within seconds, and the new holder first re-reads what the old one was handed and
never acknowledged. Processes share the shards fairly: each counts the live processes of its
group and holds at most its share, handing extra shards over once their events in hand are
applied (so two processes never apply one conversation's events at once). Within a process,
each conversation has a lane: its events are applied one after another, in the order written;
different conversations proceed side by side.

A target that fails is retried, with backoff, before the conversation's next event (order
matters more than speed: a card must not show "released" before "taken"), and given up after
`give_up_after` with an error in the log. A target that succeeded is marked done
(`outbox:{group}:{shard}:{id}:{target}`), so a redelivery after a crash does not repeat it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from handoff.cancel import raise_if_cancelled
from handoff.coordination import Claims
from handoff.events import DomainEvent
from handoff.outbox import Envelope, Outbox

log = logging.getLogger("handoff.outbox")

E = TypeVar("E", bound=DomainEvent)


def process_name() -> str:
    """Unique per process start: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Tuning:
    """How a dispatcher paces itself; the defaults suit production, tests shorten them."""

    lease_ttl: float = 6.0
    batch: int = 64
    block: float = 1.0
    max_inflight: int = 512
    retry_base: float = 0.5
    retry_cap: float = 10.0
    give_up_after: float = 3600.0
    done_ttl: float = 7 * 24 * 3600.0
    drain: float = 3.0


@dataclass(frozen=True)
class _Target:
    name: str
    handler: Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class _Item:
    shard: int
    envelope: Envelope
    #: Handed to this group for the first time: none of its targets can be done yet.
    fresh: bool = True


class Dispatcher:
    """One consumer group's reader and appliers, for as long as `run()` runs."""

    def __init__(self, group: str, outbox: Outbox, claims: Claims, *,
                 owner: str | None = None, tuning: Tuning | None = None) -> None:
        self.group = group
        self.outbox = outbox
        self.claims = claims
        self.owner = owner or process_name()
        self.tuning = tuning or Tuning()
        self._targets: dict[type[DomainEvent], list[_Target]] = {}
        self._readers: dict[int, asyncio.Task[None]] = {}
        #: Shards being handed over: no longer read, leased until their events in hand are done.
        self._releasing: dict[int, asyncio.Task[None]] = {}
        self._lanes: dict[str, deque[_Item]] = {}
        self._lane_tasks: set[asyncio.Task[None]] = set()
        self._inflight: set[tuple[int, str]] = set()
        self._space = asyncio.Event()

    def on(self, kind: type[E], target: str, handler: Callable[[E], Awaitable[None]]) -> None:
        """Apply `handler` to every event of type `kind`; `target` names it in done-keys."""
        self._targets.setdefault(kind, []).append(_Target(target, handler))

    @property
    def held(self) -> list[int]:
        """The shards this process reads now."""
        return sorted(s for s, t in self._readers.items() if not t.done())

    def _lease_key(self, shard: int) -> str:
        return f"outbox:{self.group}:{shard}"

    @property
    def _members_key(self) -> str:
        return f"outbox:{self.group}:members"

    async def _share(self) -> int:
        """How many shards this process may hold: an equal part among the live processes."""
        try:
            alive = await self.claims.members(self._members_key, self.owner,
                                              self.tuning.lease_ttl)
        except Exception as exc:
            log.warning("outbox_members_failed", extra={"group": self.group,
                                                        "error": repr(exc)})
            return len(self._readers)  # hold what we have, take nothing new
        return math.ceil(self.outbox.shards / max(1, len(alive)))

    async def run(self) -> None:
        """Hold what shards can be held and apply their events, until cancelled."""
        try:
            await self._prepare()
            while True:
                await self._renew()
                await asyncio.sleep(self.tuning.lease_ttl / 3)
                raise_if_cancelled()
        finally:
            await self._stop()

    async def _prepare(self) -> None:
        delay = self.tuning.retry_base
        while True:
            try:
                await self.outbox.prepare([self.group])
                return
            except Exception as exc:
                log.warning("outbox_prepare_failed", extra={"group": self.group,
                                                            "error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.tuning.retry_cap)

    async def _renew(self) -> None:
        share = await self._share()
        for shard in range(self.outbox.shards):
            if (shard not in self._readers and shard not in self._releasing
                    and len(self._readers) >= share):
                continue  # our share is full: the shard is another process's to take
            try:
                mine = await self.claims.lease(self._lease_key(shard), self.owner,
                                               self.tuning.lease_ttl)
            except Exception as exc:
                log.warning("outbox_lease_failed", extra={"group": self.group, "shard": shard,
                                                          "error": repr(exc)})
                continue  # keep reading what we hold: the lease outlives a short outage
            if shard in self._releasing:
                continue
            reader = self._readers.get(shard)
            if mine and (reader is None or reader.done()):
                self._readers[shard] = asyncio.create_task(
                    self._read(shard), name=f"outbox-{self.group}-{shard}")
            elif not mine and reader is not None:
                log.warning("outbox_shard_lost", extra={"group": self.group, "shard": shard})
                reader.cancel()
                del self._readers[shard]
        await self._hand_over(share)

    async def _hand_over(self, share: int) -> None:
        """Stop reading the shards over our share (another process joined), and give each up
        once the events already in hand from it are applied."""
        for shard in sorted(self._readers, reverse=True)[:max(0, len(self._readers) - share)]:
            log.info("outbox_shard_handed_over", extra={"group": self.group, "shard": shard})
            reader = self._releasing[shard] = self._readers.pop(shard)
            reader.cancel()
        for shard, reader in list(self._releasing.items()):
            if reader.done() and not any(s == shard for s, _ in self._inflight):
                with contextlib.suppress(Exception):
                    await self.claims.unlease(self._lease_key(shard), self.owner)
                del self._releasing[shard]

    async def _stop(self) -> None:
        readers = [*self._readers.values(), *self._releasing.values()]
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        if self._lane_tasks:
            _, stuck = await asyncio.wait(set(self._lane_tasks), timeout=self.tuning.drain)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        for shard in [*self._readers, *self._releasing]:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await self.claims.unlease(self._lease_key(shard), self.owner)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1):
                await self.claims.leave(self._members_key, self.owner)
        self._readers.clear()
        self._releasing.clear()

    async def _read(self, shard: int) -> None:
        """Read one shard while its lease is held: first what a dead holder left, then news."""
        failures = 0
        after: str | None = None
        recovering = True
        while True:
            raise_if_cancelled()
            try:
                if recovering:
                    found = await self.outbox.pending(self.group, shard, after,
                                                      self.tuning.batch)
                    if not found:
                        recovering = False
                        continue
                    after = found[-1].id
                else:
                    await self._room()
                    room = self.tuning.max_inflight - len(self._inflight)
                    found = await self.outbox.read(self.group, shard,
                                                   min(self.tuning.batch, room),
                                                   self.tuning.block)
            except Exception as exc:
                failures += 1
                wait = min(self.tuning.retry_cap, self.tuning.retry_base * 2 ** failures)
                log.warning("outbox_read_failed", extra={"group": self.group, "shard": shard,
                                                         "error": repr(exc), "wait": wait})
                await asyncio.sleep(wait)
                continue
            failures = 0
            for envelope in found:
                self._dispatch(_Item(shard, envelope, fresh=not recovering))

    async def _room(self) -> None:
        while len(self._inflight) >= self.tuning.max_inflight:
            self._space.clear()
            await self._space.wait()

    def _dispatch(self, item: _Item) -> None:
        key = (item.shard, item.envelope.id)
        if key in self._inflight:
            return  # already in a lane here (re-read after the shard's lease came back)
        self._inflight.add(key)
        phone = item.envelope.event.phone
        lane = self._lanes.get(phone)
        if lane is None:
            lane = self._lanes[phone] = deque()
            task = asyncio.create_task(self._drain(phone, lane), name="outbox-lane")
            self._lane_tasks.add(task)
            task.add_done_callback(self._lane_tasks.discard)
        lane.append(item)

    async def _drain(self, phone: str, lane: deque[_Item]) -> None:
        try:
            while lane:
                item = lane.popleft()
                try:
                    await self._apply(item)
                finally:
                    self._inflight.discard((item.shard, item.envelope.id))
                    self._space.set()
        finally:
            self._lanes.pop(phone, None)

    async def _apply(self, item: _Item) -> None:
        event, entry_id = item.envelope.event, item.envelope.id
        for target in self._targets.get(type(event), []):
            done = f"outbox:{self.group}:{item.shard}:{entry_id}:{target.name}"
            if not item.fresh and await self._persist(partial(self.claims.exists, done),
                                                      event, "done?"):
                continue
            applied = await self._persist(partial(target.handler, event), event, target.name,
                                          give_up=True)
            if applied is not _GAVE_UP:
                await self._persist(partial(self.claims.claim, done, self.tuning.done_ttl),
                                    event, "done")
        await self._persist(partial(self.outbox.ack, self.group, item.shard, entry_id), event,
                            "ack")

    async def _persist(self, call: Callable[[], Awaitable[Any]], event: DomainEvent,
                       what: str, give_up: bool = False) -> Any:
        """`call()` until it succeeds; with `give_up`, at most `give_up_after` seconds."""
        started = time.monotonic()
        delay = self.tuning.retry_base
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except Exception as exc:
                raise_if_cancelled()
                context = {"group": self.group, "target": what, "phone": event.phone,
                           "kind": event.kind, "attempt": attempt, "error": repr(exc)}
                if give_up and time.monotonic() - started >= self.tuning.give_up_after:
                    log.error("outbox_gave_up", extra=context)
                    return _GAVE_UP
                log.warning("outbox_retry", extra={**context, "wait": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.tuning.retry_cap)


_GAVE_UP = object()


async def keep_trimmed(outbox: Outbox, every: float = 5.0) -> None:
    """Drop what every group has acknowledged, every `every` seconds, until cancelled."""
    while True:
        try:
            dropped = await outbox.trim()
            if dropped:
                log.debug("outbox_trimmed", extra={"dropped": dropped})
        except Exception as exc:
            log.warning("outbox_trim_failed", extra={"error": repr(exc)})
        raise_if_cancelled()
        await asyncio.sleep(every)
