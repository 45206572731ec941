"""The WhatsApp adapter under test: the real app on a real socket, a fake Graph API, a fake
agent, and Meta's signed POSTs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from bot.web.keys import BACKEND, MANAGER
from bot.whatsapp.keys import INBOX, TUNING
from handoff.events import DomainEvent
from handoff.inbox import Inbox
from handoff.ledger import Ledger
from handoff.manager import SessionManager
from tests.bot.whatsapp.meta import PHONE_NUMBER_ID
from tests.fakes.graph import FakeGraph, meta_signature
from tests.outbox_reader import events_in
from tests.wait import eventually as poll

APP_SECRET = "test_app_secret"
ACCESS_TOKEN = "EAAG-test-token"
VERIFY_TOKEN = "GOOD"


@dataclass
class FakeAgent:
    """The bot behind `AGENT_URL`: answers "Resposta: <message>"; `hold` makes it wait."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    hold: asyncio.Event | None = None
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(body)
        if self.hold is not None:
            await self.hold.wait()
        return web.json_response({"reply": f"Resposta: {body['message']}"})


@dataclass
class WaApp:
    """One running service process, and Meta's side of the conversation with it."""

    app: web.Application
    url: str
    http: aiohttp.ClientSession
    runner: web.AppRunner
    seen: list[DomainEvent] = field(default_factory=list)
    stopped: bool = False

    async def events(self) -> list[DomainEvent]:
        """Every event the app wrote to its outbox so far (read by a group of the test's)."""
        self.seen += await events_in(self.app[BACKEND].outbox, TEST_GROUP)
        return list(self.seen)

    @property
    def manager(self) -> SessionManager:
        return self.app[MANAGER]

    @property
    def inbox(self) -> Inbox:
        return self.app[INBOX]

    @property
    def ledger(self) -> Ledger:
        return self.app[BACKEND].ledger

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        async with self.http.post(self.url + "/webhook/whatsapp", data=body,
                                  headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    async def meta(self, payload: dict[str, Any], *, secret: str | None = APP_SECRET,
                   ) -> tuple[int, Any]:
        """POST as Meta does: compact JSON bytes, signed with the app secret."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Hub-Signature-256"] = meta_signature(secret, body)
        return await self.post_raw(body, headers)

    async def processed(self, wamid: str) -> None:
        """Wait until a worker finished with `wamid` (answered or decided not to)."""
        await poll(lambda: self.ledger.get(f"wa:answered:{wamid}"))

    async def stop(self) -> None:
        """Shut down as the process would on SIGTERM (workers cancelled, store closed)."""
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()


def cloud_settings(graph: FakeGraph, agent: FakeAgent, **overrides: Any) -> dict[str, Any]:
    return {"whatsapp_app_secret": APP_SECRET, "whatsapp_access_token": ACCESS_TOKEN,
            "whatsapp_phone_number_id": PHONE_NUMBER_ID, "whatsapp_api_url": graph.url,
            "whatsapp_verify_token": VERIFY_TOKEN, "agent_url": agent.url, **overrides}


@pytest.fixture
async def wa_settings(make_settings: Callable[..., Settings], graph: FakeGraph,
                      agent: FakeAgent, store_kind: str,
                      request: pytest.FixtureRequest) -> Callable[..., Settings]:
    """Settings on the store under test (Redis emptied first), with the Cloud API pointed at
    the fake Graph API and the agent at the fake agent."""
    if store_kind == "redis":
        client = aioredis.Redis.from_url(request.getfixturevalue("redis_server").url)
        await client.flushall()
        await client.aclose()

    def make(**overrides: Any) -> Settings:
        return make_settings(**cloud_settings(graph, agent, **overrides))

    return make


#: The outbox group through which tests read what the app wrote.
TEST_GROUP = "test"

#: Fast retries and reclaims, so failure paths run in test time.
FAST = {"send_backoff": 0.01, "block": 0.05}


@pytest.fixture
async def start(request: pytest.FixtureRequest,
                ) -> AsyncIterator[Callable[..., Awaitable[WaApp]]]:
    """`await start(settings, **tuning)`: `create_app(settings)` on a free port, with the
    WhatsApp tuning overridden before start-up; every app stops after the test."""
    started: list[WaApp] = []
    http = aiohttp.ClientSession()

    async def launch(settings: Settings, **tuning: Any) -> WaApp:
        app = create_app(settings)
        for name, value in {**FAST, **tuning}.items():
            setattr(app[TUNING], name, value)
        await app[BACKEND].outbox.prepare([TEST_GROUP])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        wa = WaApp(app, f"http://127.0.0.1:{runner.addresses[0][1]}", http, runner)
        started.append(wa)
        return wa

    yield launch
    for wa in started:
        await wa.stop()
    await http.close()


@pytest.fixture
async def wa(start: Callable[..., Awaitable[WaApp]],
             wa_settings: Callable[..., Settings]) -> WaApp:
    """The service with the Cloud API on, on the store under test."""
    return await start(wa_settings())
