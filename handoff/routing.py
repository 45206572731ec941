"""Fair offers, as policy: what an offer is, and who is offered a conversation.

With `HANDOFF_ASSIGNMENT=offer`, the oldest waiting customer is offered to one available
attendant at a time; whoever does not answer in time, or declines, is passed over for that
wait. The channel card stays clickable by anyone: an offer is a nudge, the card is the truth.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from handoff.model import Session
from handoff.summary import SUMMARY_KEY


class OfferReason(enum.StrEnum):
    WAITING = "waiting"  # a customer in the queue
    SILENT = "silent"    # the holder went quiet: offered to someone else before the bot


class OfferOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMEOUT = "timeout"
    TAKEN = "taken"  # the conversation moved on without the offer (the card, a reply)


class Made(enum.StrEnum):
    """What asking the book for an offer gave."""

    OFFERED = "offered"
    BUSY = "busy"    # the conversation is already on offer
    MOVED = "moved"  # it is no longer waiting (or no longer with the silent holder)
    TRIED = "tried"  # this attendant was already offered it, this wait
    FULL = "full"    # the attendant holds (or is offered) the limit already


@dataclass(frozen=True)
class Offer:
    """One conversation on offer to one attendant; `at` names it, `episode` says which wait
    (the customer's `paused_at`, or the silent holder's last activity)."""

    phone: str
    attendant: str
    at: float
    expires: float
    reason: OfferReason
    episode: float
    holder: str | None = None
    accepting: bool = False


@dataclass(frozen=True)
class Queue:
    """What `/status` and the dashboard show of routing."""

    waiting: list[Session]  # oldest first: a customer's place is their index + 1
    offers: dict[str, Offer]  # by phone
    serving: list[Session]  # held by an attendant

    @property
    def held(self) -> dict[str, int]:
        """How many conversations each attendant holds."""
        out: dict[str, int] = {}
        for s in self.serving:
            if s.human_attendant:
                out[s.human_attendant] = out.get(s.human_attendant, 0) + 1
        return out

    def place(self, phone: str) -> int | None:
        for n, s in enumerate(self.waiting, start=1):
            if s.phone == phone:
                return n
        return None

    def load(self, attendant: str) -> int:
        """What counts against the limit: held, plus on offer to them."""
        return sum(s.human_attendant == attendant for s in self.serving) + sum(
            o.attendant == attendant for o in self.offers.values())


@dataclass(frozen=True)
class Attendant:
    """A member of the attendants' team, and whether they are there now."""

    id: str
    present: bool


def last_served(session: Session) -> str | None:
    """Who held the conversation last (its hand-back summary), to be preferred."""
    summary = session.metadata.get(SUMMARY_KEY)
    who = summary.get("attendant") if isinstance(summary, dict) else None
    return who if isinstance(who, str) and who else None


def pick(attendants: Sequence[Attendant], loads: Mapping[str, int], limit: int, *,
         prefer: str | None = None, exclude: Collection[str] = (),
         last_offered: Mapping[str, float] | None = None) -> str | None:
    """Who gets the offer: someone present, under the limit and not passed over already;
    whoever served the customer last, else whoever holds fewest; between equals, whoever was
    offered one longest ago (then the team's order), so the work goes round. None when nobody
    is available."""
    free = [a for a in attendants
            if a.present and a.id not in exclude and loads.get(a.id, 0) < limit]
    if not free:
        return None
    if prefer is not None and any(a.id == prefer for a in free):
        return prefer
    since = last_offered or {}
    return min(free, key=lambda a: (loads.get(a.id, 0), since.get(a.id, 0.0))).id
