"""Claims and leases on Redis: plain keys under `{prefix}c:`, shared by every process."""

from __future__ import annotations

import redis.asyncio as aioredis

from handoff.coordination import Claims
from handoff.store.redis_inbox import reachable

_LEASE = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

_MEMBERS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""

_UNLEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisClaims(Claims):
    """`claim` is `SET NX PX`; a lease is a key holding its owner, extended by a script; a
    group's members are a sorted set scored by when each stops counting (Redis's clock)."""

    def __init__(self, client: aioredis.Redis, prefix: str = "handoff:") -> None:
        self.redis = client
        self.prefix = f"{prefix}c:"
        self._lease = client.register_script(_LEASE)
        self._unlease = client.register_script(_UNLEASE)
        self._members = client.register_script(_MEMBERS)

    async def claim(self, key: str, ttl: float | None) -> bool:
        with reachable():
            ok = await self.redis.set(self.prefix + key, "1", nx=True,
                                      px=_ms(ttl) if ttl else None)
        return bool(ok)

    async def exists(self, key: str) -> bool:
        with reachable():
            return bool(await self.redis.exists(self.prefix + key))

    async def lease(self, key: str, owner: str, ttl: float) -> bool:
        with reachable():
            return bool(await self._lease(keys=[self.prefix + key], args=[owner, _ms(ttl)]))

    async def unlease(self, key: str, owner: str) -> None:
        with reachable():
            await self._unlease(keys=[self.prefix + key], args=[owner])

    async def members(self, key: str, owner: str, ttl: float) -> list[str]:
        with reachable():
            found = await self._members(keys=[self.prefix + key], args=[owner, _ms(ttl)])
        return sorted(str(m) for m in found)

    async def leave(self, key: str, owner: str) -> None:
        with reachable():
            await self.redis.zrem(self.prefix + key, owner)
