"""The outbox's `customer` group: what the service must send to customers, from the events.

An attendant's reply written in Slack, the holding message at the ladder's third step and the
message that tells a customer the bot is back after an auto-release are all sent from here,
through `Reach`, in the order they happened for each conversation, and at least once across
crashes.
"""

from __future__ import annotations

from datetime import datetime

from bot.reach import Reach
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
)
from handoff.hours import BusinessHours
from handoff.machine import Sender
from handoff.manager import SessionManager
from handoff.model import Source

GROUP = "customer"


class CustomerSender:
    """Subscribes to the events that mean "tell the customer"."""

    def __init__(self, manager: SessionManager, reach: Reach, holding_message: str,
                 hours: BusinessHours | None = None) -> None:
        self.manager = manager
        self.reach = reach
        self.holding_message = holding_message
        self.hours = hours

    def subscribe(self, dispatcher: Dispatcher) -> None:
        dispatcher.on(AttendantMessage, "send", self.attendant_message)
        dispatcher.on(HoldingDue, "holding", self.holding)
        dispatcher.on(ModeChanged, "auto_release", self.auto_release)
        dispatcher.on(ModeChanged, "out_of_hours", self.out_of_hours)
        dispatcher.on(TemplateRequested, "template", self.template)

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
