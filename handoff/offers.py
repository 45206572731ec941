"""The offer book: which conversation is on offer to whom, shared by every process.

Each method is one atomic step, so with any number of processes a conversation is on offer to
one attendant at most, and an attendant is never offered past the limit (what they hold plus
what is on offer to them). Making and ending an offer write its event (`Offered`,
`OfferEnded`) in the same step, like every store transition.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace

from handoff.events import Offered, OfferEnded
from handoff.model import Mode
from handoff.routing import Made, Offer, OfferOutcome, OfferReason
from handoff.store.memory import MemoryStore

#: How long an accepted offer blocks others while its takeover runs (a process dying right
#: then frees it after this).
ACCEPT_GRACE = 30.0
#: How long who was passed over is remembered for one wait.
TRIED_TTL = 24 * 3600.0


def offered(offer: Offer) -> Offered:
    return Offered(offer.phone, offer.at, offer.attendant, offer.expires, offer.reason.value,
                   offer.holder)


def ended(offer: Offer, outcome: OfferOutcome, now: float) -> OfferEnded:
    return OfferEnded(offer.phone, now, offer.at, offer.attendant, outcome.value,
                      offer.reason.value)


class OfferBook(ABC):
    @abstractmethod
    async def make(self, offer: Offer, limit: int) -> Made:
        """Put `offer` on the book if its conversation is still in the state it was made for
        (waiting since `episode`, or held by the silent `holder`), is on offer to nobody, and
        the attendant was not passed over this wait and is under `limit`."""

    @abstractmethod
    async def accept(self, phone: str, attendant: str, at: float, now: float
                     ) -> Offer | None:
        """The offer `at` for `attendant`, held for its takeover; None when it is gone (timed
        out, declined, taken) or was someone else's."""

    @abstractmethod
    async def end(self, phone: str, at: float, outcome: OfferOutcome, now: float, *,
                  attendant: str | None = None, expired_only: bool = False) -> Offer | None:
        """Close the offer `at` (for `attendant`, when given; only once it expired, with
        `expired_only`). A decline or a timeout passes the attendant over for this wait.
        Returns the offer closed, or None when someone else closed it first."""

    @abstractmethod
    async def open(self) -> list[Offer]:
        """Every offer on the book, soonest to expire first."""

    @abstractmethod
    async def tried(self, phone: str, episode: float) -> set[str]:
        """Who was passed over for this wait."""


class MemoryOffers(OfferBook):
    """The book in this process, beside the memory store it reads sessions from."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._offers: dict[str, Offer] = {}
        self._tried: dict[tuple[str, float], tuple[set[str], float]] = {}

    def _load(self, attendant: str) -> int:
        return (self.store.holding(attendant)
                + sum(1 for o in self._offers.values() if o.attendant == attendant))

    async def make(self, offer: Offer, limit: int) -> Made:
        session = self.store.peek(offer.phone)
        if offer.phone in self._offers:
            return Made.BUSY
        if session is None or (
                (session.mode is not Mode.PAUSED or session.paused_at != offer.episode)
                if offer.reason is OfferReason.WAITING else
                (session.mode is not Mode.HUMAN or session.human_attendant != offer.holder)):
            return Made.MOVED
        if offer.attendant in await self.tried(offer.phone, offer.episode):
            return Made.TRIED
        if self._load(offer.attendant) >= limit:
            return Made.FULL
        self._offers[offer.phone] = offer
        self.store.outbox.append([offered(offer)])
        return Made.OFFERED

    async def accept(self, phone: str, attendant: str, at: float, now: float
                     ) -> Offer | None:
        found = self._offers.get(phone)
        if (found is None or found.at != at or found.attendant != attendant
                or found.accepting or found.expires <= now):
            return None
        held = self._offers[phone] = replace(found, accepting=True,
                                             expires=now + ACCEPT_GRACE)
        return held

    async def end(self, phone: str, at: float, outcome: OfferOutcome, now: float, *,
                  attendant: str | None = None, expired_only: bool = False) -> Offer | None:
        found = self._offers.get(phone)
        if (found is None or found.at != at
                or (attendant is not None and found.attendant != attendant)
                or (expired_only and found.expires > now)):
            return None
        del self._offers[phone]
        if outcome in (OfferOutcome.DECLINED, OfferOutcome.TIMEOUT):
            self._tried = {k: v for k, v in self._tried.items() if v[1] > now}
            key = (phone, found.episode)
            self._tried[key] = (await self.tried(phone, found.episode) | {found.attendant},
                                now + TRIED_TTL)
        self.store.outbox.append([ended(found, outcome, now)])
        return found

    async def open(self) -> list[Offer]:
        return sorted(self._offers.values(), key=lambda o: o.expires)

    async def tried(self, phone: str, episode: float) -> set[str]:
        found = self._tried.get((phone, episode))
        return set(found[0]) if found else set()
