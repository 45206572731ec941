"""The inbox on a Redis Stream with a consumer group, so every process shares one queue.

`put_once` is one Lua script (`SET NX` on the item's key, then `XADD`), so a repeat is
dropped and a first delivery is queued in the same atomic step. Workers read with
`XREADGROUP`; an entry whose worker died stays in the group's pending list and is taken over
with `XAUTOCLAIM` once idle longer than `reclaim_after`. Acknowledged entries are deleted,
so the stream holds only unfinished work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from handoff.cancel import raise_if_cancelled
from handoff.inbox import Entry, Inbox
from handoff.store.base import StoreUnavailable

_PUT_ONCE = """
local ok
if ARGV[1] == '0' then
  ok = redis.call('SET', KEYS[1], '1', 'NX')
else
  ok = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1])
end
if not ok then return false end
return redis.call('XADD', KEYS[2], '*', 'b', ARGV[2])
"""


@contextmanager
def reachable() -> Iterator[None]:
    """Turn Redis connection failures into `StoreUnavailable` (the webhook answers 503)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise_if_cancelled()
        raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
    raise_if_cancelled()


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


class RedisInbox(Inbox):
    """One stream (`{prefix}wa:inbox`) and one group (`workers`) shared by all processes."""

    kind = "redis"

    def __init__(self, client: aioredis.Redis, prefix: str = "handoff:",
                 name: str = "wa:inbox", group: str = "workers") -> None:
        self.redis = client
        self.prefix = prefix
        self.stream = f"{prefix}{name}"
        self.group = group
        self._put_once = client.register_script(_PUT_ONCE)
        self._cursor = "0-0"

    async def prepare(self) -> None:
        with reachable():
            try:
                await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def leave(self, consumer: str) -> None:
        with reachable():
            held = await self.redis.xpending_range(self.stream, self.group, min="-", max="+",
                                                   count=1, consumername=consumer)
            if not held:
                await self.redis.xgroup_delconsumer(self.stream, self.group, consumer)

    async def put_once(self, key: str, body: dict[str, Any], ttl: float | None) -> bool:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        with reachable():
            added = await self._put_once(keys=[f"{self.prefix}c:{key}", self.stream],
                                         args=[str(_ms(ttl or 0)), data])
        return added is not None

    async def take(self, consumer: str, count: int, block: float,
                   reclaim_after: float) -> list[Entry]:
        with reachable():
            try:
                out = await self._reclaim(consumer, count, reclaim_after)
                if out:
                    return out
                found = await self.redis.xreadgroup(
                    self.group, consumer, {self.stream: ">"}, count=count,
                    block=_ms(block) or None)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis lost the stream (restarted without persistence): start it again.
                await self.prepare()
                return []
        return [Entry(entry_id, _body(fields), 1) for entry_id, fields in _messages(found)]

    async def _reclaim(self, consumer: str, count: int, reclaim_after: float) -> list[Entry]:
        reply = await self.redis.xautoclaim(self.stream, self.group, consumer,
                                            _ms(reclaim_after), start_id=self._cursor,
                                            count=count)
        self._cursor = reply[0]
        gone = reply[2] if len(reply) > 2 else []
        if gone:
            await self.redis.xack(self.stream, self.group, *gone)
        out = []
        for entry_id, fields in reply[1]:
            if fields is None:
                continue
            pending = await self.redis.xpending_range(self.stream, self.group, min=entry_id,
                                                      max=entry_id, count=1)
            deliveries = int(pending[0]["times_delivered"]) if pending else 1
            out.append(Entry(entry_id, _body(fields), deliveries))
        return out

    async def touch(self, consumer: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        with reachable():
            await self.redis.xclaim(self.stream, self.group, consumer, 0, list(ids),
                                    justid=True)

    async def ack(self, entry_id: str) -> None:
        with reachable():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(self.stream, self.group, entry_id)
                pipe.xdel(self.stream, entry_id)
                await pipe.execute()


def _messages(found: Any) -> list[tuple[str, dict[str, str]]]:
    """XREADGROUP's answer, RESP2 (list of [stream, entries]) or RESP3 (dict) alike."""
    if not found:
        return []
    groups = found.values() if isinstance(found, dict) else [g[1] for g in found]
    out: list[tuple[str, dict[str, str]]] = []
    for entries in groups:
        for item in entries:
            if isinstance(item, list | tuple) and len(item) == 2 and item[1] is not None:
                out.append((item[0], item[1]))
    return out


def _body(fields: dict[str, str]) -> dict[str, Any]:
    data = json.loads(fields.get("b", "{}"))
    return data if isinstance(data, dict) else {}
