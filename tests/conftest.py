"""Fixtures shared by every test: a real Redis, both stores, the app on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from handoff.store import MemoryStore, SessionStore
from handoff.store.redis import RedisStore
from tests.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.cleanup()


async def _flushed(server: RedisServer) -> str:
    client = aioredis.Redis.from_url(server.url)
    await client.flushall()
    await client.aclose()
    return server.url


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    """The shared server, emptied before each test."""
    return await _flushed(redis_server)


@pytest.fixture(params=["memory", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store(store_kind: str, request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    """Each store test runs once per store, the same assertions on both."""
    if store_kind == "memory":
        s: SessionStore = MemoryStore()
    else:
        s = RedisStore(await _flushed(request.getfixturevalue("redis_server")))
    yield s
    await s.close()
