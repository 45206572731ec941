"""The `handoff` CLI as a real subprocess against the live server, on both stores; `transfer` and
`messages` against a small fake server that records what the CLI asked."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from aiohttp import web

from bot.settings import Settings
from tests.conftest import Running

PHONE = "5531999999999"
ROOT = Path(__file__).resolve().parents[2]


class Result(NamedTuple):
    code: int
    out: str
    err: str


async def cli(*args: str, url: str | None = None, token: str | None = None,
              tz: str | None = None) -> Result:
    """Run `python -m bot.cli` without blocking the loop the server runs in."""
    env = dict(os.environ)
    env.pop("HANDOFF_URL", None)
    env.pop("HANDOFF_API_TOKEN", None)
    if tz is not None:
        env["TZ"] = tz
    if url is not None:
        env["HANDOFF_URL"] = url
    if token is not None:
        env["HANDOFF_API_TOKEN"] = token
    env["PYTHONIOENCODING"] = "utf-8"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


async def test_seed_usage_lines(running: Running) -> None:
    status, _ = await running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "Quero queijo canastra", "sender_type": "customer"})
    assert status == 200
    url = running.url

    r = await cli("list-sessions", url=url)
    assert (r.code, r.err) == (0, "")
    assert "📊 Total: 1 sessões" in r.out
    assert f"🤖 {PHONE} - AGENT" in r.out

    r = await cli("list-sessions", "--mode=human", url=url)
    assert (r.code, r.err) == (0, "")
    assert "📊 Total: 0 sessões" in r.out and PHONE not in r.out

    r = await cli("takeover", PHONE, "joao@empresa.com", url=url)
    assert (r.code, r.err) == (0, "")
    assert "joao@empresa.com" in one_line(r.out) and one_line(r.out).startswith("✅")

    r = await cli("list-sessions", "--mode=human", url=url)
    assert (r.code, r.err) == (0, "")
    assert "📊 Total: 1 sessões" in r.out
    assert f"👤 {PHONE} - HUMAN\n   → Atendente: joao@empresa.com" in r.out

    r = await cli("status", PHONE, url=url)
    assert (r.code, r.err) == (0, "")
    assert f"📊 Status: {PHONE}" in r.out and "🔧 Modo: HUMAN" in r.out
    assert "👤 Atendente: joao@empresa.com" in r.out
    assert "💬 Última mensagem: Quero queijo canastra" in r.out

    r = await cli("release", PHONE, url=url)
    assert (r.code, r.err) == (0, "")
    assert PHONE in one_line(r.out)

    r = await cli("status", PHONE, url=url)
    assert r.code == 0 and "🔧 Modo: AGENT" in r.out and "Atendente" not in r.out

    status, body = await running.json("GET", f"/session/{PHONE}/history")
    assert status == 200
    ours = [(e["event"], e["actor"], e["source"]) for e in body["events"]
            if e["event"] in ("takeover", "release")]
    assert ours == [("takeover", "joao@empresa.com", "cli"), ("release", None, "cli")]


async def test_server_says_no(running: Running) -> None:
    status, _ = await running.json(
        "POST", f"/session/{PHONE}/takeover?attendant_id=maria@empresa.com")
    assert status == 200

    r = await cli("takeover", PHONE, "joao@empresa.com", url=running.url)
    assert (r.code, r.out) == (1, "")
    assert "maria@empresa.com" in one_line(r.err)
    session = await running.manager.get(PHONE)
    assert session is not None and session.human_attendant == "maria@empresa.com"

    r = await cli("status", "5531888888888", url=running.url)
    assert (r.code, r.out) == (1, "")
    assert "5531888888888" in one_line(r.err) and "não encontrada" in r.err


async def test_url_flag_wins_over_environment(running: Running) -> None:
    r = await cli("--url", running.url, "list-sessions", url="http://127.0.0.1:1")
    assert (r.code, r.err) == (0, "")
    r = await cli("list-sessions", "--url", running.url)
    assert (r.code, r.err) == (0, "")


async def test_bearer_token_from_environment(
        serve: Callable[[Settings], Awaitable[Running]],
        make_settings: Callable[..., Settings]) -> None:
    server = await serve(make_settings(handoff_api_token="s3cret"))

    r = await cli("takeover", PHONE, "joao@empresa.com", url=server.url, token="s3cret")
    assert (r.code, r.err) == (0, "")
    r = await cli("list-sessions", url=server.url, token="s3cret")
    assert r.code == 0 and f"👤 {PHONE} - HUMAN" in r.out

    for token in ("wrong", None):
        r = await cli("list-sessions", url=server.url, token=token)
        assert (r.code, r.out) == (1, "")
        assert "HANDOFF_API_TOKEN" in one_line(r.err)


#: argparse's own English, none of which the CLI may print.
ENGLISH = re.compile(r"\b(usage|error|arguments?|required|invalid|choose|unrecognized|expected"
                     r"|positional|options|show|help message|PHONE|ATTENDANT)\b")


async def test_bad_usage_exits_2_in_portuguese() -> None:
    cases: dict[tuple[str, ...], str] = {
        (): "faltam argumentos obrigatórios: COMANDO",
        ("takeover", PHONE): "faltam argumentos obrigatórios: ATENDENTE",
        ("transfer",): "faltam argumentos obrigatórios: TELEFONE, ATENDENTE",
        ("messages",): "faltam argumentos obrigatórios: TELEFONE",
        ("list-sessions", "--mode=robot"):
            "argumento --mode: opção inválida: 'robot' (escolha entre 'agent', 'human', 'paused')",
        ("frobnicate",): "argumento COMANDO: opção inválida: 'frobnicate' (escolha entre",
        ("status", PHONE, "extra"): "argumentos não reconhecidos: extra",
        ("list-sessions", "--url"): "argumento --url: espera um valor",
        ("release", PHONE, "--help=x"): "argumento -h/--help: não aceita valor: 'x'",
    }
    for args, why in cases.items():
        r = await cli(*args, url="http://127.0.0.1:1")
        assert (r.code, r.out) == (2, ""), args
        usage, reason = r.err.strip().splitlines()
        assert usage.startswith("uso: handoff"), args
        assert reason.startswith("handoff") and ": erro: " in reason and why in reason, args
        assert not ENGLISH.findall(r.err), (args, r.err)


async def test_help_in_portuguese() -> None:
    for args in (("-h",), ("transfer", "--help"), ("messages", "-h"), ("list-sessions", "-h")):
        r = await cli(*args)
        assert (r.code, r.err) == (0, ""), args
        assert r.out.startswith("uso: handoff"), args
        assert "opções:" in r.out and "-h, --help  " in r.out and "mostra esta ajuda e sai" in r.out
        assert not ENGLISH.findall(r.out), (args, r.out)
    r = await cli("-h")
    assert "transfer" in r.out and "messages" in r.out and "argumentos posicionais:" in r.out
    r = await cli("transfer", "-h")
    assert "uso: handoff transfer [-h] [--url URL] TELEFONE ATENDENTE" in r.out


async def test_unreachable_server_exits_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    r = await cli("status", PHONE, url=url)
    assert (r.code, r.out) == (2, "")
    assert one_line(r.err).startswith(f"❌ Servidor inacessível em {url}")


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeServer:
    """A stand-in for the server's `transfer` and `messages` routes: it answers what each test
    sets in `answers` (by path) and records every request."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.seen.append(Seen(request.method, request.path, dict(request.query),
                              dict(request.headers), json.loads(raw) if raw else None))
        status, body = self.answers.get(request.path, (404, {"error": "Rota não encontrada."}))
        return web.json_response(body, status=status)


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}"
    yield server
    await runner.cleanup()


