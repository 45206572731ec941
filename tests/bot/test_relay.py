"""The relay client: signed bodies, retries on 5xx, a final 4xx is given up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.relay import Relay
from tests.fakes.relay import FakeRelay


@pytest.fixture
async def relay() -> AsyncIterator[FakeRelay]:
    fake = await FakeRelay("s3gredo").start()
    yield fake
    await fake.stop()


async def test_signed_and_retried(relay: FakeRelay) -> None:
    relay.fail(503, times=2)
    async with aiohttp.ClientSession() as http:
        client = Relay(lambda: http, relay.url, "s3gredo", backoff=0.01)
        assert await client.send("5531999999999", "Olá! 🧀", "ana@empresa.com", "human")
    assert relay.accepted == [{"phone": "5531999999999", "message": "Olá! 🧀",
                               "attendant_id": "ana@empresa.com", "session_mode": "human"}]


async def test_wrong_secret_is_refused_and_not_retried(relay: FakeRelay) -> None:
    async with aiohttp.ClientSession() as http:
        client = Relay(lambda: http, relay.url, "outro", backoff=0.01)
        assert not await client.send("5531999999999", "oi", "ana", "human")
    assert relay.accepted == [] and len(relay.received) == 1


async def test_gives_up_after_the_attempts(relay: FakeRelay) -> None:
    relay.fail(500, times=10)
    async with aiohttp.ClientSession() as http:
        client = Relay(lambda: http, relay.url, "s3gredo", attempts=3, backoff=0.01)
        assert not await client.send("5531999999999", "oi", "ana", "human")
    assert relay.received == []
