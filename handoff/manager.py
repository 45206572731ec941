"""`SessionManager`: the one entry point every adapter (HTTP, Slack, CLI, monitor) calls."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from handoff.commands import (
    COMMANDS,
    CommandContext,
    CommandRegistry,
    CommandResult,
    UnknownCommand,
    parse,
)
from handoff.coordination import Claims
from handoff.escalation import EscalationDetector
from handoff.events import DomainEvent, HandedBack, Happening, NoteAdded, Rated
from handoff.machine import Inbound, Outcome, Reason, Sender, Step
from handoff.model import NOTE, Event, Line, Mode, Session, Source
from handoff.offers import OfferBook
from handoff.phones import canonical_phone
from handoff.routing import Offer, OfferOutcome, OfferReason, Queue
from handoff.store.base import Said, SessionStore
from handoff.summary import SUMMARY_KEY, summarize

log = logging.getLogger("handoff")

#: Where the recent waits for a person are kept (the queue's estimate).
CLAIM_WAITS = "claim-waits"
#: How long a rating's answer is remembered (Meta retries for days).
CLAIM_TTL = 8 * 24 * 3600.0

#: Who an attendant message belongs to when it names nobody: the business phone itself.
BUSINESS_PHONE = "whatsapp"


class Responder(Protocol):
    """The bot that answers in agent mode (an HTTP client in `bot`)."""

    async def reply(self, session: Session, text: str) -> str: ...


#: Told of every message handled (metrics count them): sender and result.
MessageObserver = Callable[[Sender, "MessageResult"], None]


@dataclass
class MessageResult:
    """The webhook's answer for one message; an attendant's command's result in `command`
    (the adapter words it as the `response`)."""

    should_respond: bool
    response: str | None
    reason: Reason
    session: Session | None
    metadata: dict[str, Any] = field(default_factory=dict)
    command: CommandResult | None = None


class Action(enum.StrEnum):
    TAKEOVER = "takeover"
    RELEASE = "release"
    PAUSE = "pause"
    TRANSFER = "transfer"


@dataclass
class ActionResult:
    """A takeover, release or pause: which, for whom, by whom, and how it went."""

    action: Action
    outcome: Outcome
    phone: str
    actor: str | None
    session: Session | None

    @property
    def holder(self) -> str | None:
        return self.session.human_attendant if self.session else None

    @property
    def success(self) -> bool:
        return self.outcome in (Outcome.CHANGED, Outcome.UNCHANGED)

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.CHANGED


@dataclass(frozen=True)
class Answered:
    """An attendant's answer to an offer: how it ended (None: it was gone already), and
    the takeover an Aceitar ran."""

    outcome: OfferOutcome | None
    result: ActionResult | None = None


class SessionManager:
    """Applies the contract's rules through an atomic store.

    What a change means for Slack, WhatsApp or metrics is written by the store, in the same
    atomic step, as events in its outbox; adapters read them from there (`handoff.delivery`),
    so nothing here waits on them and nothing is lost if this process dies right after.
    """

    def __init__(self, store: SessionStore, claims: Claims, *,
                 responder: Responder | None = None,
                 commands: CommandRegistry = COMMANDS,
                 detector: EscalationDetector | None = None,
                 supervisors: Iterable[str] = (), clock: Callable[[], float] = time.time,
                 observe: MessageObserver | None = None, fallback: str = "",
                 offers: OfferBook | None = None) -> None:
        self.store = store
        self.claims = claims
        self.offers = offers
        self.responder = responder
        self.commands = commands
        self.detector = detector or EscalationDetector()
        self.supervisors = frozenset(supervisors)
        self.clock = clock
        self.observe = observe
        #: What the customer is told when the bot cannot answer (the adapter's words).
        self.fallback = fallback

    def _changed(self, step: Step) -> None:
        if step.session is None or step.event is None:
            return
        log.info("mode_change", extra={"phone": step.session.phone, "event": step.event.event,
                                       "from_mode": step.event.from_mode,
                                       "to_mode": step.event.to_mode,
                                       "actor": step.event.actor, "source": step.event.source})

    def _force(self, actor: str | None, force: bool, *also: str) -> bool:
        """The one rule for acting on someone else's conversation: `force`, or a supervisor
        (named by attendant id or by any other id the caller knows them by)."""
        return force or any(a in self.supervisors for a in (actor, *also) if a)

    async def handle_message(self, phone: str | int, text: str,
                             sender: Sender = Sender.CUSTOMER, *,
                             attendant: str | None = None, message_id: str | None = None,
                             metadata: dict[str, Any] | None = None,
                             source: str = Source.WHATSAPP, deliver: bool = False,
                             origin: str | None = None,
                             media: dict[str, Any] | None = None) -> MessageResult:
        """Record one WhatsApp message and decide whether, and what, the bot answers.

        `deliver`: an attendant's message the service must send to the customer (written in
        Slack); `origin` says where, for the delivery reports.
        """
        msg = Inbound(
            phone=canonical_phone(phone), sender=sender, text=text, source=source,
            attendant=(attendant or BUSINESS_PHONE) if sender is Sender.HUMAN else attendant,
            message_id=message_id, metadata=metadata or {},
            escalate=sender is Sender.CUSTOMER and self.detector.wants_person(text),
            deliver=deliver and sender is Sender.HUMAN, origin=origin, media=media)
        result = await self._handle(msg)
        if self.observe is not None:
            self.observe(sender, result)
        return result

    async def _handle(self, msg: Inbound) -> MessageResult:
        key, text = msg.phone, msg.text
        if msg.sender is Sender.HUMAN and text.lstrip().startswith("/"):
            return await self._attendant_command(key, text, msg.attendant, msg.message_id,
                                                 msg.source)
        step = await self.store.ingest(msg, self.clock())
        self._changed(step)
        assert step.reason is not None
        out = MessageResult(False, None, step.reason, step.session)
        if step.reason is Reason.ESCALATION_REQUESTED:
            out.metadata["escalation_requested"] = True
        elif step.reason is Reason.AGENT_ACTIVE and step.session is not None:
            out.should_respond = True
            out.response = await self.agent_reply(step.session, text)
        return out

    async def agent_reply(self, session: Session, text: str) -> str:
        """The bot's answer to `text`, or the fallback when it fails or is slow."""
        if self.responder is None:
            return self.fallback
        try:
            return await self.responder.reply(session, text)
        except Exception as exc:
            log.warning("agent_failed", extra={"phone": session.phone, "error": repr(exc)})
            return self.fallback

    async def _attendant_command(self, phone: str, text: str, attendant: str | None,
                                 message_id: str | None, source: str) -> MessageResult:
        if message_id is not None and not await self.claims.claim(
                f"seen:{phone}:{message_id}", None):
            return MessageResult(False, None, Reason.DUPLICATE, await self.store.get(phone))
        result = await self.run_command(text, attendant=attendant or BUSINESS_PHONE,
                                        phone=phone, source=source)
        session = await self.store.get(phone)
        return MessageResult(False, result.message or None, Reason.COMMAND, session,
                             command=result)

    async def run_command(self, text: str, *, attendant: str, source: str,
                          phone: str | None = None, force: bool = False,
                          also: Sequence[str] = ()) -> CommandResult:
        """Run `/name args…` for an attendant; `phone` is the conversation it was typed in."""
        name, args = parse(text)
        command = self.commands.get(name)
        if command is None:
            return CommandResult(False, answer=UnknownCommand(name or text))
        ctx = CommandContext(manager=self, name=command.name, args=args, attendant=attendant,
                             source=source, phone=phone,
                             force=self._force(attendant, force, *also))
        return await command.handler(ctx)

    async def takeover(self, phone: str | int, attendant: str, *, force: bool = False,
                       source: str = Source.REST, also: Sequence[str] = ()) -> ActionResult:
        key = canonical_phone(phone)
        step = await self.store.takeover(key, attendant, self._force(attendant, force, *also),
                                         self.clock(), source)
        self._changed(step)
        return ActionResult(Action.TAKEOVER, step.outcome, key, attendant, step.session)

    async def release(self, phone: str | int, attendant: str | None = None, *,
                      force: bool = False, source: str = Source.REST,
                      idle_before: float | None = None, also: Sequence[str] = ()
                      ) -> ActionResult:
        """Back to the bot; `idle_before` makes it conditional on nobody writing since then."""
        key = canonical_phone(phone)
        step = await self.store.release(key, attendant, self._force(attendant, force, *also),
                                        self.clock(), source, idle_before)
        if step.outcome is Outcome.CHANGED and step.session and step.event:
            step.session = await self._keep_summary(step.session, step.event)
        self._changed(step)
        return ActionResult(Action.RELEASE, step.outcome, key, attendant, step.session)

    async def transfer(self, phone: str | int, to: str, actor: str, *,
                       expected: str | None = None, force: bool = False,
                       source: str = Source.REST, also: Sequence[str] = ()) -> ActionResult:
        """`actor` (the holder, or a supervisor) passes the conversation to `to`; `expected`,
        when given, must be the holder at that moment."""
        key = canonical_phone(phone)
        step = await self.store.transfer(key, to, actor, expected,
                                         self._force(actor, force, *also), self.clock(),
                                         source)
        if step.outcome is Outcome.CHANGED and step.session is not None:
            log.info("transfer", extra={"phone": key, "actor": actor, "to": to,
                                        "source": source})
        return ActionResult(Action.TRANSFER, step.outcome, key, actor, step.session)

    async def _keep_summary(self, session: Session, released: Event) -> Session:
        """Put the hand-back summary on the session, for the thread and the bot's next call."""
        history = await self.store.history(session.phone) or []
        summary = summarize(session, history, released)
        updated = await self.store.update_metadata(
            session.phone, {SUMMARY_KEY: summary}, self.clock(),
            [HandedBack(session.phone, released.at, summary)])
        return updated or session

    async def pause(self, phone: str | int, actor: str | None = None, *, force: bool = False,
                    source: str = Source.REST, also: Sequence[str] = ()) -> ActionResult:
        key = canonical_phone(phone)
        step = await self.store.pause(key, actor, self._force(actor, force, *also),
                                      self.clock(), source)
        self._changed(step)
        return ActionResult(Action.PAUSE, step.outcome, key, actor, step.session)

    async def record(self, phone: str, happening: Happening, actor: str | None, source: str,
                     events: Sequence[DomainEvent] = (), *,
                     claim: tuple[str, float] | None = None) -> bool:
        """Log something that happened to a session without changing its mode, with its
        events; with `claim`, only for the first caller to claim it. False if nothing was."""
        line = Event(at=self.clock(), event=happening.value, actor=actor, source=source)
        return await self.store.record(canonical_phone(phone), line, events, claim=claim)

    async def note(self, phone: str, attendant: str, text: str, *, source: str,
                   origin: str | None = None) -> bool:
        """An internal note: in the history and the transcript (with its text), never sent
        to the customer."""
        key, now = canonical_phone(phone), self.clock()
        line = Event(at=now, event=Happening.NOTE.value, actor=attendant, source=source,
                     text=text)
        return await self.store.record(key, line, [NoteAdded(key, now, attendant, text, origin)],
                                       said=[Said(now, NOTE, text, attendant)])

    async def said(self, phone: str, sender: str, text: str, attendant: str | None = None,
                   events: Sequence[DomainEvent] = ()) -> bool:
        """A message the service sent on the session's behalf (the bot's reply through the
        Cloud API, a template), for the transcript, with its events in the same step."""
        return await self.store.record(canonical_phone(phone), None, events,
                                       said=[Said(self.clock(), str(sender), text, attendant)])

    async def transcript(self, phone: str | int, limit: int, before: int | None = None
                         ) -> list[Line] | None:
        return await self.store.transcript(canonical_phone(phone), limit, before)

    async def rate(self, phone: str, score: int, *, once: str) -> bool:
        """The customer's rating of the stretch just handed back, recorded once (`once` names
        the answer: Meta may deliver it again); for whom it was is read from the session."""
        key = canonical_phone(phone)
        session = await self.store.get(key)
        summary = session.metadata.get(SUMMARY_KEY) if session else None
        attendant = summary.get("attendant") if isinstance(summary, dict) else None
        line = Event(at=self.clock(), event=Happening.CSAT.value, actor=key,
                     source=Source.WHATSAPP)
        return await self.store.record(
            key, line, [Rated(key, line.at, score, attendant)],
            claim=(f"csat:{key}:{once}", CLAIM_TTL))

    async def claimed(self, waited: float, at: float) -> None:
        """How long a customer waited to be taken (the queue's estimate reads the recent)."""
        await self.store.mark_recent(CLAIM_WAITS, f"{at!r}:{waited:.1f}", at, 200)

    async def recent_waits(self, since: float) -> list[float]:
        found = await self.store.recent_members(CLAIM_WAITS, since)
        return [float(m.rsplit(":", 1)[1]) for m in found if ":" in m]

    async def emit_once(self, phone: str, claim: tuple[str, float],
                        *events: DomainEvent) -> bool:
        """Events written only by the first caller to claim `claim` (key, ttl)."""
        return await self.store.record(canonical_phone(phone), None, events, claim=claim)

    async def emit(self, phone: str, *events: DomainEvent) -> bool:
        """Events that change no state (a delivery report): False for an unknown session."""
        return await self.store.record(canonical_phone(phone), None, events)

    async def answer_offer(self, phone: str, at: float, attendant: str, accept: bool, *,
                           source: str = Source.SLACK) -> Answered:
        """Aceitar (a takeover, or for a silent holder's conversation a transfer from them)
        or Recusar, for the offer made at `at`; only while it is this attendant's."""
        if self.offers is None:
            return Answered(None)
        key, now = canonical_phone(phone), self.clock()
        if not accept:
            declined = await self.offers.end(key, at, OfferOutcome.DECLINED, now,
                                             attendant=attendant)
            return Answered(OfferOutcome.DECLINED if declined else None)
        offer = await self.offers.accept(key, attendant, at, now)
        if offer is None:
            return Answered(None)
        if offer.reason is OfferReason.SILENT and offer.holder:
            result = await self.transfer(key, attendant, offer.holder, expected=offer.holder,
                                         source=Source.MONITOR)
        else:
            result = await self.takeover(key, attendant, source=source)
        outcome = OfferOutcome.ACCEPTED if result.changed else OfferOutcome.TAKEN
        await self.offers.end(key, at, outcome, self.clock())
        log.info("offer_answered", extra={"phone": key, "attendant": attendant,
                                          "outcome": outcome.value})
        return Answered(outcome, result)

    async def queue(self) -> Queue:
        """Who waits (oldest first, so a customer's place is their index + 1), what is on
        offer to whom, and how many conversations each attendant holds."""
        waiting = await self.list_active(Mode.PAUSED)
        waiting.sort(key=lambda s: (s.paused_at or 0, s.phone))
        offers: list[Offer] = await self.offers.open() if self.offers is not None else []
        return Queue(waiting, {o.phone: o for o in offers}, await self.list_active(Mode.HUMAN))

    async def get(self, phone: str | int) -> Session | None:
        return await self.store.get(canonical_phone(phone))

    async def list_active(self, mode: Mode | None = None) -> list[Session]:
        return await self.store.list_active(self.clock(), mode)

    async def recent_texts(self, phone: str | int) -> list[str]:
        """What the customer wrote last (up to five), oldest first."""
        return await self.store.recent_texts(canonical_phone(phone))

    async def history(self, phone: str | int) -> list[Event] | None:
        return await self.store.history(canonical_phone(phone))

    async def update_metadata(self, phone: str | int,
                              metadata: dict[str, Any]) -> Session | None:
        return await self.store.update_metadata(canonical_phone(phone), metadata, self.clock())
