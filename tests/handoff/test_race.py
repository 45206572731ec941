"""Two managers on two connection pools sharing one Redis: one takeover wins."""

from __future__ import annotations

import asyncio

from handoff.backends import redis_backend
from handoff.machine import Outcome
from handoff.manager import SessionManager


async def test_100_concurrent_takeovers_across_two_managers(redis_url: str) -> None:
    stores = [redis_backend(redis_url), redis_backend(redis_url)]
    managers = [SessionManager(b.store, b.claims) for b in stores]
    await managers[0].handle_message("5531999999999", "quero um atendente")
    results = await asyncio.gather(*(
        managers[i % 2].takeover("5531999999999", f"atendente{i}@empresa.com")
        for i in range(100)))
    winners = [r for r in results if r.outcome is Outcome.CHANGED]
    assert len(winners) == 1
    holder = winners[0].session.human_attendant  # type: ignore[union-attr]
    losers = [r for r in results if r is not winners[0]]
    assert all(r.outcome is Outcome.CONFLICT and r.holder == holder for r in losers)
    for m in managers:
        s = await m.get("5531999999999")
        assert s is not None and s.human_attendant == holder
    events = await managers[1].history("5531999999999")
    assert events is not None and [e.event for e in events].count("takeover") == 1
    for s in stores:
        await s.close()


async def test_one_message_id_processed_once_across_managers(redis_url: str) -> None:
    stores = [redis_backend(redis_url), redis_backend(redis_url)]
    managers = [SessionManager(b.store, b.claims) for b in stores]
    results = await asyncio.gather(*(
        managers[i % 2].handle_message("5531999999999", "oi", message_id="wamid.X")
        for i in range(20)))
    assert sum(r.should_respond for r in results) == 1
    for s in stores:
        await s.close()


async def test_a_burst_beyond_the_pool_waits_instead_of_failing(redis_url: str) -> None:
    store = redis_backend(redis_url)
    manager = SessionManager(store.store, store.claims)
    results = await asyncio.gather(*(
        manager.takeover(f"55319{i % 100:08d}", f"a{i}") for i in range(600)))
    assert sum(r.outcome is Outcome.CHANGED for r in results) == 100
    await store.close()
