"""The inbox on both backends: queued once, handed out, reclaimed from a dead consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from handoff.inbox import Inbox, MemoryInbox
from handoff.ledger import Ledger, MemoryLedger
from handoff.store.redis_inbox import RedisInbox
from handoff.store.redis_ledger import RedisLedger
from tests.bot.whatsapp.conftest import poll


@pytest.fixture
async def client(store_kind: str, request: pytest.FixtureRequest,
                 ) -> AsyncIterator[aioredis.Redis | None]:
    if store_kind == "memory":
        yield None
        return
    server = request.getfixturevalue("redis_server")
    redis = aioredis.Redis.from_url(server.url, decode_responses=True)
    await redis.flushall()
    yield redis
    await redis.aclose()


@pytest.fixture
async def inbox(client: aioredis.Redis | None) -> Inbox:
    box: Inbox = MemoryInbox() if client is None else RedisInbox(client)
    await box.prepare()
    return box


@pytest.fixture
def ledger(client: aioredis.Redis | None) -> Ledger:
    return MemoryLedger() if client is None else RedisLedger(client)


async def test_put_once_drops_repeats(inbox: Inbox) -> None:
    assert await inbox.put_once("wa:in:1", {"n": 1}, 60)
    assert not await inbox.put_once("wa:in:1", {"n": 1}, 60)
    assert await inbox.put_once("wa:in:2", {"n": 2}, None)
    taken = await inbox.take("c1", 10, 0, 60)
    assert [e.body for e in taken] == [{"n": 1}, {"n": 2}]
    assert [e.deliveries for e in taken] == [1, 1]


async def test_acked_entries_are_never_handed_out_again(inbox: Inbox) -> None:
    await inbox.put_once("k", {"n": 1}, 60)
    [entry] = await inbox.take("c1", 10, 0, 60)
    await inbox.ack(entry.id)
    assert await inbox.take("c2", 10, 0, 0) == []


async def test_an_unacked_entry_goes_to_another_consumer_after_the_timeout(
        inbox: Inbox) -> None:
    await inbox.put_once("k", {"n": 1}, 60)
    [entry] = await inbox.take("dead", 10, 0, 60)
    assert await inbox.take("live", 10, 0, 60) == []
    [again] = await poll(lambda: inbox.take("live", 10, 0, 0.05))
    assert (again.id, again.body, again.deliveries) == (entry.id, {"n": 1}, 2)
    await inbox.ack(again.id)
    assert await inbox.take("live", 10, 0, 0) == []


async def test_touch_keeps_a_live_consumer_entry(inbox: Inbox) -> None:
    await inbox.put_once("k", {"n": 1}, 60)
    [entry] = await inbox.take("busy", 10, 0, 60)
    await inbox.touch("busy", [entry.id])
    assert await inbox.take("other", 10, 0, 30) == []


async def test_redis_inbox_recreates_a_lost_stream(client: aioredis.Redis | None,
                                                   inbox: Inbox) -> None:
    if client is None:
        pytest.skip("only Redis can lose its stream under a running process")
    await client.flushall()
    assert await inbox.take("c1", 10, 0, 60) == []
    await inbox.put_once("k", {"n": 1}, 60)
    assert [e.body for e in await inbox.take("c1", 10, 0, 60)] == [{"n": 1}]


async def test_ledger_keeps_values_and_ranks(ledger: Ledger) -> None:
    await ledger.put("a", "x", 60)
    assert await ledger.get("a") == "x" and await ledger.get("b") is None
    assert await ledger.advance("s", 2, "delivered", 60)
    assert not await ledger.advance("s", 1, "sent", 60)
    assert not await ledger.advance("s", 2, "delivered", 60)
    assert await ledger.advance("s", 3, "read", 60)
    assert Ledger.decode_rank(await ledger.get("s")) == (3, "read")
