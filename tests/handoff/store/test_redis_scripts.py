"""The Redis store loads its scripts itself: after SCRIPT FLUSH (a Redis restart) it still works."""

from __future__ import annotations

from handoff.backends import redis_backend
from handoff.machine import Outcome
from handoff.manager import SessionManager
from handoff.store.redis import RedisStore


async def test_scripts_reload_after_flush(redis_url: str) -> None:
    backend = redis_backend(redis_url)
    manager = SessionManager(backend.store, backend.claims)
    await manager.handle_message("5531999999999", "oi")
    assert isinstance(backend.store, RedisStore)
    await backend.store.redis.script_flush()
    r = await manager.takeover("5531999999999", "ana")
    assert r.outcome is Outcome.CHANGED
    await backend.close()
