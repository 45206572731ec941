"""The outbox on Redis Streams: `{prefix}ob:{shard}`, written by the store's Lua scripts.

Each consumer group reads a shard as the consumer named after the shard (`s{n}`), and only
the process holding that shard's lease reads it; a process that takes a shard over first
reads the consumer's pending entries (`XREADGROUP … 0`), which its dead predecessor was handed
and never acknowledged. Entries carry `k` (the event's kind), `p` (the phone) and `d` (the
event's other fields as JSON). `trim` drops what every group has acknowledged (`XTRIM MINID`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from handoff.events import UnknownEvent, decode
from handoff.outbox import DEFAULT_SHARDS, Envelope, GroupStats, Outbox, OutboxStats
from handoff.store.redis_inbox import reachable

log = logging.getLogger("handoff.outbox")


def consumer(shard: int) -> str:
    return f"s{shard}"


def _after(entry_id: str) -> str:
    """The smallest stream id greater than `entry_id`."""
    ms, _, seq = entry_id.partition("-")
    return f"{ms}-{int(seq or 0) + 1}"


def _older(a: str, b: str) -> bool:
    ams, _, aseq = a.partition("-")
    bms, _, bseq = b.partition("-")
    return (int(ams), int(aseq or 0)) < (int(bms), int(bseq or 0))


class RedisOutbox(Outbox):
    """Shards are streams; groups are Redis consumer groups created at start."""

    def __init__(self, client: aioredis.Redis, prefix: str = "handoff:",
                 shards: int = DEFAULT_SHARDS) -> None:
        self.redis = client
        self.prefix = prefix
        self.shards = shards
        self._groups: list[str] = []

    def stream(self, shard: int) -> str:
        return f"{self.prefix}ob:{shard}"

    def stream_for(self, phone: str) -> str:
        """The stream a transition of `phone` appends to (the store passes it as a key)."""
        return self.stream(self.shard_of(phone))

    async def prepare(self, groups: Sequence[str]) -> None:
        self._groups = list(dict.fromkeys([*self._groups, *groups]))
        with reachable():
            for shard in range(self.shards):
                for group in groups:
                    try:
                        await self.redis.xgroup_create(self.stream(shard), group, id="0",
                                                       mkstream=True)
                    except ResponseError as exc:
                        if "BUSYGROUP" not in str(exc):
                            raise

    async def _read(self, group: str, shard: int, start: str, count: int,
                    block: float | None) -> list[Envelope]:
        with reachable():
            try:
                found = await self.redis.xreadgroup(
                    group, consumer(shard), {self.stream(shard): start}, count=count,
                    block=max(1, int(block * 1000)) if block else None)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis lost the stream (restarted without persistence): start it again.
                await self.prepare([group])
                return []
            out, unreadable = self._envelopes(group, shard, found)
            for entry_id in unreadable:  # acked, or the stream could never be trimmed
                await self.redis.xack(self.stream(shard), group, entry_id)
        return out

    def _envelopes(self, group: str, shard: int, found: Any
                   ) -> tuple[list[Envelope], list[str]]:
        if not found:
            return [], []
        streams = found.values() if isinstance(found, dict) else [s[1] for s in found]
        out: list[Envelope] = []
        unreadable: list[str] = []
        for entries in streams:
            for item in entries:
                if isinstance(item, dict):
                    continue
                entry_id, fields = item[0], item[1]
                if not fields:
                    unreadable.append(entry_id)  # deleted while pending: nothing to deliver
                    continue
                try:
                    event = decode(fields.get("k", ""), fields.get("p", ""), fields.get("d", ""))
                except (UnknownEvent, ValueError, TypeError) as exc:
                    log.error("outbox_entry_unreadable", extra={
                        "group": group, "shard": shard, "entry": entry_id, "error": repr(exc)})
                    unreadable.append(entry_id)
                    continue
                out.append(Envelope(entry_id, event))
        return out, unreadable

    async def pending(self, group: str, shard: int, after: str | None,
                      count: int) -> list[Envelope]:
        return await self._read(group, shard, after or "0", count, None)

    async def read(self, group: str, shard: int, count: int, block: float) -> list[Envelope]:
        return await self._read(group, shard, ">", count, block)

    async def ack(self, group: str, shard: int, entry_id: str) -> None:
        with reachable():
            await self.redis.xack(self.stream(shard), group, entry_id)

    async def _low_water(self, shard: int) -> str | None:
        """The oldest id some group still needs; None when no group exists yet."""
        stream = self.stream(shard)
        groups = await self.redis.xinfo_groups(stream)
        low: str | None = None
        for g in groups:
            name = str(g.get("name"))
            need = _after(str(g.get("last-delivered-id") or "0-0"))
            if int(g.get("pending") or 0) > 0:
                summary = await self.redis.xpending(stream, name)
                oldest = summary.get("min") if isinstance(summary, dict) else None
                if oldest:
                    need = str(oldest)
            if low is None or _older(need, low):
                low = need
        return low

    async def trim(self) -> int:
        dropped = 0
        with reachable():
            for shard in range(self.shards):
                try:
                    low = await self._low_water(shard)
                except ResponseError:
                    continue  # no stream yet
                if low is not None:
                    dropped += int(await self.redis.xtrim(self.stream(shard), minid=low,
                                                          approximate=False))
        return dropped

    async def stats(self) -> OutboxStats:
        length = 0
        groups: dict[str, GroupStats] = {}
        with reachable():
            for shard in range(self.shards):
                stream = self.stream(shard)
                try:
                    length += int(await self.redis.xlen(stream))
                    found = await self.redis.xinfo_groups(stream)
                except ResponseError:
                    continue
                for g in found:
                    name = str(g.get("name"))
                    had = groups.get(name, GroupStats(0, 0))
                    groups[name] = GroupStats(had.lag + int(g.get("lag") or 0),
                                              had.pending + int(g.get("pending") or 0))
        return OutboxStats(length, groups)