TRANSFER = f"/session/{PHONE}/transfer"
MESSAGES = f"/session/{PHONE}/messages"


async def test_transfer_posts_to_and_says_what_the_server_said(fake: FakeServer) -> None:
    said = f"🔁 Conversa {PHONE} transferida para maria@empresa.com."
    fake.answers[TRANSFER] = (200, {"success": True, "message": said, "session": None})

    r = await cli("transfer", PHONE, "maria@empresa.com", url=fake.url, token="s3cret")
    assert (r.code, r.err) == (0, "")
    assert one_line(r.out) == said
    [seen] = fake.seen
    assert (seen.method, seen.path, seen.body) == ("POST", TRANSFER, {"to": "maria@empresa.com"})
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Authorization"] == "Bearer s3cret"
    assert seen.query == {"source": "cli"}


async def test_transfer_refused_exits_1(fake: FakeServer) -> None:
    said = f"❌ Só joao@empresa.com (ou um supervisor) pode transferir a conversa {PHONE}."
    fake.answers[TRANSFER] = (403, {"success": False, "message": said, "error": said})
    r = await cli("transfer", PHONE, "maria@empresa.com", url=fake.url)
    assert (r.code, r.out) == (1, "")
    assert one_line(r.err) == said
    assert "Authorization" not in fake.seen[0].headers

    fake.answers[TRANSFER] = (404, {"error": f"Conversa {PHONE} não encontrada."})
    r = await cli("transfer", PHONE, "maria@empresa.com", url=fake.url)
    assert (r.code, r.out) == (1, "")
    assert one_line(r.err) == f"❌ Conversa {PHONE} não encontrada."


