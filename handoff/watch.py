"""Who needs attention: the on-call ladder for waiting customers and the watchdog for held ones.

Pure policy over sessions and a clock; `bot.monitor` runs it on a timer, claims each alert once
across processes, and delivers it. Every alert carries a key unique to its episode (the time the
customer started waiting, or wrote last), so a restart neither repeats nor skips a step.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from handoff.hours import BusinessHours
from handoff.machine import last_activity
from handoff.model import Mode, Session


class AlertKind(enum.StrEnum):
    PAGE = "page"              # steps 1 and 2 of the ladder
    HOLDING = "holding"        # step 3: the customer is told we are busy
    REMINDER = "reminder"      # the holder has not answered the customer
    AUTO_RELEASE = "auto_release"
    WINDOW_CLOSING = "window_closing"  # the customer's 24-hour window closes soon
    WINDOW_CLOSED = "window_closed"    # … and now it has


#: WhatsApp's customer-service window: free-form messages only this long after the customer's.
WINDOW_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Thresholds:
    paused_alert: float
    idle_alert: float
    idle_release: float
    window_warning: float = 3600.0


def window_closes(session: Session) -> float | None:
    """When the customer's 24-hour window closes (None before they ever wrote)."""
    if not session.last_customer_message:
        return None
    return session.last_customer_message + WINDOW_SECONDS


def window(session: Session, now: float, t: Thresholds) -> list[Alert]:
    """The holder is warned before the window closes; the card is redrawn when it does."""
    closes = window_closes(session)
    if closes is None or session.mode is Mode.AGENT:
        return []
    out = []
    key = f"window:{session.phone}:{session.last_customer_message!r}"
    if (session.mode is Mode.HUMAN and t.window_warning > 0
            and closes - t.window_warning <= now < closes):
        out.append(Alert(AlertKind.WINDOW_CLOSING, session, key + ":warn", closes - now))
    if now >= closes:
        out.append(Alert(AlertKind.WINDOW_CLOSED, session, key + ":closed", now - closes))
    return out


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    session: Session
    key: str
    waited: float
    step: int = 0

    @property
    def phone(self) -> str:
        return self.session.phone


def ladder(session: Session, now: float, t: Thresholds,
           hours: BusinessHours | None = None) -> list[Alert]:
    """Steps due for a waiting customer, in order: page, page with supervisors, holding.

    With `hours`, the wait counts from when the team opened (a customer who asked at 3 a.m.
    is paged about from opening time, not woken-up-for).
    """
    if session.mode is not Mode.PAUSED or not session.paused_at or t.paused_alert <= 0:
        return []
    since = hours.opened_since(session.paused_at, now) if hours else session.paused_at
    waited = now - since
    steps = [AlertKind.PAGE, AlertKind.PAGE, AlertKind.HOLDING]
    return [Alert(kind, session, f"ladder:{session.phone}:{session.paused_at!r}:{n}", waited, n)
            for n, kind in enumerate(steps, start=1) if waited >= n * t.paused_alert]


def watchdog(session: Session, now: float, t: Thresholds) -> list[Alert]:
    """A held conversation whose customer waits for an answer, or where nobody writes at all."""
    if session.mode is not Mode.HUMAN:
        return []
    out = []
    asked = session.last_customer_message
    answered = max(session.last_human_message or 0, session.taken_at or 0)
    if t.idle_alert > 0 and asked and asked > answered and now - asked >= t.idle_alert:
        out.append(Alert(AlertKind.REMINDER, session, f"remind:{session.phone}:{asked!r}",
                         now - asked))
    idle = now - last_activity(session)
    if t.idle_release > 0 and idle >= t.idle_release:
        out.append(Alert(AlertKind.AUTO_RELEASE, session,
                         f"idle:{session.phone}:{last_activity(session)!r}", idle))
    return out


def due(sessions: Iterable[Session], now: float, t: Thresholds,
        hours: BusinessHours | None = None) -> list[Alert]:
    """What is due now; `hours` when the ladder waits for opening time."""
    out: list[Alert] = []
    for s in sessions:
        out += ladder(s, now, t, hours) + watchdog(s, now, t) + window(s, now, t)
    return out
