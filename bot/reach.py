"""The one way to reach a customer: the Cloud API when configured, else the integrator's relay,
else nowhere (said in the log). Bot replies, attendants' replies, the holding message and the
auto-release message all go through `Reach`, and what became of each is reported as outbox
events (a failed send, the closed window, a sent reply) for attendants to see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any, Protocol

from bot.media import Opened
from bot.relay import Relay
from bot.sending import Delivery, NotSent
from bot.web.media import MediaLinks
from bot.whatsapp.cloud import MAX_CAPTION, chunks
from bot.whatsapp.outbound import Outbound
from handoff.events import (
    DeliveryUpdate,
    DomainEvent,
    SendFailed,
    TemplateRequested,
    TemplateSent,
    WindowClosed,
)
from handoff.ledger import Ledger
from handoff.machine import Sender
from handoff.manager import SessionManager
from handoff.model import TEMPLATE, Mode

log = logging.getLogger("handoff.reach")


def origin_key(wamid: str) -> str:
    """Ledger key: a message we sent → where the attendant wrote it (for its later statuses)."""
    return f"wa:origin:{wamid}"


class FileSource(Protocol):
    """Where an attendant's files are fetched from (Slack, for files posted in a thread)."""

    def open(self, file: dict[str, Any]) -> AbstractAsyncContextManager[Opened]: ...


