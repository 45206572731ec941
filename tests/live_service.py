"""The service as operators run it (`python -m bot`), in a subprocess on a free port."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from tests.redis_server import free_port

_OUR_VARS = ("HANDOFF_", "SLACK_", "WHATSAPP_", "REDIS_", "AGENT_")


class LiveService:
    """Start, stop, kill and restart `python -m bot`; talk to it with a plain HTTP client."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_OUR_VARS)}
        self.env.update(env)
        self.cwd = tempfile.mkdtemp(prefix="handoff-live-")  # no stray .env is read
        self.log_path = os.path.join(self.cwd, "service.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--port", str(self.port)], env=self.env,
            cwd=self.cwd, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/healthz")
                if status in (200, 503):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("service did not start: " + open(self.log_path).read()[-2000:])

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(15)
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(15)
            self.proc = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode(errors="replace")
