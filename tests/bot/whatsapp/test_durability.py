"""Nothing lost, nothing twice, with Redis: dead workers, crash windows, Redis going away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from bot.settings import Settings
from bot.whatsapp.handling import answered_key
from handoff.machine import Sender
from handoff.store.redis_inbox import RedisInbox
from tests.bot.whatsapp import meta
from tests.bot.whatsapp.conftest import FakeAgent, WaApp, cloud_settings, poll
from tests.fakes.graph import FakeGraph
from tests.redis_server import RedisServer

WA_ID = "553199999999"
PHONE = "5531999999999"

Start = Callable[..., Awaitable[WaApp]]


@pytest.fixture
def store_kind() -> str:
    """Several processes sharing one queue: that is Redis."""
    return "redis"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


async def queue_is_empty(redis: aioredis.Redis, inbox: RedisInbox) -> bool:
    pending = await redis.xpending(inbox.stream, inbox.group)
    return bool(pending["pending"] == 0 and await redis.xlen(inbox.stream) == 0)


async def _accepted_then_died(start: Start, settings: Settings, wamid: str,
                              text: str = "Quero queijo canastra") -> WaApp:
    """A process answers Meta 200, its worker reads the entry, and the process dies."""
    dying = await start(settings, workers=0)
    status, body = await dying.meta(meta.incoming(WA_ID, wamid, text))
    assert (status, body["queued"]) == (200, 1)
    [entry] = await dying.inbox.take("worker-that-dies", 10, 0, 60)
    assert entry.body["wamid"] == wamid
    return dying


async def test_a_worker_killed_after_the_200_loses_nothing(
        start: Start, wa_settings: Callable[..., Settings], graph: FakeGraph,
        agent: FakeAgent, redis: aioredis.Redis) -> None:
    dying = await _accepted_then_died(start, wa_settings(), "wamid.K1")
    await dying.stop()
    live = await start(wa_settings(), reclaim_after=0.3)
    [sent] = await graph.wait_sends(1)
    assert (sent.to, sent.text) == (WA_ID, "Resposta: Quero queijo canastra")
    await live.processed("wamid.K1")
    inbox = live.inbox
    assert isinstance(inbox, RedisInbox)
    await poll(lambda: queue_is_empty(redis, inbox))
    assert len(graph.requests) == 1 and len(agent.calls) == 1
    session = await live.manager.get(PHONE)
    assert session is not None and session.last_customer_text == "Quero queijo canastra"


async def test_a_worker_killed_after_recording_still_gets_the_customer_answered(
        start: Start, wa_settings: Callable[..., Settings], graph: FakeGraph,
        agent: FakeAgent, redis: aioredis.Redis) -> None:
    dying = await _accepted_then_died(start, wa_settings(), "wamid.K2")
    # It got as far as the manager (which claimed the wamid as seen), then died.
    first = await dying.manager.handle_message(
        WA_ID, "Quero queijo canastra", Sender.CUSTOMER, message_id="wamid.K2",
        source="whatsapp")
    assert first.should_respond
    await dying.stop()
    live = await start(wa_settings(), reclaim_after=0.3)
    await live.processed("wamid.K2")
    assert [(s.to, s.text) for s in graph.requests] == [
        (WA_ID, "Resposta: Quero queijo canastra")]
    inbox = live.inbox
    assert isinstance(inbox, RedisInbox)
    await poll(lambda: queue_is_empty(redis, inbox))
    assert len(graph.requests) == 1
    assert await live.manager.history(PHONE) == []


async def test_a_worker_killed_after_answering_does_not_answer_twice(
        start: Start, wa_settings: Callable[..., Settings], graph: FakeGraph,
        redis: aioredis.Redis) -> None:
    dying = await _accepted_then_died(start, wa_settings(), "wamid.K3")
    await dying.manager.handle_message(WA_ID, "Quero queijo canastra", Sender.CUSTOMER,
                                       message_id="wamid.K3", source="whatsapp")
    await dying.ledger.put(answered_key("wamid.K3"), "1", 60)
    await dying.stop()
    live = await start(wa_settings(), reclaim_after=0.3)
    inbox = live.inbox
    assert isinstance(inbox, RedisInbox)
    await poll(lambda: queue_is_empty(redis, inbox))
    assert graph.requests == []


async def test_a_clean_shutdown_leaves_no_consumer_behind(
        start: Start, wa_settings: Callable[..., Settings], graph: FakeGraph,
        redis: aioredis.Redis) -> None:
    app = await start(wa_settings())
    await app.meta(meta.incoming(WA_ID, "wamid.C1", "Oi"))
    await app.processed("wamid.C1")
    inbox = app.inbox
    assert isinstance(inbox, RedisInbox)
    assert len(await redis.xinfo_consumers(inbox.stream, inbox.group)) == 1
    await app.stop()
    assert await redis.xinfo_consumers(inbox.stream, inbox.group) == []


async def test_a_live_worker_keeps_its_slow_item(
        start: Start, wa_settings: Callable[..., Settings], graph: FakeGraph,
        agent: FakeAgent) -> None:
    """An agent slower than the reclaim timeout: the other process must not take the item."""
    agent.hold = asyncio.Event()
    first = await start(wa_settings(), reclaim_after=1.0)
    await first.meta(meta.incoming(WA_ID, "wamid.L1", "Oi"))
    await poll(lambda: agent.calls)
    await start(wa_settings(), reclaim_after=1.0)
    await asyncio.sleep(2.5)
    agent.hold.set()
    await first.processed("wamid.L1")
    assert len(agent.calls) == 1 and len(graph.sends) == 1


async def test_a_poison_item_is_dropped_after_its_deliveries(
        wa_settings: Callable[..., Settings], start: Start, redis: aioredis.Redis,
        caplog: pytest.LogCaptureFixture) -> None:
    app = await start(wa_settings(), reclaim_after=0.05, max_deliveries=2)
    inbox = app.inbox
    assert isinstance(inbox, RedisInbox)
    with caplog.at_level(logging.INFO, logger="handoff.whatsapp"):
        await inbox.put_once("wa:in:broken", {"kind": "message", "key": PHONE}, 60)
        await poll(lambda: queue_is_empty(redis, inbox))
    failed = [r for r in caplog.records if r.msg == "whatsapp_item_failed"]
    dropped = [r for r in caplog.records if r.msg == "whatsapp_item_dropped"]
    assert len(failed) == 2 and len(dropped) == 1


async def test_redis_down_is_503_and_back_is_200_without_a_restart(
        start: Start, graph: FakeGraph, agent: FakeAgent) -> None:
    server = RedisServer()
    server.start()
    try:
        settings = Settings(**{"_env_file": None, "redis_url": server.url,
                               **cloud_settings(graph, agent)})
        app = await start(settings, reclaim_after=0.5, idle_backoff_cap=0.2)
        assert (await app.meta(meta.incoming(WA_ID, "wamid.R1", "Oi")))[0] == 200
        await graph.wait_sends(1)
        await app.processed("wamid.R1")

        server.stop()
        retry = meta.incoming(WA_ID, "wamid.R2", "Ainda aí?")
        status, body = await app.meta(retry)
        assert status == 503 and "error" in body
        async with app.http.get(app.url + "/healthz") as resp:
            assert resp.status == 503

        server.start()
        status, body = await poll(lambda: _status_200(app, retry))
        assert body["queued"] == 1
        sends = await graph.wait_sends(2)
        assert sends[1].text == "Resposta: Ainda aí?"
        await app.processed("wamid.R2")
        assert len(graph.requests) == 2
    finally:
        server.cleanup()


async def _status_200(app: WaApp, payload: dict[str, object]) -> tuple[int, dict] | None:
    """Meta's retry of the refused POST; None (keep polling) while still refused."""
    status, body = await app.meta(payload)
    return (status, body) if status == 200 else None