async def test_messages_one_line_each_in_the_operators_time(fake: FakeServer) -> None:
    fake.answers[MESSAGES] = (200, {"phone": PHONE, "next_before": None, "messages": [
        {"id": 1, "at": "2024-05-31T12:31:02.000000", "sender": "customer", "attendant": None,
         "text": "Quero queijo canastra"},
        {"id": 2, "at": "2024-05-31T12:31:03.500000", "sender": "agent", "attendant": None,
         "text": "Temos sim!\nQual tamanho?"},
        {"id": 3, "at": "2024-05-31T12:40:00+00:00", "sender": "human",
         "attendant": "ana@empresa.com", "text": "Oi, aqui é a Ana."},
        {"id": 4, "at": "2024-05-31T23:59:00Z", "sender": "note", "attendant": "ana@empresa.com",
         "text": "cliente antigo"},
        {"id": 5, "at": "ontem", "sender": "system", "attendant": None, "text": "?"},
    ]})
    # UTC-3 in POSIX form, so the test needs no time zone database.
    r = await cli("messages", PHONE, url=fake.url, token="s3cret", tz="<-03>3")
    assert (r.code, r.err) == (0, "")
    assert r.out.splitlines() == [
        "31/05/2024 09:31 Cliente: Quero queijo canastra",
        "31/05/2024 09:31 Bot: Temos sim! Qual tamanho?",
        "31/05/2024 09:40 Atendente (ana@empresa.com): Oi, aqui é a Ana.",
        "31/05/2024 20:59 Nota interna (ana@empresa.com): cliente antigo",
        "ontem system: ?",
    ]
    [seen] = fake.seen
    assert (seen.method, seen.path, seen.body) == ("GET", MESSAGES, None)
    assert seen.headers["Authorization"] == "Bearer s3cret"

    fake.answers[MESSAGES] = (200, {"phone": PHONE, "messages": [], "next_before": None})
    r = await cli("messages", PHONE, url=fake.url)
    assert (r.code, r.err) == (0, "")
    assert one_line(r.out) == f"📭 Nenhuma mensagem de {PHONE}."


async def test_messages_server_says_no_exits_1(fake: FakeServer) -> None:
    # No `messages` route at all: the server's JSON 404 is a "no" like any other.
    r = await cli("messages", PHONE, url=fake.url)
    assert (r.code, r.out) == (1, "")
    assert one_line(r.err) == "❌ Rota não encontrada."

    fake.answers[MESSAGES] = (404, {"error": f"Conversa {PHONE} não encontrada."})
    r = await cli("messages", PHONE, url=fake.url)
    assert (r.code, r.out) == (1, "")
    assert one_line(r.err) == f"❌ Conversa {PHONE} não encontrada."

    fake.answers[MESSAGES] = (200, {"phone": PHONE})
    r = await cli("messages", PHONE, url=fake.url)
    assert (r.code, r.out) == (2, "")
    assert one_line(r.err) == "❌ Resposta inesperada do servidor (HTTP 200)."
