"""Messages to customers through the Cloud API: retried and classified, never failed silently.

A bot reply re-reads the session right before every attempt (the `guard`) and is dropped once
a person holds the conversation. What became of the message is returned as a `Delivery`;
`bot.reach` reports it to attendants as events.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.background import RetryLater, with_backoff
from bot.sending import Delivery, NotSent
from bot.whatsapp.cloud import WINDOW_EXPIRED, CloudClient, SendFailed
from bot.whatsapp.tuning import Tuning
from handoff.ledger import Ledger

log = logging.getLogger("handoff.whatsapp")


class _Dropped(Exception):
    """The guard said no: the message must not go out."""


def out_key(wamid: str) -> str:
    """Ledger key: a message we sent → the session it went to."""
    return f"wa:out:{wamid}"


def address_key(phone: str) -> str:
    """Ledger key: a session → how Meta last named its customer (the address to write to)."""
    return f"wa:addr:{phone}"


class Outbound:
    """Sends text to a session's customer through the Cloud API."""

    def __init__(self, ledger: Ledger, client: CloudClient, tuning: Tuning) -> None:
        self.ledger = ledger
        self.client = client
        self.tuning = tuning

    async def send(self, phone: str, text: str, *, address: str | None = None,
                   sender: str = "human", guard: Callable[[], Awaitable[bool]] | None = None,
                   in_reply_to: str | None = None) -> Delivery:
        """Send one text; `guard` runs before every attempt (retries included)."""
        client = self.client
        to = address or await self.ledger.get(address_key(phone)) or phone

        async def attempt() -> str:
            if guard is not None and not await guard():
                raise _Dropped
            return await client.send_text(to, text)

        context: dict[str, Any] = {"phone": phone, "sender": sender, "in_reply_to": in_reply_to}
        try:
            wamid = await with_backoff(attempt, what="whatsapp.send",
                                       attempts=self.tuning.send_attempts,
                                       base=self.tuning.send_backoff, **context)
        except _Dropped:
            log.info("whatsapp_reply_dropped", extra=context)
            return Delivery(False, reason=NotSent.DROPPED)
        except SendFailed as exc:
            log.error("whatsapp_send_failed", extra={**context, "code": exc.code,
                                                     "status": exc.status, "detail": exc.detail})
            reason = NotSent.WINDOW_CLOSED if exc.code == WINDOW_EXPIRED else NotSent.REFUSED
            return Delivery(False, reason=reason, code=exc.code, detail=exc.detail)
        except (RetryLater, aiohttp.ClientError, OSError, TimeoutError) as exc:
            return Delivery(False, reason=NotSent.UNREACHABLE,
                            detail=str(exc) or type(exc).__name__)
        if wamid:
            await self.ledger.put(out_key(wamid), phone, self.tuning.status_ttl)
        log.info("whatsapp_sent", extra={**context, "wamid": wamid})
        return Delivery(True, wamid or None)
