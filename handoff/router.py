"""Runs fair offers: each tick closes what expired or moved on, then offers the waiting.

Every process may run it: each step is one atomic step of the offer book, so processes
racing on one customer make one offer, and no attendant is offered past the limit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from handoff.hours import BusinessHours
from handoff.machine import last_activity
from handoff.manager import SessionManager
from handoff.model import Mode, Session
from handoff.offers import OfferBook
from handoff.routing import (
    Attendant,
    Made,
    Offer,
    OfferOutcome,
    OfferReason,
    Queue,
    last_served,
    pick,
)

log = logging.getLogger("handoff.routing")


class Roster(Protocol):
    """The attendants' team and who is there now (the Slack adapter asks Slack)."""

    async def attendants(self) -> list[Attendant]: ...


class Router:
    def __init__(self, manager: SessionManager, book: OfferBook, roster: Roster, *,
                 limit: int, seconds: float, hours: BusinessHours | None = None) -> None:
        self.manager = manager
        self.book = book
        self.roster = roster
        self.limit = limit
        self.seconds = seconds
        self.hours = hours
        #: The team as last seen by this process (shown beside the loads).
        self.team: list[Attendant] = []
        #: When this process last offered each attendant a conversation (ties go round).
        self.last_offered: dict[str, float] = {}

    async def tick(self) -> list[Offer]:
        """Close offers that expired or whose conversation moved on; offer the waiting,
        oldest first. Returns the offers made."""
        now = self.manager.clock()
        queue = await self.manager.queue()
        held = {s.phone: s for s in queue.serving}
        waiting = {s.phone: s for s in queue.waiting}
        for offer in list(queue.offers.values()):
            outcome = None
            if offer.expires <= now:
                # An Aceitar whose process died before closing its offer: the conversation
                # says how it went.
                outcome = (_after_accepting(offer, held) if offer.accepting
                           else OfferOutcome.TIMEOUT)
            elif not offer.accepting and not _still_for(offer, waiting, held):
                outcome = OfferOutcome.TAKEN
            if outcome is not None:
                await self.book.end(offer.phone, offer.at, outcome, now,
                                    expired_only=outcome is OfferOutcome.TIMEOUT)
                del queue.offers[offer.phone]
        if self.hours is not None and not self.hours.is_open(now):
            return []
        pending = [s for s in queue.waiting if s.phone not in queue.offers]
        if not pending:
            return []
        made = []
        team = await self._team()
        for session in pending:
            found = await self._offer(session, team, queue, OfferReason.WAITING,
                                      session.paused_at or 0.0, None)
            if found is not None:
                made.append(found)
        return made

    async def rescue(self, session: Session) -> bool:
        """The watchdog asks before handing a silent holder's conversation back to the bot:
        True while it is on offer to someone else (or was just offered), False when nobody
        else can take it."""
        if session.mode is not Mode.HUMAN or not session.human_attendant:
            return False
        queue = await self.manager.queue()
        if session.phone in queue.offers:
            return True
        offer = await self._offer(session, await self._team(), queue, OfferReason.SILENT,
                                  last_activity(session), session.human_attendant)
        # Another process may have offered it meanwhile: then it is on offer all the same.
        return offer is not None or await self.on_offer(session.phone)

    async def on_offer(self, phone: str) -> bool:
        return any(o.phone == phone for o in await self.book.open())

    async def _team(self) -> list[Attendant]:
        self.team = await self.roster.attendants()
        return self.team

    async def _offer(self, session: Session, team: Sequence[Attendant], queue: Queue,
                     reason: OfferReason, episode: float, holder: str | None) -> Offer | None:
        """Offer `session` to the best attendant left; the book has the last word (another
        process may have offered it, or filled the attendant, meanwhile)."""
        loads = {a.id: queue.load(a.id) for a in team}
        if pick(team, loads, self.limit, exclude={holder} if holder else ()) is None:
            return None  # nobody free at all: no need to ask who was passed over
        passed = await self.book.tried(session.phone, episode)
        if holder:
            passed.add(holder)
        while True:
            who = pick(team, loads, self.limit, prefer=last_served(session), exclude=passed,
                       last_offered=self.last_offered)
            if who is None:
                return None
            now = self.manager.clock()
            offer = Offer(session.phone, who, now, now + self.seconds, reason, episode, holder)
            made = await self.book.make(offer, self.limit)
            if made is Made.OFFERED:
                log.info("offered", extra={"phone": session.phone, "attendant": who,
                                           "reason": reason.value})
                queue.offers[session.phone] = offer
                self.last_offered[who] = now
                return offer
            if made in (Made.BUSY, Made.MOVED):
                return None
            passed.add(who)


def _still_for(offer: Offer, waiting: dict[str, Session], held: dict[str, Session]) -> bool:
    """Is the conversation still in the state it was offered in?"""
    if offer.reason is OfferReason.WAITING:
        found = waiting.get(offer.phone)
        return found is not None and found.paused_at == offer.episode
    found = held.get(offer.phone)
    return (found is not None and found.human_attendant == offer.holder
            and last_activity(found) == offer.episode)


def _after_accepting(offer: Offer, held: dict[str, Session]) -> OfferOutcome:
    """How an accepted offer ended when its closing step was lost."""
    found = held.get(offer.phone)
    if found is not None and found.human_attendant == offer.attendant:
        return OfferOutcome.ACCEPTED
    return OfferOutcome.TAKEN if found is not None else OfferOutcome.TIMEOUT
