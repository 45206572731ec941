"""Fixtures shared by every test: a real Redis, both stores, the app on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from bot.web.keys import BACKEND, MANAGER
from handoff.backends import Backend, memory_backend, redis_backend
from handoff.manager import SessionManager
from handoff.store import SessionStore
from tests.fakes.graph import FakeGraph
from tests.fakes.relay import FakeRelay
from tests.redis_server import RedisServer


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    """The Graph API (WhatsApp Cloud) on 127.0.0.1, recording what is sent."""
    fake = await FakeGraph().start()
    yield fake
    await fake.stop()


#: The secret the relay fixture checks our signature with.
RELAY_SECRET = "segredo"


@pytest.fixture
async def relay() -> AsyncIterator[FakeRelay]:
    """An integrator's relay on 127.0.0.1 (`HANDOFF_OUTBOUND_URL`), checking our signature."""
    fake = await FakeRelay(RELAY_SECRET).start()
    yield fake
    await fake.stop()


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
async def backend(store_kind: str, request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each store test runs once per backend, the same assertions on both."""
    if store_kind == "memory":
        b = memory_backend()
    else:
        b = redis_backend(await _flushed(request.getfixturevalue("redis_server")))
    yield b
    await b.close()


@pytest.fixture
def store(backend: Backend) -> SessionStore:
    return backend.store


class Running:
    """The real app on a real socket, and a client session to talk to it."""

    def __init__(self, app: web.Application, url: str, http: aiohttp.ClientSession,
                 runner: web.AppRunner) -> None:
        self.app = app
        self.url = url
        self.http = http
        self.runner = runner
        self.stopped = False

    async def stop(self) -> None:
        """Shut the app down as the process would on SIGTERM."""
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()

    @property
    def manager(self) -> SessionManager:
        return self.app[MANAGER]

    @property
    def backend(self) -> Backend:
        return self.app[BACKEND]

    def request(self, method: str, path: str, **kw: Any) -> Any:
        return self.http.request(method, self.url + path, **kw)

    async def json(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with self.request(method, path, **kw) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.fixture
def make_settings(store_kind: str, request: pytest.FixtureRequest) -> Callable[..., Settings]:
    """Settings for the store under test; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        # What the service tells customers by itself (their place in the queue, who took the
        # conversation) is off unless a test is about it: the others count what is sent.
        base: dict[str, Any] = {"_env_file": None, "handoff_queue_ack": False,
                                "handoff_announce_attendant": False}
        if store_kind == "redis":
            server: RedisServer = request.getfixturevalue("redis_server")
            base["redis_url"] = server.url
        return Settings(**{**base, **overrides})

    return make


@pytest.fixture
async def serve(store_kind: str,
                request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Start `create_app(settings)` on 127.0.0.1:<free port>; everything stops after the test."""
    if store_kind == "redis":
        await _flushed(request.getfixturevalue("redis_server"))
    started: list[Running] = []
    http = aiohttp.ClientSession()

    async def start(settings: Settings) -> Running:
        app = create_app(settings)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        started.append(Running(app, f"http://127.0.0.1:{port}", http, runner))
        return started[-1]

    yield start
    await http.close()
    for running in started:
        await running.stop()


@pytest.fixture
async def running(serve: Callable[..., Awaitable[Running]],
                  make_settings: Callable[..., Settings]) -> Running:
    """The app with default settings on the store under test."""
    return await serve(make_settings())
