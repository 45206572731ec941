"""`SessionManager`: the one entry point every adapter (HTTP, Slack, CLI, monitor) calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from handoff import texts
from handoff.commands import COMMANDS, CommandContext, CommandRegistry, CommandResult, parse
from handoff.escalation import EscalationDetector
from handoff.machine import Inbound, Outcome, Reason, Sender, Step
from handoff.model import Event, Mode, Session
from handoff.phones import canonical_phone
from handoff.store.base import SessionStore
from handoff.summary import SUMMARY_KEY, summarize

log = logging.getLogger("handoff")

#: Who an attendant message belongs to when it names nobody: the business phone itself.
BUSINESS_PHONE = "whatsapp"


class Responder(Protocol):
    """The bot that answers in agent mode (an HTTP client in `bot`)."""

    async def reply(self, session: Session, text: str) -> str: ...


@dataclass(frozen=True)
class Change:
    """A mode change, handed to subscribers (Slack cards, metrics) after it happened."""

    session: Session
    event: Event
    previous_mode: Mode | None


Listener = Callable[[Change], None]


@dataclass(frozen=True)
class Notice:
    """Something attendants must read about a session (a failed send, a page): pt-BR text.

    The Slack adapter posts it in the session's card thread; without Slack it is logged.
    """

    phone: str
    kind: str
    text: str
    detail: dict[str, Any] = field(default_factory=dict)


NoticeListener = Callable[[Notice], None]
MessageListener = Callable[[Sender, "MessageResult"], None]


@dataclass
class MessageResult:
    """The webhook's answer for one message."""

    should_respond: bool
    response: str | None
    reason: Reason
    session: Session | None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionResult:
    """A takeover, release or pause: what happened and the pt-BR line that says so."""

    outcome: Outcome
    message: str
    session: Session | None

    @property
    def success(self) -> bool:
        return self.outcome in (Outcome.CHANGED, Outcome.UNCHANGED)


