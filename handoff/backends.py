"""The two backends, each built whole: store, outbox, claims, ledger, inbox and
offer book together.

Everything a process shares with the others lives in one place, so the factory picks a backend
once and hands each adapter the part it needs; nothing downstream asks which kind it got.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from handoff.coordination import Claims, MemoryClaims
from handoff.inbox import Inbox, MemoryInbox
from handoff.ledger import Ledger, MemoryLedger
from handoff.offers import MemoryOffers, OfferBook
from handoff.outbox import DEFAULT_SHARDS, MemoryOutbox, Outbox
from handoff.store.base import TRANSCRIPT_MAX, SessionStore
from handoff.store.memory import MemoryStore
from handoff.store.redis import RedisStore
from handoff.store.redis_claims import RedisClaims
from handoff.store.redis_inbox import RedisInbox
from handoff.store.redis_ledger import RedisLedger
from handoff.store.redis_offers import RedisOffers
from handoff.store.redis_outbox import RedisOutbox


@dataclass(frozen=True)
class Backend:
    """What the core and the adapters share, on one backend."""

    kind: str
    store: SessionStore
    outbox: Outbox
    claims: Claims
    ledger: Ledger
    inbox: Inbox
    offers: OfferBook

    async def close(self) -> None:
        await self.store.close()


def memory_backend(dedupe_ttl: float | None = None,
                   transcript_max: int = TRANSCRIPT_MAX) -> Backend:
    """State in this process, lost on restart."""
    claims, outbox = MemoryClaims(), MemoryOutbox()
    store = MemoryStore(dedupe_ttl, claims=claims, outbox=outbox, transcript_max=transcript_max)
    return Backend("memory", store, outbox, claims, MemoryLedger(), MemoryInbox(),
                   MemoryOffers(store))


def redis_backend(url: str, *, prefix: str = "handoff:", dedupe_ttl: float | None = None,
                  shards: int = DEFAULT_SHARDS, transcript_max: int = TRANSCRIPT_MAX) -> Backend:
    """State in Redis, shared by every process that names the same URL and prefix."""
    client = aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(
        url, max_connections=256, timeout=5, decode_responses=True, socket_timeout=5,
        socket_connect_timeout=3))
    outbox = RedisOutbox(client, prefix, shards)
    store = RedisStore(url, prefix, dedupe_ttl, client=client, outbox=outbox,
                       transcript_max=transcript_max)
    return Backend("redis", store, outbox, RedisClaims(client, prefix),
                   RedisLedger(client, prefix), RedisInbox(client, prefix),
                   RedisOffers(client, outbox, prefix))
