"""The `handoff` CLI as a real subprocess against the live server, on both stores."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

from bot.settings import Settings
from tests.conftest import Running

PHONE = "5531999999999"
ROOT = Path(__file__).resolve().parents[2]


class Result(NamedTuple):
    code: int
    out: str
    err: str


async def cli(*args: str, url: str | None = None, token: str | None = None) -> Result:
    """Run `python -m bot.cli` without blocking the loop the server runs in."""
    env = dict(os.environ)
    env.pop("HANDOFF_URL", None)
    env.pop("HANDOFF_API_TOKEN", None)
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


async def test_bad_usage_exits_2() -> None:
    for args in ((), ("takeover", PHONE), ("list-sessions", "--mode=robot"), ("frobnicate",)):
        r = await cli(*args, url="http://127.0.0.1:1")
        assert r.code == 2, args
        assert r.out == "" and "usage:" in r.err, args


async def test_unreachable_server_exits_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    r = await cli("status", PHONE, url=url)
    assert (r.code, r.out) == (2, "")
    assert one_line(r.err).startswith(f"❌ Servidor inacessível em {url}")
