"""What happens to a conversation, as types: the outbox carries these from the core to adapters.

Every store transition writes its events in the same atomic step as the change (see
`handoff.outbox`); adapters subscribe by type (`handoff.delivery.Dispatcher.on`). An event is
a plain frozen dataclass whose fields are JSON values, so the Redis store's Lua scripts can
write the same records the memory store writes in Python.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass
from typing import Any, ClassVar


class Happening(enum.StrEnum):
    """The names of a session's history lines (`Event.event`)."""

    ESCALATION_REQUESTED = "escalation_requested"
    TAKEOVER = "takeover"
    RELEASE = "release"
    AUTO_RELEASE = "auto_release"
    PAUSE = "pause"
    TRANSFER = "transfer"
    NOTE = "note"
    PAGE_1 = "page_1"
    PAGE_2 = "page_2"
    HOLDING_MESSAGE = "holding_message"
    HOLDING_SKIPPED = "holding_skipped"
    REMINDER = "reminder"
    CSAT = "csat"


@dataclass(frozen=True)
class DomainEvent:
    """Base of every event: which conversation, and when (Unix seconds)."""

    kind: ClassVar[str] = ""

    phone: str
    at: float

    def data(self) -> dict[str, Any]:
        """The fields other than `phone`, as JSON values (the outbox stores them apart)."""
        out = dataclasses.asdict(self)
        out.pop("phone")
        return out


@dataclass(frozen=True)
class ModeChanged(DomainEvent):
    """The session changed hands: the history line it logged, and who holds it now."""

    kind: ClassVar[str] = "mode_changed"

    event: str
    actor: str | None
    source: str
    from_mode: str
    to_mode: str
    holder: str | None = None
    paused_at: float | None = None
    taken_at: float | None = None


@dataclass(frozen=True)
class Transferred(DomainEvent):
    """The holder (or a supervisor, `by`) passed the conversation from one attendant to
    another."""

    kind: ClassVar[str] = "transferred"

    by: str
    from_attendant: str
    to: str
    source: str


@dataclass(frozen=True)
class CustomerMessage(DomainEvent):
    """A customer wrote while a person is needed or holds the conversation."""

    kind: ClassVar[str] = "customer_message"

    text: str
    mode: str
    name: str | None = None
    media: dict[str, Any] | None = None


@dataclass(frozen=True)
class AttendantMessage(DomainEvent):
    """An attendant wrote something that must reach the customer; `origin` is where it was
    written (an adapter's opaque reference, e.g. the Slack message), for delivery reports."""

    kind: ClassVar[str] = "attendant_message"

    text: str
    attendant: str
    origin: str | None = None
    #: Files to send with it: `{"files": [...]}` as the adapter described them.
    media: dict[str, Any] | None = None


@dataclass(frozen=True)
class AttendantWrote(DomainEvent):
    """Someone wrote in a conversation's place in an adapter (a reply in a Slack card's
    thread): taken in order, as written, to be checked and acted on by that adapter.
    `author` is the adapter's id for the writer; `origin` where the message is; `place` the
    conversation's place (the thread)."""

    kind: ClassVar[str] = "attendant_wrote"

    author: str
    text: str
    origin: str
    place: str
    #: Files that came with it (the adapter's description of each: name, type, size, where).
    files: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class NoteAdded(DomainEvent):
    """An internal note: kept in the history, never sent to the customer."""

    kind: ClassVar[str] = "note_added"

    attendant: str
    text: str = ""
    origin: str | None = None


@dataclass(frozen=True)
class HandedBack(DomainEvent):
    """The hand-back summary of a stretch with a person (see `handoff.summary`)."""

    kind: ClassVar[str] = "handed_back"

    summary: dict[str, Any]


@dataclass(frozen=True)
class PageDue(DomainEvent):
    """A waiting customer reached a step of the on-call ladder (1: on-call, 2: supervisors)."""

    kind: ClassVar[str] = "page_due"

    step: int
    waited: float
    name: str | None = None
    #: Raised while the team is closed (after-hours on-call is paged instead).
    after_hours: bool = False


@dataclass(frozen=True)
class HoldingDue(DomainEvent):
    """Nobody picked the customer up: they are to be told we are busy (ladder step 3)."""

    kind: ClassVar[str] = "holding_due"

    waited: float
    name: str | None = None


@dataclass(frozen=True)
class ReminderDue(DomainEvent):
    """The holder has not answered the customer for a while."""

    kind: ClassVar[str] = "reminder_due"

    attendant: str
    waited: float
    name: str | None = None


class Told(enum.StrEnum):
    """Messages the service itself sends a customer."""

    HOLDING = "holding"


