"""In-process store: one event loop, no awaits inside a transition, so each is atomic."""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
from collections.abc import Sequence
from typing import Any

from handoff import machine
from handoff.coordination import MemoryClaims
from handoff.events import DomainEvent
from handoff.machine import Inbound, Outcome, Reason, Sender, Step
from handoff.model import Event, Line, Mode, Session
from handoff.outbox import MemoryOutbox
from handoff.store.base import (
    ACTIVE_WINDOW_SECONDS,
    RECENT_TEXTS,
    TRANSCRIPT_MAX,
    Said,
    SessionStore,
)


def _clone(s: Session) -> Session:
    """A copy callers may mutate freely; metadata is deep-copied only when there is any."""
    return dataclasses.replace(s, metadata=copy.deepcopy(s.metadata) if s.metadata else {})


class MemoryStore(SessionStore):
    """State lives in this process and is lost on restart (the service warns about it)."""

    kind = "memory"

    def __init__(self, dedupe_ttl: float | None = None, *,
                 claims: MemoryClaims | None = None, outbox: MemoryOutbox | None = None,
                 transcript_max: int = TRANSCRIPT_MAX) -> None:
        self._sessions: dict[str, Session] = {}
        self._lines: dict[str, deque[Line]] = {}
        self._said: dict[str, int] = {}
        self._transcript_max = transcript_max
        self._events: dict[str, list[Event]] = {}
        self._texts: dict[str, tuple[str, ...]] = {}
        self._recent: dict[str, dict[str, float]] = {}
        self._dedupe_ttl = dedupe_ttl
        self.claims = claims or MemoryClaims()
        self.outbox: MemoryOutbox = outbox or MemoryOutbox()

    def _record(self, step: Step, msg: Inbound | None = None) -> Step:
        """Keep the new state, its history line and its events; hand back a copy so callers
        cannot mutate what is kept."""
        if step.session is not None:
            self._sessions[step.session.phone] = step.session
            if step.event is not None:
                self._events.setdefault(step.session.phone, []).append(step.event)
            self.outbox.append(machine.outbox_events(step, msg))
            step.session = _clone(step.session)
        return step

    def peek(self, phone: str) -> Session | None:
        """The session as kept, not a copy: for a step of this process that only reads it."""
        return self._sessions.get(phone)

    def holding(self, attendant: str) -> int:
        """How many conversations `attendant` holds now."""
        return sum(1 for s in self._sessions.values()
                   if s.mode is Mode.HUMAN and s.human_attendant == attendant)

    def _current(self, phone: str) -> Session | None:
        s = self._sessions.get(phone)
        return _clone(s) if s is not None else None

    async def ingest(self, msg: Inbound, now: float) -> Step:
        if msg.message_id is not None and not self.claims.claim_now(
                f"seen:{msg.phone}:{msg.message_id}", self._dedupe_ttl):
            current = self._current(msg.phone)
            mode = current.mode if current else None
            return Step(Outcome.UNCHANGED, current, mode, None, Reason.DUPLICATE)
        if msg.sender is Sender.CUSTOMER:
            kept = self._texts.get(msg.phone, ())
            self._texts[msg.phone] = (*kept[-(RECENT_TEXTS - 1):], msg.text)
        step = self._record(machine.ingest(self._current(msg.phone), msg, now), msg)
        self._say(msg.phone, [Said(now, msg.sender.value, msg.text,
                                   msg.attendant if msg.sender is Sender.HUMAN else None,
                                   copy.deepcopy(msg.media) if msg.media else None)])
        return step

    def _say(self, phone: str, said: Sequence[Said]) -> None:
        lines = self._lines.get(phone)
        if lines is None:
            lines = self._lines[phone] = deque(maxlen=self._transcript_max)
        for s in said:
            n = self._said[phone] = self._said.get(phone, 0) + 1
            lines.append(Line(n, s.at, s.sender, s.text, s.attendant, s.media))

    async def transcript(self, phone: str, limit: int, before: int | None = None
                         ) -> list[Line] | None:
        if phone not in self._sessions:
            return None
        lines = [line for line in self._lines.get(phone, ())
                 if before is None or line.n < before]
        return lines[-limit:] if limit > 0 else []

    async def takeover(self, phone: str, attendant: str, force: bool, now: float,
                       source: str) -> Step:
        return self._record(
            machine.takeover(self._current(phone), phone, attendant, force, now, source))

    async def release(self, phone: str, attendant: str | None, force: bool, now: float,
                      source: str, idle_before: float | None = None) -> Step:
        return self._record(machine.release(self._current(phone), attendant, force, now, source,
                                            idle_before))

    async def pause(self, phone: str, actor: str | None, force: bool, now: float,
                    source: str) -> Step:
        return self._record(machine.pause(self._current(phone), actor, force, now, source))

    async def transfer(self, phone: str, to: str, actor: str, expected: str | None,
                       force: bool, now: float, source: str) -> Step:
        return self._record(machine.transfer(self._current(phone), to, actor, expected, force,
                                             now, source))

    async def recent_texts(self, phone: str) -> list[str]:
        return list(self._texts.get(phone, ()))

    async def get(self, phone: str) -> Session | None:
        return self._current(phone)

    async def list_active(self, now: float, mode: Mode | None = None) -> list[Session]:
        since = now - ACTIVE_WINDOW_SECONDS
        out = []
        for s in self._sessions.values():
            if mode is not None and s.mode is not mode:
                continue
            if s.mode is Mode.AGENT and (s.last_customer_message or 0) < since:
                continue
            out.append(_clone(s))
        return out

    async def count_by_mode(self, now: float) -> dict[Mode, int]:
        counts = dict.fromkeys(Mode, 0)
        for s in await self.list_active(now):
            counts[s.mode] += 1
        return counts

    async def history(self, phone: str) -> list[Event] | None:
        if phone not in self._sessions:
            return None
        return list(self._events.get(phone, []))

    async def update_metadata(self, phone: str, metadata: dict[str, Any], now: float,
                              events: Sequence[DomainEvent] = ()) -> Session | None:
        s = self._sessions.get(phone)
        if s is None:
            return None
        s.metadata.update(copy.deepcopy(metadata))
        s.updated_at = now
        self.outbox.append(events)
        return _clone(s)

    async def record(self, phone: str, line: Event | None,
                     events: Sequence[DomainEvent] = (), *,
                     claim: tuple[str, float] | None = None,
                     said: Sequence[Said] = ()) -> bool:
        if phone not in self._sessions:
            return False
        if claim is not None and not self.claims.claim_now(*claim):
            return False
        if line is not None:
            self._events.setdefault(phone, []).append(line)
        self._say(phone, said)
        self.outbox.append(events)
        return True

    async def mark_recent(self, group: str, member: str, now: float, limit: int) -> None:
        seen = self._recent.setdefault(group, {})
        seen.pop(member, None)
        seen[member] = now
        while len(seen) > limit:
            del seen[next(iter(seen))]

    async def recent_members(self, group: str, since: float) -> list[str]:
        return [m for m, at in self._recent.get(group, {}).items() if at >= since]

    async def ping(self) -> None:
        return None
