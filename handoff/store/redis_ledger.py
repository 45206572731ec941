"""The ledger on Redis: plain keys with `PX` expiry, shared by every process."""

from __future__ import annotations

import redis.asyncio as aioredis

from handoff.ledger import Ledger
from handoff.store.redis_inbox import reachable

_ADVANCE = """
local current = redis.call('GET', KEYS[1])
if current then
  local rank = tonumber(string.match(current, '^(%d+):'))
  if rank and rank >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisLedger(Ledger):
    """Keys live under `{prefix}l:`; `advance` is one Lua script, so racing workers agree."""

    def __init__(self, client: aioredis.Redis, prefix: str = "handoff:") -> None:
        self.redis = client
        self.prefix = f"{prefix}l:"
        self._advance = client.register_script(_ADVANCE)

    async def put(self, key: str, value: str, ttl: float) -> None:
        with reachable():
            await self.redis.set(self.prefix + key, value, px=max(1, int(ttl * 1000)))

    async def get(self, key: str) -> str | None:
        with reachable():
            value = await self.redis.get(self.prefix + key)
        return value if value is None else str(value)

    async def advance(self, key: str, rank: int, value: str, ttl: float) -> bool:
        with reachable():
            done = await self._advance(keys=[self.prefix + key],
                                       args=[str(rank), value, str(max(1, int(ttl * 1000)))])
        return bool(done)
