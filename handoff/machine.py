"""The mode state machine as pure functions over a `Session`.

The memory store applies these directly; the Redis store's Lua scripts (store/lua/) are the
same rules, run inside Redis so each transition is one atomic step. The shared store tests
hold the two to the same behaviour.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from handoff.events import (
    AttendantMessage,
    CustomerMessage,
    DomainEvent,
    Happening,
    ModeChanged,
    Transferred,
)
from handoff.model import Event, Mode, Session


class Sender(enum.StrEnum):
    """Who wrote a WhatsApp message: the customer, an attendant, or the bot itself."""

    CUSTOMER = "customer"
    HUMAN = "human"
    AGENT = "agent"


class Reason(enum.StrEnum):
    """Why the bot may or may not answer; the webhook's `reason` field."""

    AGENT_ACTIVE = "agent_active"
    ESCALATION_REQUESTED = "escalation_requested"
    WAITING_HUMAN = "waiting_human"
    HUMAN_ACTIVE = "human_active"
    COMMAND = "command"
    RECORDED = "recorded"
    DUPLICATE = "duplicate"


class Outcome(enum.StrEnum):
    """What a takeover, release or pause did."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    NOT_HELD = "not_held"      # a transfer of a conversation nobody holds
    SAME = "same"              # a transfer to whoever holds it already


@dataclass(frozen=True)
class Inbound:
    """One message to record, already validated and with its phone canonical."""

    phone: str
    sender: Sender
    text: str
    source: str
    attendant: str | None = None
    message_id: str | None = None
    escalate: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    #: An attendant's message to be sent to the customer (written in Slack, say), and where
    #: it was written, for the delivery reports.
    deliver: bool = False
    origin: str | None = None
    #: A file that came with the message (an adapter's reference: kind, id or url, name…).
    media: dict[str, Any] | None = None


@dataclass
class Step:
    """The result of one transition: the session after it and the event it logged, if any."""

    outcome: Outcome
    session: Session | None
    previous_mode: Mode | None = None
    event: Event | None = None
    reason: Reason | None = None
    #: Who held the conversation before a transfer.
    previous_holder: str | None = None


def new_session(phone: str, now: float) -> Session:
    return Session(phone=phone, created_at=now, updated_at=now)


def _move(session: Session, to: Mode, now: float, event: Happening, actor: str | None,
          source: str) -> Event:
    before = session.mode
    if before is Mode.AGENT:
        session.customer_messages = session.human_messages = 0
    session.mode = to
    session.updated_at = now
    if to is Mode.PAUSED:
        session.paused_at = now
        session.human_attendant = None
        session.taken_at = None
    elif to is Mode.HUMAN:
        session.human_attendant = actor
        session.taken_at = now
    else:
        session.human_attendant = None
        session.paused_at = None
        session.taken_at = None
    return Event(at=now, event=event.value, actor=actor, source=source,
                 from_mode=before.value, to_mode=to.value)


def ingest(session: Session | None, msg: Inbound, now: float) -> Step:
    """Record one message and decide the webhook's answer (dedupe is the store's job)."""
    s = session if session is not None else new_session(msg.phone, now)
    previous = s.mode
    s.updated_at = now
    s.metadata.update(msg.metadata)
    event: Event | None = None
    if msg.sender is Sender.CUSTOMER:
        s.last_customer_message = now
        s.last_customer_text = msg.text
        if s.mode is Mode.AGENT and msg.escalate:
            event = _move(s, Mode.PAUSED, now, Happening.ESCALATION_REQUESTED, s.phone,
                          msg.source)
            reason = Reason.ESCALATION_REQUESTED
        elif s.mode is Mode.AGENT:
            reason = Reason.AGENT_ACTIVE
        elif s.mode is Mode.PAUSED:
            reason = Reason.WAITING_HUMAN
        else:
            reason = Reason.HUMAN_ACTIVE
    elif msg.sender is Sender.HUMAN:
        s.last_human_message = now
        if s.mode is not Mode.HUMAN:
            event = _move(s, Mode.HUMAN, now, Happening.TAKEOVER, msg.attendant, msg.source)
        reason = Reason.RECORDED
    else:
        reason = Reason.RECORDED
    if s.mode is not Mode.AGENT:
        if msg.sender is Sender.CUSTOMER:
            s.customer_messages += 1
        elif msg.sender is Sender.HUMAN:
            s.human_messages += 1
    return Step(Outcome.CHANGED if event else Outcome.UNCHANGED, s, previous, event, reason)


def takeover(session: Session | None, phone: str, attendant: str, force: bool, now: float,
             source: str) -> Step:
    """A person takes the conversation; a phone never seen gets a session (they may start it)."""
    s = session if session is not None else new_session(phone, now)
    previous = s.mode
    if s.mode is Mode.HUMAN and s.human_attendant == attendant:
        return Step(Outcome.UNCHANGED, s, previous)
    if s.mode is Mode.HUMAN and not force:
        return Step(Outcome.CONFLICT, s, previous)
    event = _move(s, Mode.HUMAN, now, Happening.TAKEOVER, attendant, source)
    return Step(Outcome.CHANGED, s, previous, event)


def last_activity(session: Session) -> float:
    """The latest of the customer's message, the attendant's message and the takeover."""
    return max(session.last_customer_message or 0, session.last_human_message or 0,
               session.taken_at or 0)


def release(session: Session | None, attendant: str | None, force: bool, now: float,
            source: str, idle_before: float | None = None) -> Step:
    """Hand the conversation back to the bot; only the holder may, unless forced.

    With `idle_before` (the watchdog's auto-release) it happens only if nobody wrote since,
    checked in the same atomic step, so a message racing the watchdog keeps the attendant.
    """
    if session is None:
        return Step(Outcome.NOT_FOUND, None)
    previous = session.mode
    if session.mode is Mode.AGENT:
        return Step(Outcome.UNCHANGED, session, previous)
    if idle_before is not None and last_activity(session) > idle_before:
        return Step(Outcome.UNCHANGED, session, previous)
    holder = session.human_attendant
    if (attendant is not None and holder is not None and attendant != holder
            and not force):
        return Step(Outcome.FORBIDDEN, session, previous)
    name = Happening.RELEASE if idle_before is None else Happening.AUTO_RELEASE
    event = _move(session, Mode.AGENT, now, name, attendant, source)
    return Step(Outcome.CHANGED, session, previous, event)


def pause(session: Session | None, actor: str | None, force: bool, now: float,
          source: str) -> Step:
    """Silence the bot and put the customer in the queue for a person.

    Pausing someone else's conversation takes it from them, so it needs the holder or force.
    """
    if session is None:
        return Step(Outcome.NOT_FOUND, None)
    previous = session.mode
    if session.mode is Mode.PAUSED:
        return Step(Outcome.UNCHANGED, session, previous)
    holder = session.human_attendant
    if session.mode is Mode.HUMAN and actor != holder and not force:
        return Step(Outcome.FORBIDDEN, session, previous)
    event = _move(session, Mode.PAUSED, now, Happening.PAUSE, actor, source)
    return Step(Outcome.CHANGED, session, previous, event)


def transfer(session: Session | None, to: str, actor: str, expected: str | None, force: bool,
             now: float, source: str) -> Step:
    """The holder (or, forced, a supervisor) passes a held conversation to `to`.

    `expected`, when given, must be the holder at this moment (else CONFLICT: someone else
    acted first). The new holder's stretch starts now, for the watchdog.
    """
    if session is None:
        return Step(Outcome.NOT_FOUND, None)
    previous, holder = session.mode, session.human_attendant
    if session.mode is not Mode.HUMAN or holder is None:
        return Step(Outcome.NOT_HELD, session, previous)
    if expected is not None and expected != holder:
        return Step(Outcome.CONFLICT, session, previous)
    if to in (holder, actor):
        return Step(Outcome.SAME, session, previous)
    if actor != holder and not force:
        return Step(Outcome.FORBIDDEN, session, previous)
    session.human_attendant = to
    session.taken_at = now
    session.updated_at = now
    event = Event(at=now, event=Happening.TRANSFER.value, actor=actor, source=source,
                  from_mode=Mode.HUMAN.value, to_mode=Mode.HUMAN.value, to=to)
    return Step(Outcome.CHANGED, session, previous, event, previous_holder=holder)


def outbox_events(step: Step, msg: Inbound | None = None) -> list[DomainEvent]:
    """The events a transition writes to the outbox (the Lua scripts write the same)."""
    s, e = step.session, step.event
    out: list[DomainEvent] = []
    if s is None:
        return out
    if e is not None and e.event == Happening.TRANSFER and e.to is not None:
        out.append(Transferred(s.phone, e.at, e.actor or "", step.previous_holder or "", e.to,
                               e.source))
    elif e is not None and e.from_mode is not None and e.to_mode is not None:
        out.append(ModeChanged(s.phone, e.at, e.event, e.actor or None, e.source, e.from_mode,
                               e.to_mode, s.human_attendant or None, s.paused_at, s.taken_at))
    if msg is None:
        return out
    if msg.sender is Sender.CUSTOMER and step.reason in (Reason.WAITING_HUMAN,
                                                         Reason.HUMAN_ACTIVE):
        out.append(CustomerMessage(s.phone, s.updated_at, msg.text, s.mode.value,
                                   s.profile_name, msg.media))
    elif msg.sender is Sender.HUMAN and msg.deliver:
        out.append(AttendantMessage(s.phone, s.updated_at, msg.text, msg.attendant or "",
                                    msg.origin, msg.media))
    return out
