"""The outbox's `customer` group: what the service must send to customers, from the events.

An attendant's reply written in Slack, the holding message at the ladder's third step and the
message that tells a customer the bot is back after an auto-release are all sent from here,
through `Reach`, in the order they happened for each conversation, and at least once across
crashes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.reach import Reach
from bot.settings import Settings
from bot.whatsapp import texts as wa_texts
from handoff.delivery import Dispatcher
from handoff.events import (
    AttendantMessage,
    CustomerTold,
    Happening,
    HoldingDue,
    ModeChanged,
    TemplateRequested,
    Told,
    Transferred,
)
from handoff.hours import BusinessHours
from handoff.machine import Sender
from handoff.manager import SessionManager
from handoff.model import Mode, Source

GROUP = "customer"
#: The satisfaction answers' button ids: `csat:3` (best) … `csat:1`.
CSAT_PREFIX = "csat:"


#: Recent claims the queue's estimate reads, and how many make it worth saying.
ESTIMATE_WINDOW = 2 * 3600.0
ESTIMATE_SAMPLES = 3

#: The attendant's name as a person reads it (their Slack display name), if known.
NameOf = Callable[[str], Awaitable[str | None]]


def plain_name(attendant: str) -> str | None:
    """A name from an attendant id when nothing better is known: `ana.souza@x` → "Ana"."""
    local = attendant.split("@", 1)[0].split(".", 1)[0].strip()
    return local.capitalize() if local.isalpha() else None


class CustomerSender:
    """Subscribes to the events that mean "tell the customer"."""

    def __init__(self, manager: SessionManager, reach: Reach, settings: Settings,
                 hours: BusinessHours | None = None, names: NameOf | None = None) -> None:
        self.manager = manager
        self.reach = reach
        self.settings = settings
        self.holding_message = settings.handoff_holding_message
        self.hours = hours
        self.names = names

    def subscribe(self, dispatcher: Dispatcher) -> None:
        dispatcher.on(AttendantMessage, "send", self.attendant_message)
        dispatcher.on(HoldingDue, "holding", self.holding)
        dispatcher.on(ModeChanged, "auto_release", self.auto_release)
        dispatcher.on(ModeChanged, "out_of_hours", self.out_of_hours)
        dispatcher.on(ModeChanged, "queue", self.queue)
        dispatcher.on(ModeChanged, "claimed", self.claimed)
        dispatcher.on(ModeChanged, "csat", self.csat)
        dispatcher.on(Transferred, "claimed", self.transferred)
        dispatcher.on(TemplateRequested, "template", self.template)

    async def queue(self, event: ModeChanged) -> None:
        """A customer who asks for a person (the team open) hears their place in the queue,
        and an estimate when enough people were taken lately."""
        if not self.settings.handoff_queue_ack or event.event != Happening.ESCALATION_REQUESTED \
                or (self.hours is not None and not self.hours.is_open(event.at)):
            return
        waiting = await self.manager.list_active(Mode.PAUSED)
        mine = event.paused_at or event.at
        position = max(1, sum(1 for s in waiting if (s.paused_at or 0) <= mine))
        waits = await self.manager.recent_waits(event.at - ESTIMATE_WINDOW)
        if len(waits) >= ESTIMATE_SAMPLES:
            minutes = max(1, math.ceil(statistics.median(waits) * position / 60))
            text = self.settings.handoff_queue_estimate_message.format(position=position,
                                                                     minutes=minutes)
        else:
            text = self.settings.handoff_queue_message.format(position=position)
        await self.reach.send(event.phone, text, sender=Sender.AGENT)

    async def claimed(self, event: ModeChanged) -> None:
        """A person took the conversation: the wait is kept for the estimate, and the customer
        is told who is with them."""
        if event.event != Happening.TAKEOVER:
            return
        if event.from_mode == Mode.PAUSED and event.paused_at and event.taken_at:
            await self.manager.claimed(max(0.0, event.taken_at - event.paused_at),
                                       event.taken_at)
        await self._announce(event.phone, event.holder)

    async def transferred(self, event: Transferred) -> None:
        await self._announce(event.phone, event.to)

    async def _announce(self, phone: str, attendant: str | None) -> None:
        if not self.settings.handoff_announce_attendant or not attendant:
            return
        name = (await self.names(attendant) if self.names else None) or plain_name(attendant)
        text = self.settings.handoff_announce_message.format(name=name) if name \
            else wa_texts.ANNOUNCE_NAMELESS
        await self.reach.send(phone, text, sender=Sender.AGENT)

    async def csat(self, event: ModeChanged) -> None:
        """After a person hands the conversation back, the customer may rate it."""
        if not self.settings.handoff_csat or event.from_mode != Mode.HUMAN or \
                event.event not in (Happening.RELEASE, Happening.AUTO_RELEASE):
            return
        options = [(f"{CSAT_PREFIX}{len(self.settings.handoff_csat_options) - n}", title)
                   for n, title in enumerate(self.settings.handoff_csat_options[:3])]
        await self.reach.ask(event.phone, self.settings.handoff_csat_question, options)

    async def attendant_message(self, event: AttendantMessage) -> None:
        await self.reach.send(event.phone, event.text, sender=Sender.HUMAN,
                              attendant=event.attendant, origin=event.origin,
                              media=event.media)

    async def out_of_hours(self, event: ModeChanged) -> None:
        """A customer who asks for a person while the team is closed is told when it is back."""
        hours = self.hours
        if event.event != Happening.ESCALATION_REQUESTED or hours is None or \
                hours.is_open(event.at):
            return
        opening = hours.next_opening(event.at)
        if opening is None:
            return
        now = datetime.fromtimestamp(event.at, hours.zone)
        await self.reach.send(event.phone, wa_texts.OUT_OF_HOURS.format(
            when=wa_texts.when_back(opening.at, now)), sender=Sender.AGENT)

    async def template(self, event: TemplateRequested) -> None:
        await self.reach.send_template(event)

    async def holding(self, event: HoldingDue) -> None:
        sent = (await self.reach.send(event.phone, self.holding_message,
                                      sender=Sender.AGENT)).sent
        told = CustomerTold(event.phone, self.manager.clock(), Told.HOLDING.value, sent,
                            event.waited, event.name)
        await self.manager.record(
            event.phone, Happening.HOLDING_MESSAGE if sent else Happening.HOLDING_SKIPPED,
            "monitor", Source.MONITOR, [told])

    async def auto_release(self, event: ModeChanged) -> None:
        if event.event == Happening.AUTO_RELEASE:
            await self.reach.send(event.phone, wa_texts.AUTO_RELEASE_CUSTOMER, sender=Sender.AGENT)