class SessionManager:
    """Applies the contract's rules through an atomic store and tells subscribers of changes.

    Listeners are plain callables run right after a change; they must not block (the Slack
    adapter queues its work), so a slow Slack never slows the caller.
    """

    def __init__(self, store: SessionStore, *, responder: Responder | None = None,
                 commands: CommandRegistry = COMMANDS,
                 detector: EscalationDetector | None = None,
                 supervisors: Iterable[str] = (), clock: Callable[[], float] = time.time,
                 ) -> None:
        self.store = store
        self.responder = responder
        self.commands = commands
        self.detector = detector or EscalationDetector()
        self.supervisors = frozenset(supervisors)
        self.clock = clock
        self._listeners: list[Listener] = []
        self._notice_listeners: list[NoticeListener] = []
        self._message_listeners: list[MessageListener] = []

    def subscribe(self, listener: Listener) -> None:
        """`listener(change)` runs after every mode change made through this manager."""
        self._listeners.append(listener)

    def subscribe_notices(self, listener: NoticeListener) -> None:
        self._notice_listeners.append(listener)

    def subscribe_messages(self, listener: MessageListener) -> None:
        """`listener(sender, result)` runs after each message is handled (metrics count them)."""
        self._message_listeners.append(listener)

    def announce(self, notice: Notice) -> None:
        """Tell attendants something about a session; listeners must not block."""
        log.info("notice", extra={"phone": notice.phone, "kind": notice.kind, **notice.detail})
        for listener in self._notice_listeners:
            try:
                listener(notice)
            except Exception:
                log.exception("notice_listener_failed", extra={"phone": notice.phone})

    def _changed(self, step: Step) -> None:
        if step.session is None or step.event is None:
            return
        change = Change(step.session, step.event, step.previous_mode)
        log.info("mode_change", extra={"phone": step.session.phone, "event": step.event.event,
                                       "from_mode": step.event.from_mode,
                                       "to_mode": step.event.to_mode,
                                       "actor": step.event.actor, "source": step.event.source})
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:
                log.exception("listener_failed", extra={"phone": step.session.phone})

    def _force(self, actor: str | None, force: bool) -> bool:
        return force or (actor is not None and actor in self.supervisors)

    async def handle_message(self, phone: str | int, text: str,
                             sender: Sender = Sender.CUSTOMER, *,
                             attendant: str | None = None, message_id: str | None = None,
                             metadata: dict[str, Any] | None = None,
                             source: str = "whatsapp") -> MessageResult:
        """Record one WhatsApp message and decide whether, and what, the bot answers."""
        result = await self._handle(canonical_phone(phone), text, sender, attendant,
                                    message_id, metadata, source)
        for listener in self._message_listeners:
            try:
                listener(sender, result)
            except Exception:
                log.exception("message_listener_failed")
        return result

    async def _handle(self, key: str, text: str, sender: Sender, attendant: str | None,
                      message_id: str | None, metadata: dict[str, Any] | None,
                      source: str) -> MessageResult:
        if sender is Sender.HUMAN and text.lstrip().startswith("/"):
            return await self._attendant_command(key, text, attendant, message_id, source)
        msg = Inbound(
            phone=key, sender=sender, text=text, source=source,
            attendant=(attendant or BUSINESS_PHONE) if sender is Sender.HUMAN else attendant,
            message_id=message_id, metadata=metadata or {},
            escalate=sender is Sender.CUSTOMER and self.detector.wants_person(text))
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
            return texts.AGENT_FALLBACK
        try:
            return await self.responder.reply(session, text)
        except Exception as exc:
            log.warning("agent_failed", extra={"phone": session.phone, "error": repr(exc)})
            return texts.AGENT_FALLBACK

    async def _attendant_command(self, phone: str, text: str, attendant: str | None,
                                 message_id: str | None, source: str) -> MessageResult:
        if message_id is not None and not await self.store.claim(
                f"seen:{phone}:{message_id}", None):
            return MessageResult(False, None, Reason.DUPLICATE, await self.store.get(phone))
        result = await self.run_command(text, attendant=attendant or BUSINESS_PHONE,
                                        phone=phone, source=source)
        session = await self.store.get(phone)
        return MessageResult(False, result.message, Reason.COMMAND, session)

    async def run_command(self, text: str, *, attendant: str, source: str,
                          phone: str | None = None, force: bool = False) -> CommandResult:
        """Run `/name args…` for an attendant; `phone` is the conversation it was typed in."""
        name, args = parse(text)
        command = self.commands.get(name)
        if command is None:
            return CommandResult(False, texts.UNKNOWN_COMMAND.format(name=name or text))
        ctx = CommandContext(manager=self, name=command.name, args=args, attendant=attendant,
                             source=source, phone=phone, force=self._force(attendant, force))
        return await command.handler(ctx)

    async def takeover(self, phone: str | int, attendant: str, *, force: bool = False,
                       source: str = "rest") -> ActionResult:
        key = canonical_phone(phone)
        step = await self.store.takeover(key, attendant, self._force(attendant, force),
                                         self.clock(), source)
        self._changed(step)
        holder = step.session.human_attendant if step.session else None
        message = {
            Outcome.CHANGED: texts.TAKEN,
            Outcome.UNCHANGED: texts.ALREADY_YOURS,
            Outcome.CONFLICT: texts.HELD_BY,
        }[step.outcome].format(phone=key, attendant=attendant, holder=holder)
        return ActionResult(step.outcome, message, step.session)

    async def release(self, phone: str | int, attendant: str | None = None, *,
                      force: bool = False, source: str = "rest",
                      idle_before: float | None = None) -> ActionResult:
        """Back to the bot; `idle_before` makes it conditional on nobody writing since then."""
        key = canonical_phone(phone)
        step = await self.store.release(key, attendant, self._force(attendant, force),
                                        self.clock(), source, idle_before)
        if step.outcome is Outcome.CHANGED and step.session and step.event:
            step.session = await self._keep_summary(step.session, step.event)
        self._changed(step)
        holder = step.session.human_attendant if step.session else None
        message = {
            Outcome.CHANGED: texts.RELEASED,
            Outcome.UNCHANGED: texts.ALREADY_AGENT,
            Outcome.FORBIDDEN: texts.NOT_HOLDER,
            Outcome.NOT_FOUND: texts.NOT_FOUND,
        }[step.outcome].format(phone=key, holder=holder)
        return ActionResult(step.outcome, message, step.session)

    async def _keep_summary(self, session: Session, released: Event) -> Session:
        """Put the hand-back summary on the session, for the thread and the bot's next call."""
        history = await self.store.history(session.phone) or []
        summary = summarize(session, history, released)
        updated = await self.store.update_metadata(session.phone, {SUMMARY_KEY: summary},
                                                   self.clock())
        return updated or session

    async def pause(self, phone: str | int, actor: str | None = None, *, force: bool = False,
                    source: str = "rest") -> ActionResult:
        key = canonical_phone(phone)
        step = await self.store.pause(key, actor, self._force(actor, force), self.clock(),
                                      source)
        self._changed(step)
        holder = step.session.human_attendant if step.session else None
        message = {
            Outcome.CHANGED: texts.PAUSED,
            Outcome.UNCHANGED: texts.ALREADY_PAUSED,
            Outcome.FORBIDDEN: texts.NOT_HOLDER_PAUSE,
            Outcome.NOT_FOUND: texts.NOT_FOUND,
        }[step.outcome].format(phone=key, holder=holder)
        return ActionResult(step.outcome, message, step.session)

    async def record(self, phone: str, event: str, actor: str | None, source: str) -> None:
        """Log something that happened to a session without changing its mode."""
        await self.store.log_event(canonical_phone(phone),
                                   Event(at=self.clock(), event=event, actor=actor, source=source))

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