@dataclass(frozen=True)
class CustomerTold(DomainEvent):
    """The service sent the customer one of its own messages (or could not)."""

    kind: ClassVar[str] = "customer_told"

    what: str
    sent: bool
    waited: float = 0.0
    name: str | None = None


@dataclass(frozen=True)
class DeliveryUpdate(DomainEvent):
    """What became of a message sent to the customer: `sent`, `delivered`, `read`, …"""

    kind: ClassVar[str] = "delivery_update"

    status: str
    wamid: str | None = None
    origin: str | None = None


@dataclass(frozen=True)
class SendFailed(DomainEvent):
    """A message did not reach the customer; `reason` says why (an adapter's code)."""

    kind: ClassVar[str] = "send_failed"

    reason: str
    code: int | None = None
    detail: str = ""
    wamid: str | None = None
    origin: str | None = None
    attendant: str | None = None


@dataclass(frozen=True)
class WindowClosed(DomainEvent):
    """Meta refused a message because the customer's 24-hour window has closed."""

    kind: ClassVar[str] = "window_closed"

    wamid: str | None = None
    origin: str | None = None


@dataclass(frozen=True)
class TemplateRequested(DomainEvent):
    """An attendant chose an approved template for the customer (outside the window, say)."""

    kind: ClassVar[str] = "template_requested"

    name: str
    language: str
    params: list[str]
    text: str
    attendant: str


@dataclass(frozen=True)
class TemplateSent(DomainEvent):
    """The template reached Meta: what the customer reads, and who sent it."""

    kind: ClassVar[str] = "template_sent"

    name: str
    text: str
    attendant: str


@dataclass(frozen=True)
class Rated(DomainEvent):
    """The customer rated the service after hand-back (1 to 3); whose it was."""

    kind: ClassVar[str] = "rated"

    score: int
    attendant: str | None = None


@dataclass(frozen=True)
class WindowDue(DomainEvent):
    """The customer's 24-hour window closes at `closes_at` (soon), or has closed."""

    kind: ClassVar[str] = "window_due"

    closes_at: float
    closed: bool
    holder: str | None = None


@dataclass(frozen=True)
class Offered(DomainEvent):
    """The conversation is offered to one attendant until `expires` (`at` names the offer);
    `reason` is `waiting` (a customer in the queue) or `silent` (its holder went quiet,
    `holder`)."""

    kind: ClassVar[str] = "offered"

    attendant: str
    expires: float
    reason: str
    holder: str | None = None


@dataclass(frozen=True)
class OfferEnded(DomainEvent):
    """The offer made at `offered_at` ended: accepted, declined, timeout, or taken (the
    conversation moved on without it)."""

    kind: ClassVar[str] = "offer_ended"

    offered_at: float
    attendant: str
    outcome: str
    reason: str


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.kind: cls for cls in (ModeChanged, Transferred, CustomerMessage, AttendantMessage,
                              AttendantWrote,
                              NoteAdded, HandedBack, PageDue, HoldingDue, ReminderDue,
                              CustomerTold, DeliveryUpdate, SendFailed, WindowClosed,
                              WindowDue, TemplateRequested, TemplateSent, Rated, Offered,
                              OfferEnded)}


class UnknownEvent(ValueError):
    """An outbox entry of a kind this version does not know (written by a newer one)."""


def encode(event: DomainEvent) -> str:
    return json.dumps(event.data(), ensure_ascii=False, separators=(",", ":"))


def decode(kind: str, phone: str, data: str) -> DomainEvent:
    """The event an outbox entry holds; fields this version does not know are ignored."""
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise UnknownEvent(kind)
    raw = json.loads(data) if data else {}
    if not isinstance(raw, dict):
        raise ValueError("event data is not an object")
    numbers, optional = _shape(cls)
    names = {f.name for f in dataclasses.fields(cls)} - {"phone"}
    # Lua leaves out what is nil: an optional field missing is None.
    fields: dict[str, Any] = dict.fromkeys(optional)
    for key, value in raw.items():
        if key not in names:
            continue
        # Lua keeps times as the caller's decimal strings, to the last digit.
        fields[key] = float(value) if key in numbers and isinstance(value, str) else value
    return cls(phone=phone, **fields)


_SHAPES: dict[type[DomainEvent], tuple[set[str], set[str]]] = {}


def _shape(cls: type[DomainEvent]) -> tuple[set[str], set[str]]:
    """The names of `cls`'s number fields and of its optional fields."""
    found = _SHAPES.get(cls)
    if found is None:
        fields = dataclasses.fields(cls)
        found = _SHAPES[cls] = ({f.name for f in fields if str(f.type).startswith("float")},
                                {f.name for f in fields if str(f.type).endswith("| None")})
    return found
