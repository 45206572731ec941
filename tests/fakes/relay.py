"""An integrator's relay (`HANDOFF_OUTBOUND_URL`) on 127.0.0.1 that records what it receives
and checks our signature, as a careful n8n flow would."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Received:
    body: dict[str, Any]
    signed_ok: bool


class FakeRelay:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self._plan: deque[int] = deque()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def fail(self, status: int = 500, times: int = 1) -> None:
        self._plan.extend([status] * times)

    @property
    def accepted(self) -> list[dict[str, Any]]:
        return [r.body for r in self.received if r.signed_ok]

    async def start(self) -> FakeRelay:
        app = web.Application()
        app.router.add_post("/outbound", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/outbound"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self._plan:
            return web.Response(status=self._plan.popleft())
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        given = request.headers.get("X-Handoff-Signature", "")
        ok = hmac.compare_digest(expected, given)
        self.received.append(Received(json.loads(raw), ok))
        return web.json_response({"ok": True}, status=200 if ok else 401)
