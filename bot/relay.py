"""Attendants' replies to an integrator's webhook (`HANDOFF_OUTBOUND_URL`), for teams whose
WhatsApp goes through a relay (n8n, a script) rather than the Cloud API.

The body is JSON `{phone, message, attendant_id, session_mode}`; `X-Handoff-Signature:
sha256=<hex HMAC-SHA256 of the exact body, keyed by HANDOFF_OUTBOUND_SECRET>` lets the receiver
check it came from us (as Meta signs its webhooks to us). 5xx, 429 and network errors are
retried with backoff; any other answer is final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.background import RetryLater, with_backoff

log = logging.getLogger("handoff.relay")

SIGNATURE_HEADER = "X-Handoff-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class RelayRefused(Exception):
    """The relay answered with a 4xx other than 429: trying again would not help."""


class Relay:
    """Posts one message to the relay; True once it answered 2xx."""

    def __init__(self, http: Callable[[], aiohttp.ClientSession], url: str,
                 secret: str | None, *,
                 attempts: int = 6, backoff: float = 0.5) -> None:
        self.http = http
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.backoff = backoff

    async def send(self, phone: str, message: str, attendant: str | None,
                   mode: str | None, attachments: list[dict[str, Any]] | None = None) -> bool:
        fields: dict[str, Any] = {"phone": phone, "message": message,
                                  "attendant_id": attendant, "session_mode": mode}
        if attachments:
            fields["attachments"] = attachments
        body = json.dumps(fields, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)

        async def post() -> None:
            async with self.http().post(self.url, data=body, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status == 429 or resp.status >= 500:
                    after = resp.headers.get("Retry-After")
                    raise RetryLater(f"relay HTTP {resp.status}",
                                     float(after) if after and after.isdigit() else None)
                if resp.status >= 300:
                    raise RelayRefused(f"relay HTTP {resp.status}")

        try:
            await with_backoff(post, what="relay.send", attempts=self.attempts,
                               base=self.backoff, phone=phone)
        except (RelayRefused, RetryLater, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.error("relay_send_failed", extra={"phone": phone, "error": str(exc)})
            return False
        log.info("relay_sent", extra={"phone": phone, "attendant": attendant})
        return True
