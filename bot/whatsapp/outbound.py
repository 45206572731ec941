"""Messages to customers through the Cloud API: retried, guarded, and never failed silently.

A bot reply re-reads the session right before every attempt and is dropped once a person
holds the conversation. A send Meta refuses is announced to attendants (the Slack adapter
posts it in the card thread): 131047 as the expired 24-hour window, anything else as a
failed delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.background import RetryLater, with_backoff
from bot.whatsapp.cloud import WINDOW_EXPIRED, CloudClient, SendFailed, chunks
from bot.whatsapp.tuning import Tuning
from handoff import texts
from handoff.ledger import Ledger
from handoff.manager import Notice, SessionManager
from handoff.model import Mode

log = logging.getLogger("handoff.whatsapp")


class _Dropped(Exception):
    """The bot no longer holds the conversation; its reply must not go out."""


def out_key(wamid: str) -> str:
    """Ledger key: a message we sent → the session it went to."""
    return f"wa:out:{wamid}"


def address_key(phone: str) -> str:
    """Ledger key: a session → how Meta last named its customer (the address to write to)."""
    return f"wa:addr:{phone}"


class Outbound:
    """Sends text to a session's customer; `client` is None while the Cloud API is not set."""

    def __init__(self, manager: SessionManager, ledger: Ledger, client: CloudClient | None,
                 tuning: Tuning, on_failure: Callable[[], object] | None = None) -> None:
        self.manager = manager
        self.ledger = ledger
        self.client = client
        self.tuning = tuning
        self.on_failure = on_failure

    async def bot_reply(self, phone: str, text: str, *, address: str | None = None,
                        in_reply_to: str | None = None) -> bool:
        """The agent's answer, in parts if long; False when dropped or not delivered."""

        async def bot_holds_it() -> bool:
            session = await self.manager.get(phone)
            return session is not None and session.mode is Mode.AGENT

        for part in chunks(text):
            sent = await self.send(phone, part, address=address, sender="agent",
                                   guard=bot_holds_it, in_reply_to=in_reply_to)
            if sent is None:
                return False
        return True

    async def send(self, phone: str, text: str, *, address: str | None = None,
                   sender: str = "human", guard: Callable[[], Awaitable[bool]] | None = None,
                   in_reply_to: str | None = None) -> str | None:
        """Send one text; the new wamid, or None when not sent (the reason is logged).

        `guard` runs before every attempt (retries included); False drops the message.
        """
        client = self.client
        if client is None:
            log.warning("whatsapp_send_disabled", extra={"phone": phone, "sender": sender})
            return None
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
            return None
        except SendFailed as exc:
            log.error("whatsapp_send_failed", extra={**context, "code": exc.code,
                                                     "status": exc.status, "detail": exc.detail})
            self.report_failure(phone, exc.code, exc.detail)
            return None
        except (RetryLater, aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.report_failure(phone, None, str(exc) or type(exc).__name__)
            return None
        if wamid:
            await self.ledger.put(out_key(wamid), phone, self.tuning.status_ttl)
        log.info("whatsapp_sent", extra={**context, "wamid": wamid})
        return wamid

    def report_failure(self, phone: str, code: int | None, detail: str,
                       wamid: str | None = None) -> None:
        """Tell attendants a message did not reach the customer (and count it)."""
        if self.on_failure is not None:
            self.on_failure()
        extra = {"code": code, "wamid": wamid}
        if code == WINDOW_EXPIRED:
            notice = Notice(phone, "window_expired",
                            texts.WA_WINDOW_EXPIRED.format(phone=phone), extra)
        else:
            notice = Notice(phone, "send_failed", texts.WA_SEND_FAILED.format(
                phone=phone, code=code if code is not None else "—", detail=detail), extra)
        self.manager.announce(notice)
