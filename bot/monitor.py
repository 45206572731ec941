"""The monitor inside the service: pages on-call, reminds silent attendants, auto-releases.

Each tick reads the waiting and held sessions, asks `handoff.watch` what is due, and raises
each alert still true as an outbox event, claimed by its episode key in the same atomic step
(so with several processes, or after a restart, each alert is raised once, and once raised it
is delivered even if this process dies). The Slack adapter and the customer sender deliver
them; auto-release is a conditional release, itself an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.settings import Settings
from handoff.cancel import raise_if_cancelled
from handoff.events import (
    DomainEvent,
    Happening,
    HoldingDue,
    PageDue,
    ReminderDue,
    WindowDue,
)
from handoff.hours import BusinessHours
from handoff.manager import SessionManager
from handoff.model import Mode, Source
from handoff.router import Router
from handoff.store import StoreUnavailable
from handoff.watch import Alert, AlertKind, Thresholds, due, window_closes

log = logging.getLogger("handoff.monitor")

#: How often offers are looked at (seconds).
ROUTE_INTERVAL = 1.0
#: How long an alert's claim is kept: well past any ladder, so it is never sent twice.
CLAIM_TTL = 7 * 24 * 3600.0


class Monitor:
    """Runs `tick` every `HANDOFF_MONITOR_INTERVAL_SECONDS` from the app's lifecycle."""

    def __init__(self, manager: SessionManager, settings: Settings,
                 hours: BusinessHours | None = None, router: Router | None = None) -> None:
        self.manager = manager
        #: Fair offers, when on: run every second, asked before a page or an auto-release.
        self.router = router
        self.settings = settings
        self.hours = hours
        #: The ladder waits for opening time unless someone is on call after hours.
        self.ladder_hours = None if settings.slack_oncall_after_hours else hours
        self.thresholds = Thresholds(settings.handoff_paused_alert_seconds,
                                     settings.handoff_idle_alert_seconds,
                                     settings.handoff_idle_release_seconds,
                                     settings.handoff_window_warning_seconds)

    async def run(self) -> None:
        await _every(self.settings.handoff_monitor_interval_seconds, self.tick, "monitor")

    async def route(self) -> None:
        """Offers, every second (they last about a minute: ten seconds late is too late)."""
        assert self.router is not None
        await _every(ROUTE_INTERVAL, self.router.tick, "routing")

    async def tick(self) -> list[Alert]:
        """One look at every waiting and held session; returns the alerts raised."""
        sessions = (await self.manager.list_active(Mode.PAUSED)
                    + await self.manager.list_active(Mode.HUMAN))
        raised = []
        for alert in due(sessions, self.manager.clock(), self.thresholds, self.ladder_hours):
            if await self._still_due(alert) and await self._raise(alert):
                raised.append(alert)
        return raised

    async def _still_due(self, alert: Alert) -> bool:
        """Re-read the session: a takeover or a reply since the scan stops the alert."""
        now = await self.manager.get(alert.phone)
        if now is None:
            return False
        if alert.kind in (AlertKind.PAGE, AlertKind.HOLDING):
            # While someone is offered the conversation, the ladder waits for the answer.
            return (now.mode is Mode.PAUSED and now.paused_at == alert.session.paused_at
                    and not (self.router is not None
                             and await self.router.on_offer(alert.phone)))
        if alert.kind is AlertKind.REMINDER:
            return (now.mode is Mode.HUMAN
                    and now.last_customer_message == alert.session.last_customer_message
                    and now.last_human_message == alert.session.last_human_message)
        if alert.kind in (AlertKind.WINDOW_CLOSING, AlertKind.WINDOW_CLOSED):
            return (now.mode is not Mode.AGENT
                    and now.last_customer_message == alert.session.last_customer_message)
        return now.mode is Mode.HUMAN

    async def _raise(self, alert: Alert) -> bool:
        s = alert.session
        log.info("alert", extra={"phone": s.phone, "kind": alert.kind.value, "step": alert.step,
                                 "waited": round(alert.waited, 3)})
        now, name, waited = self.manager.clock(), s.profile_name, alert.waited
        claim = (f"alert:{alert.key}", CLAIM_TTL)
        line: Happening | None = None
        event: DomainEvent
        actor: str | None = "monitor"
        if alert.kind is AlertKind.PAGE:
            line = Happening.PAGE_1 if alert.step == 1 else Happening.PAGE_2
            closed = self.hours is not None and not self.hours.is_open(now)
            event = PageDue(s.phone, now, alert.step, waited, name, closed)
        elif alert.kind is AlertKind.HOLDING:
            event = HoldingDue(s.phone, now, waited, name)
        elif alert.kind is AlertKind.REMINDER:
            line, actor = Happening.REMINDER, s.human_attendant or ""
            event = ReminderDue(s.phone, now, s.human_attendant or "", waited, name)
        elif alert.kind in (AlertKind.WINDOW_CLOSING, AlertKind.WINDOW_CLOSED):
            event = WindowDue(s.phone, now, window_closes(s) or now,
                              alert.kind is AlertKind.WINDOW_CLOSED, s.human_attendant)
        else:
            if self.router is not None and await self.router.rescue(s):
                return False  # offered to someone else first
            idle_before = now - self.thresholds.idle_release
            result = await self.manager.release(s.phone, None, force=True,
                                                source=Source.MONITOR, idle_before=idle_before)
            return result.changed
        if line is None:
            return await self.manager.emit_once(s.phone, claim, event)
        return await self.manager.record(s.phone, line, actor, Source.MONITOR, [event],
                                         claim=claim)


async def _every(interval: float, work: Callable[[], Awaitable[object]], what: str) -> None:
    """`work()` every `interval` seconds until cancelled; a failure is logged, not fatal."""
    while True:
        try:
            await work()
        except StoreUnavailable as exc:
            log.warning(f"{what}_store_unavailable", extra={"error": str(exc)})
        except Exception:
            log.exception(f"{what}_failed")
        raise_if_cancelled()
        await asyncio.sleep(interval)


MONITOR = web.AppKey("monitor", Monitor)


def setup_monitor(app: web.Application, manager: SessionManager, settings: Settings,
                  hours: BusinessHours | None = None, router: Router | None = None) -> None:
    """Run the monitor (and the offers, when on) for as long as the app runs."""
    monitor = Monitor(manager, settings, hours, router)
    app[MONITOR] = monitor

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(monitor.run(), name="monitor")]
        if router is not None:
            tasks.append(loop.create_task(monitor.route(), name="routing"))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(lifecycle)