class Reach:
    """Sends to customers by whatever channel is configured, and reports the outcome."""

    def __init__(self, manager: SessionManager, ledger: Ledger, *,
                 cloud: Outbound | None, relay: Relay | None, origin_ttl: float,
                 on_failure: Callable[[], object] | None = None,
                 files: FileSource | None = None, links: MediaLinks | None = None) -> None:
        self.links = links
        self.manager = manager
        self.ledger = ledger
        self.cloud = cloud
        self.relay = relay
        self.files = files
        self.origin_ttl = origin_ttl
        self.on_failure = on_failure

    async def send(self, phone: str, text: str, *, sender: Sender,
                   attendant: str | None = None, origin: str | None = None,
                   address: str | None = None, in_reply_to: str | None = None,
                   media: dict[str, Any] | None = None) -> Delivery:
        """One message to the customer of `phone`; failures are reported, never raised.

        `media["files"]` are files to send with `media["text"]` as their caption.
        """
        files = media.get("files") if media else None
        if media and isinstance(files, list) and files:
            caption = media.get("text")
            delivery = await self._files(phone, files, caption if isinstance(caption, str)
                                         else "", attendant)
        elif self.cloud is not None:
            delivery = await self.cloud.send(phone, text, address=address, sender=sender.value,
                                             in_reply_to=in_reply_to)
        elif self.relay is not None:
            delivery = await self._relay(self.relay, phone, text, attendant)
        else:
            log.warning("customer_unreachable", extra={"phone": phone, "sender": sender.value,
                                                       "reason": NotSent.NO_CHANNEL.value})
            delivery = Delivery(False, reason=NotSent.NO_CHANNEL)
        await self.report(phone, delivery, origin, attendant)
        if delivery.sent and sender is Sender.AGENT:
            await self.manager.said(phone, Sender.AGENT, text)
        return delivery

    async def ask(self, phone: str, question: str, options: list[tuple[str, str]]) -> Delivery:
        """A question with reply buttons through the Cloud API; through the relay, the
        question with its options written out (the relay's own flow reads the answer)."""
        if self.cloud is not None:
            delivery = await self.cloud.send_buttons(phone, question, options)
            await self.report(phone, delivery, None)
            if delivery.sent:
                await self.manager.said(phone, Sender.AGENT, question)
            return delivery
        lines = "\n".join(f"{n}. {title}" for n, (_, title) in enumerate(options, start=1))
        return await self.send(phone, f"{question}\n{lines}", sender=Sender.AGENT)

    async def send_template(self, event: TemplateRequested) -> Delivery:
        """An approved template: only through the Cloud API (a relay has no templates)."""
        if self.cloud is None:
            delivery = Delivery(False, reason=NotSent.NO_CHANNEL,
                                detail="templates need the WhatsApp Cloud API")
        else:
            delivery = await self.cloud.send_template(event.phone, event.name, event.language,
                                                      event.params)
        if delivery.sent:
            await self.manager.said(event.phone, TEMPLATE, event.text, event.attendant,
                                    [TemplateSent(event.phone, self.manager.clock(), event.name,
                                                  event.text, event.attendant)])
        else:
            await self.report(event.phone, delivery, None, event.attendant)
        return delivery

    async def _relay(self, relay: Relay, phone: str, text: str, attendant: str | None,
                     attachments: list[dict[str, Any]] | None = None) -> Delivery:
        session = await self.manager.get(phone)
        ok = await relay.send(phone, text, attendant, session.mode.value if session else None,
                              attachments)
        return Delivery(ok, reason=None if ok else NotSent.RELAY_FAILED)

    async def _files(self, phone: str, files: list[dict[str, Any]], caption: str,
                     attendant: str | None) -> Delivery:
        """Each file as its own message; the text rides on the first as its caption (or
        goes first on its own when longer than a caption may be)."""
        if self.cloud is None or self.files is None:
            if self.relay is None:
                log.warning("customer_unreachable", extra={
                    "phone": phone, "sender": "human", "reason": NotSent.NO_CHANNEL.value})
                return Delivery(False, reason=NotSent.NO_CHANNEL)
            if self.links is None:
                log.warning("relay_files_unsigned", extra={"phone": phone})
                return Delivery(False, reason=NotSent.RELAY_FAILED)
            return await self._relay(self.relay, phone, caption, attendant,
                                     [self.links.link(f) for f in files])
        delivery = Delivery(True)
        if len(caption) > MAX_CAPTION:
            delivery = await self.cloud.send(phone, caption, sender="human")
            caption = ""
        for n, file in enumerate(files):
            if not delivery.sent:
                break
            delivery = await self.cloud.send_file(
                phone, partial(self.files.open, file),
                caption=caption.strip() or None if n == 0 else None)
        return delivery

    async def bot_reply(self, phone: str, text: str, *, address: str | None = None,
                        in_reply_to: str | None = None) -> bool:
        """The agent's answer, in parts if long, while the bot still holds the conversation.

        Through the Cloud API each attempt re-checks the mode; through the relay the mode is
        checked once, before the first part.
        """

        async def bot_holds_it() -> bool:
            session = await self.manager.get(phone)
            return session is not None and session.mode is Mode.AGENT

        for part in chunks(text):
            if self.cloud is not None:
                delivery = await self.cloud.send(phone, part, address=address, sender="agent",
                                                 guard=bot_holds_it, in_reply_to=in_reply_to)
                await self.report(phone, delivery, None)
                if delivery.sent:
                    await self.manager.said(phone, Sender.AGENT, part)
            elif not await bot_holds_it():
                return False
            else:
                delivery = await self.send(phone, part, sender=Sender.AGENT)
            if not delivery.sent:
                return False
        return True

    async def report(self, phone: str, delivery: Delivery, origin: str | None,
                     attendant: str | None = None) -> None:
        """A sent reply and any failure become events (the Slack adapter shows them)."""
        event: DomainEvent | None = None
        now = self.manager.clock()
        if delivery.sent:
            if delivery.wamid and origin:
                await self.ledger.put(origin_key(delivery.wamid), origin, self.origin_ttl)
            if origin:
                event = DeliveryUpdate(phone, now, "sent", delivery.wamid, origin)
        elif delivery.reason is NotSent.DROPPED or (
                delivery.reason is NotSent.NO_CHANNEL and origin is None):
            return  # nothing to tell attendants: no channel was ever configured
        else:
            if self.on_failure is not None and delivery.reason is not NotSent.NO_CHANNEL:
                self.on_failure()
            if delivery.reason is NotSent.WINDOW_CLOSED:
                event = WindowClosed(phone, now, delivery.wamid, origin)
            else:
                event = SendFailed(phone, now, (delivery.reason or NotSent.REFUSED).value,
                                   delivery.code, delivery.detail, delivery.wamid, origin,
                                   attendant)
        if event is not None:
            await self.manager.emit(phone, event)

    async def origin_of(self, wamid: str) -> str | None:
        return await self.ledger.get(origin_key(wamid))
