"""The agent at AGENT_URL: json and rasa kinds, failures and slowness fall back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.settings import Settings
from bot.whatsapp import texts as wa_texts
from tests.conftest import Running

PHONE = "5531999999999"


class AgentServer:
    """A small agent on 127.0.0.1 that records what it was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []
        self.delay = 0.0
        self.status = 200

    async def handle_json(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("json", body))
        await asyncio.sleep(self.delay)
        return web.json_response({"reply": f"Eco: {body['message']}"}, status=self.status)

    async def handle_rasa(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("rasa", body))
        await asyncio.sleep(self.delay)
        return web.json_response([{"recipient_id": body["sender"], "text": "Olá!"},
                                  {"recipient_id": body["sender"], "image": "x.png"},
                                  {"recipient_id": body["sender"], "text": "Temos queijo."}],
                                 status=self.status)

    async def handle_garbage(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>oops</html>")


@pytest.fixture
async def agent() -> AsyncIterator[tuple[AgentServer, str]]:
    server = AgentServer()
    app = web.Application()
    app.router.add_post("/json", server.handle_json)
    app.router.add_post("/rasa", server.handle_rasa)
    app.router.add_post("/garbage", server.handle_garbage)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield server, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


Serve = Callable[..., Awaitable[Running]]


async def _say(r: Running, text: str) -> dict[str, Any]:
    status, body = await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": text})
    assert status == 200
    return dict(body)


async def test_json_agent(serve: Serve, make_settings: Callable[..., Settings],
                          agent: tuple[AgentServer, str]) -> None:
    server, url = agent
    r = await serve(make_settings(agent_url=url + "/json"))
    body = await _say(r, "Quero queijo canastra")
    assert body["should_respond"] is True and body["response"] == "Eco: Quero queijo canastra"
    kind, sent = server.requests[0]
    assert kind == "json" and sent["phone"] == PHONE and sent["message"] == "Quero queijo canastra"
    assert sent["session"]["mode"] == "agent" and sent["session"]["phone"] == PHONE


async def test_rasa_agent_joins_texts(serve: Serve, make_settings: Callable[..., Settings],
                                      agent: tuple[AgentServer, str]) -> None:
    server, url = agent
    r = await serve(make_settings(agent_url=url + "/rasa", agent_kind="rasa"))
    body = await _say(r, "oi")
    assert body["response"] == "Olá!\nTemos queijo."
    assert server.requests == [("rasa", {"sender": PHONE, "message": "oi"})]


async def test_agent_is_never_asked_outside_agent_mode(
        serve: Serve, make_settings: Callable[..., Settings],
        agent: tuple[AgentServer, str]) -> None:
    server, url = agent
    r = await serve(make_settings(agent_url=url + "/json"))
    await _say(r, "Quero um atendente")
    body = await _say(r, "alô?")
    assert body["response"] is None
    await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    body = await _say(r, "oi Ana")
    assert body["response"] is None
    assert server.requests == [], "escalation, paused and human messages never reach the agent"


@pytest.mark.parametrize("path", ["/json", "/garbage", "/missing"])
async def test_failing_agent_gives_the_fallback(serve: Serve,
                                                make_settings: Callable[..., Settings],
                                                agent: tuple[AgentServer, str],
                                                path: str) -> None:
    server, url = agent
    server.status = 500
    r = await serve(make_settings(agent_url=url + path))
    body = await _say(r, "oi")
    assert body["should_respond"] is True and body["response"] == wa_texts.AGENT_FALLBACK


async def test_unreachable_agent_gives_the_fallback(
        serve: Serve, make_settings: Callable[..., Settings]) -> None:
    from tests.redis_server import free_port
    r = await serve(make_settings(agent_url=f"http://127.0.0.1:{free_port()}/"))
    assert (await _say(r, "oi"))["response"] == wa_texts.AGENT_FALLBACK


async def test_slow_agent_gives_the_fallback_within_the_timeout(
        serve: Serve, make_settings: Callable[..., Settings],
        agent: tuple[AgentServer, str]) -> None:
    server, url = agent
    server.delay = 3.0
    r = await serve(make_settings(agent_url=url + "/json", agent_timeout_seconds=0.3))
    started = time.monotonic()
    body = await _say(r, "oi")
    elapsed = time.monotonic() - started
    assert body["response"] == wa_texts.AGENT_FALLBACK
    assert elapsed < 0.3 + 1.0, "the contract: fallback within the timeout plus one second"


async def test_a_hanging_agent_does_not_stall_the_service(
        serve: Serve, make_settings: Callable[..., Settings],
        agent: tuple[AgentServer, str]) -> None:
    server, url = agent
    server.delay = 4.0
    r = await serve(make_settings(agent_url=url + "/json", agent_timeout_seconds=1.0))
    slow = [asyncio.create_task(_say(r, f"oi {n}")) for n in range(5)]
    await asyncio.sleep(0.1)
    status, _ = await r.json("GET", "/healthz")
    assert status == 200 and not any(t.done() for t in slow), "answered while the agent hangs"
    status, _ = await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "a"})
    assert status == 200
    answers = await asyncio.gather(*slow)
    assert all(a["response"] in (wa_texts.AGENT_FALLBACK, None) for a in answers)
