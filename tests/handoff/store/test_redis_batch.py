"""Script calls made in the same event-loop turn share one connection and one write, and each
still gets its own reply (or its own error)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from handoff.backends import redis_backend
from handoff.manager import SessionManager
from handoff.store.redis import RedisStore
from handoff.store.redis_batch import Batcher, pack
from tests.redis_server import free_port

ECHO = "return ARGV[1]"


class CountingPool(aioredis.ConnectionPool):
    """Counts checkouts: one per batch written."""

    checkouts = 0

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        self.checkouts += 1
        return await super().get_connection(*args, **kwargs)


@pytest.fixture
async def pool(redis_url: str) -> AsyncIterator[CountingPool]:
    p = CountingPool.from_url(redis_url, decode_responses=True)
    yield p
    await p.aclose()


def echo(value: str) -> bytes:
    return pack("EVAL", ECHO, 0, value)


async def test_one_turn_is_one_write_and_each_call_gets_its_own_reply(
        pool: CountingPool) -> None:
    batcher = Batcher(pool)
    replies = await asyncio.gather(*(batcher.call(echo(str(n))) for n in range(50)))
    assert replies == [str(n) for n in range(50)]
    assert pool.checkouts == 1
    client = aioredis.Redis(connection_pool=pool)
    stats = await client.info("commandstats")
    assert stats["cmdstat_eval"]["calls"] == 50  # each is still its own command


async def test_a_lone_call_goes_out_without_waiting_for_others(pool: CountingPool) -> None:
    batcher = Batcher(pool)
    assert await asyncio.wait_for(batcher.call(echo("só")), 2) == "só"
    assert await batcher.call(echo("de novo")) == "de novo"
    assert pool.checkouts == 2


async def test_an_error_reply_goes_to_its_caller_alone(pool: CountingPool) -> None:
    batcher = Batcher(pool)
    failing = pack("EVAL", "return redis.error_reply('ERR nope')", 0)
    first, bad, last = await asyncio.gather(batcher.call(echo("a")), batcher.call(failing),
                                            batcher.call(echo("c")), return_exceptions=True)
    assert (first, last) == ("a", "c")
    assert isinstance(bad, ResponseError) and "nope" in str(bad)
    assert await batcher.call(echo("d")) == "d"  # the connection went back to the pool fine


async def test_a_cancelled_caller_leaves_the_others_their_replies(pool: CountingPool) -> None:
    batcher = Batcher(pool)
    tasks = [asyncio.create_task(batcher.call(echo(str(n)))) for n in range(3)]
    await asyncio.sleep(0)  # every call queued
    tasks[1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert done[0] == "0" and done[2] == "2"
    assert isinstance(done[1], asyncio.CancelledError)
    assert await batcher.call(echo("3")) == "3"


async def test_no_redis_fails_every_call_in_the_batch() -> None:
    pool = aioredis.ConnectionPool.from_url(f"redis://127.0.0.1:{free_port()}/0",
                                            socket_connect_timeout=1)
    batcher = Batcher(pool)
    try:
        done = await asyncio.gather(*(batcher.call(echo(str(n))) for n in range(3)),
                                    return_exceptions=True)
    finally:
        await pool.aclose()
    assert all(isinstance(d, RedisConnectionError) for d in done), done


async def test_concurrent_calls_after_script_flush_all_reload_and_succeed(
        redis_url: str) -> None:
    backend = redis_backend(redis_url)
    store = backend.store
    assert isinstance(store, RedisStore)
    manager = SessionManager(store, backend.claims)
    await manager.handle_message("5531999999999", "oi")
    await store.redis.script_flush()
    phones = [f"55319{n:08d}" for n in range(20)]
    results = await asyncio.gather(*(manager.handle_message(p, "oi") for p in phones))
    assert [r.session.phone for r in results if r.session] == phones
    await backend.close()
