"""What a worker does with one queued item: a message goes to the manager (and the bot's reply
to the customer), a status update is recorded and, if it failed, reported to attendants.

Exactly once, across crashes: the webhook queues each wamid once; the manager records it once
(its `message_id` dedupe is atomic in the store); the reply is marked answered in the ledger
before the item is acknowledged. A worker that died after the manager recorded the message
but before answering leaves the item to be redelivered: the manager then says `duplicate`,
no answered mark exists, and the reply is produced again from the session as it is now.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import replies
from bot.customer import CSAT_PREFIX
from bot.reach import Reach
from bot.sending import NotSent
from bot.whatsapp.cloud import WINDOW_EXPIRED
from bot.whatsapp.outbound import address_key, out_key
from bot.whatsapp.payloads import InboundMessage, StatusUpdate
from bot.whatsapp.tuning import Tuning
from handoff.events import DeliveryUpdate, DomainEvent, SendFailed, WindowClosed
from handoff.ledger import Ledger
from handoff.machine import Reason, Sender
from handoff.manager import SessionManager
from handoff.model import PROFILE_NAME, Mode, Source

log = logging.getLogger("handoff.whatsapp")

#: A later status never loses to an earlier one that Meta delivers late.
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 5}


def answered_key(wamid: str) -> str:
    return f"wa:answered:{wamid}"


def status_key(wamid: str) -> str:
    """Ledger key: our sent message → its latest status (`"<rank>:<status>"`)."""
    return f"wa:status:{wamid}"


class Handler:
    """Handles queued webhook items; raising leaves the item queued for another try.

    Each status that is news for one of our messages becomes a `DeliveryUpdate` event; a
    failure also becomes a `SendFailed` (or `WindowClosed`) event.
    """

    def __init__(self, manager: SessionManager, ledger: Ledger, reach: Reach,
                 tuning: Tuning) -> None:
        self.manager = manager
        self.ledger = ledger
        self.reach = reach
        self.tuning = tuning

    async def handle(self, body: dict[str, Any]) -> None:
        kind = body.get("kind")
        if kind == "message":
            await self.message(InboundMessage.from_json(body))
        elif kind == "status":
            await self.status(StatusUpdate.from_json(body))
        else:
            log.warning("whatsapp_item_unknown", extra={"kind": kind})

    async def message(self, m: InboundMessage) -> None:
        done = answered_key(m.wamid)
        if m.echo and await self.ledger.get(out_key(m.wamid)) is not None:
            log.info("whatsapp_own_echo", extra={"phone": m.key, "wamid": m.wamid})
            return
        if not m.echo:
            await self.ledger.put(address_key(m.key), m.address, self.tuning.fact_ttl)
        if not m.echo and m.reply_id and m.reply_id.startswith(CSAT_PREFIX):
            # A rating: recorded (once), never passed to the bot.
            score = m.reply_id.removeprefix(CSAT_PREFIX)
            if score.isdigit():
                await self.manager.rate(m.key, int(score), once=m.wamid)
                log.info("whatsapp_rating", extra={"phone": m.key, "score": int(score)})
                return
        result = await self.manager.handle_message(
            m.key, m.text, Sender.HUMAN if m.echo else Sender.CUSTOMER, message_id=m.wamid,
            metadata={PROFILE_NAME: m.profile_name} if m.profile_name else None,
            source=Source.WHATSAPP, media=m.media)
        response = result.response if result.should_respond else None
        if result.reason is Reason.DUPLICATE:
            if await self.ledger.get(done) is not None:
                log.info("whatsapp_duplicate", extra={"phone": m.key, "wamid": m.wamid})
                return
            response = await self._recover(m)
        log.info("whatsapp_message", extra={
            "phone": m.key, "wamid": m.wamid, "type": m.type, "echo": m.echo,
            "reason": result.reason.value, "responds": response is not None})
        if result.command is not None:
            log.info("whatsapp_command_answer", extra={"phone": m.key,
                                                       "answer": replies.word(result.command)})
        if response:
            await self.reach.bot_reply(m.key, response, address=m.address,
                                       in_reply_to=m.wamid)
        await self.ledger.put(done, "1", self.tuning.fact_ttl)

    async def _recover(self, m: InboundMessage) -> str | None:
        """An earlier attempt recorded this message and died before answering it.

        The bot answers only if it still holds the conversation (the send re-checks as well).
        """
        session = await self.manager.get(m.key)
        log.warning("whatsapp_recovered", extra={
            "phone": m.key, "wamid": m.wamid, "mode": session.mode.value if session else None})
        if m.echo or session is None or session.mode is not Mode.AGENT:
            return None
        return await self.manager.agent_reply(session, m.text)

    async def status(self, s: StatusUpdate) -> None:
        phone = await self.ledger.get(out_key(s.wamid)) or s.key
        rank = STATUS_RANK.get(s.status, 0)
        fresh = rank > 0 and await self.ledger.advance(status_key(s.wamid), rank, s.status,
                                                       self.tuning.status_ttl)
        log.info("whatsapp_status", extra={"phone": phone, "wamid": s.wamid,
                                           "status": s.status, "fresh": fresh,
                                           "codes": s.codes()})
        if not fresh or phone is None:
            return
        origin = await self.reach.origin_of(s.wamid)
        now = self.manager.clock()
        events: list[DomainEvent] = [DeliveryUpdate(phone, now, s.status, s.wamid, origin)]
        if s.status == "failed":
            codes = s.codes()
            first = s.errors[0] if s.errors else {}
            if WINDOW_EXPIRED in codes:
                events.append(WindowClosed(phone, now, s.wamid, origin))
            else:
                events.append(SendFailed(
                    phone, now, NotSent.REFUSED.value, codes[0] if codes else None,
                    str(first.get("details") or first.get("title") or ""), s.wamid, origin))
            if self.reach.on_failure is not None:
                self.reach.on_failure()
        await self.manager.emit(phone, *events)
