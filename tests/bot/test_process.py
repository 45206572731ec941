"""`python -m bot` as operators run it: refuses an open bind, exits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import aiohttp

from tests.redis_server import free_port


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HANDOFF_", "SLACK_", "WHATSAPP_", "REDIS_", "AGENT_"))}
    env.update(extra)
    return env


async def test_refuses_open_host_without_token() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--host", "0.0.0.0", "--port", str(free_port()),
        env=_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert "HANDOFF_API_TOKEN" in err.decode()


async def _bot(*args: str) -> tuple[int | None, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, out.decode(), err.decode()


async def test_its_help_and_usage_errors_are_in_portuguese() -> None:
    code, out, _ = await _bot("--help")
    assert code == 0 and out.startswith("uso: python -m bot")
    assert "--port PORT  porta em que escuta (PORT; padrão 8000)" in out
    code, _, err = await _bot("--port", "x")
    assert code == 2 and err.startswith("uso: python -m bot")
    assert "erro: argumento --port: valor inválido (int): 'x'" in err


async def test_serves_logs_json_without_secrets_and_stops_on_sigterm() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--port", str(port),
        env=_env(HANDOFF_API_TOKEN="tok-secret-1", WHATSAPP_VERIFY_TOKEN="verify-secret-2"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(base + "/healthz") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        hdr = {"Authorization": "Bearer tok-secret-1"}
        async with http.post(base + "/webhook/whatsapp", headers=hdr,
                             json={"phone": "5531999999999", "message": "atendente"}) as resp:
            assert resp.status == 200
        async with http.get(base + "/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1"
                            "&hub.verify_token=verify-secret-2") as resp:
            assert resp.status == 200
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0
    text = err.decode()
    assert "tok-secret-1" not in text and "verify-secret-2" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(line.get("msg") == "mode_change" and line.get("phone") == "5531999999999"
               for line in lines)
    assert any(line.get("msg") == "memory_store" for line in lines)
