"""Messages to customers through the Cloud API: retried and classified, never failed silently.

A bot reply re-reads the session right before every attempt (the `guard`) and is dropped once
a person holds the conversation. What became of the message is returned as a `Delivery`;
`bot.reach` reports it to attendants as events.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp

from bot.background import RetryLater, with_backoff
from bot.media import MediaTooLarge, MediaUnavailable, Opened
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


def kind_of(mime_type: str) -> str:
    """How WhatsApp sends a file of this type (what it cannot show is a document)."""
    mime = mime_type.split(";")[0].strip().lower()
    if mime in ("image/jpeg", "image/png"):
        return "image"
    if mime.startswith("audio/"):
        return "audio"
    if mime in ("video/mp4", "video/3gpp"):
        return "video"
    return "document"


#: Opens a file to send (a new stream on every call: a retry reads it again).
FileOpener = Callable[[], AbstractAsyncContextManager[Opened]]


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

        return await self._deliver(phone, attempt, "whatsapp.send",
                                   {"phone": phone, "sender": sender,
                                    "in_reply_to": in_reply_to})

    async def send_buttons(self, phone: str, body: str,
                           buttons: list[tuple[str, str]]) -> Delivery:
        """A question with reply buttons (the satisfaction question)."""
        to = await self.ledger.get(address_key(phone)) or phone
        return await self._deliver(
            phone, lambda: self.client.send_buttons(to, body, buttons), "whatsapp.send_buttons",
            {"phone": phone, "sender": "agent", "buttons": len(buttons)})

    async def send_template(self, phone: str, name: str, language: str,
                            params: list[str]) -> Delivery:
        """An approved template (the only thing that reaches a customer outside the window)."""
        to = await self.ledger.get(address_key(phone)) or phone
        return await self._deliver(
            phone, lambda: self.client.send_template(to, name, language, params),
            "whatsapp.send_template", {"phone": phone, "sender": "human", "template": name})

    async def send_file(self, phone: str, open_file: FileOpener, *, caption: str | None,
                        sender: str = "human") -> Delivery:
        """Upload a file to the Graph API and send it as its kind; retried like a text (the
        file is opened again for every attempt)."""
        client = self.client
        to = await self.ledger.get(address_key(phone)) or phone

        async def attempt() -> str:
            async with open_file() as opened:
                media_id = await client.upload(opened.filename, opened.mime_type,
                                               opened.chunks)
                return await client.send_media(to, kind_of(opened.mime_type), media_id,
                                               caption=caption, filename=opened.filename)

        return await self._deliver(phone, attempt, "whatsapp.send_file",
                                   {"phone": phone, "sender": sender, "file": True})

    async def _deliver(self, phone: str, attempt: Callable[[], Awaitable[str]], what: str,
                       context: dict[str, Any]) -> Delivery:
        """`attempt()` with retries; what became of it, the reason classified."""
        try:
            wamid = await with_backoff(attempt, what=what, attempts=self.tuning.send_attempts,
                                       base=self.tuning.send_backoff, **context)
        except _Dropped:
            log.info("whatsapp_reply_dropped", extra=context)
            return Delivery(False, reason=NotSent.DROPPED)
        except SendFailed as exc:
            log.error("whatsapp_send_failed", extra={**context, "code": exc.code,
                                                     "status": exc.status, "detail": exc.detail})
            reason = NotSent.WINDOW_CLOSED if exc.code == WINDOW_EXPIRED else NotSent.REFUSED
            return Delivery(False, reason=reason, code=exc.code, detail=exc.detail)
        except MediaTooLarge as exc:
            return Delivery(False, reason=NotSent.TOO_LARGE, detail=f"{exc.size} bytes")
        except (MediaUnavailable, RetryLater, aiohttp.ClientError, OSError,
                TimeoutError) as exc:
            return Delivery(False, reason=NotSent.UNREACHABLE,
                            detail=str(exc) or type(exc).__name__)
        return await self._sent(phone, wamid, context)

    async def _sent(self, phone: str, wamid: str, context: dict[str, Any]) -> Delivery:
        if wamid:
            await self.ledger.put(out_key(wamid), phone, self.tuning.status_ttl)
        log.info("whatsapp_sent", extra={**context, "wamid": wamid})
        return Delivery(True, wamid or None)
