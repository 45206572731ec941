"""The monitor inside the service: pages on-call, reminds silent attendants, auto-releases.

Each tick reads the waiting and held sessions, asks `handoff.watch` what is due, and for each
alert still true claims its episode key in the store (so with several processes, or after a
restart, each alert goes out once) before delivering it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.metrics import Metrics
from bot.settings import Settings
from handoff import texts
from handoff.cancel import raise_if_cancelled
from handoff.machine import Outcome
from handoff.manager import Notice, SessionManager
from handoff.model import Mode, Session
from handoff.store import StoreUnavailable
from handoff.watch import Alert, AlertKind, Thresholds, due

log = logging.getLogger("handoff.monitor")

#: How long an alert's claim is kept: well past any ladder, so it is never sent twice.
CLAIM_TTL = 7 * 24 * 3600.0

CustomerSender = Callable[[str, str], Awaitable[bool]]


def mention(slack_id: str) -> str:
    """Slack's mention syntax: user groups (S…) and users (U…/W…)."""
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def customer_name(session: Session) -> str:
    name = session.profile_name
    return f"{name} ({session.phone})" if name else session.phone


class Monitor:
    """Runs `tick` every `HANDOFF_MONITOR_INTERVAL_SECONDS` from the app's lifecycle."""

    def __init__(self, manager: SessionManager, settings: Settings, metrics: Metrics,
                 send_customer: CustomerSender | None = None) -> None:
        self.manager = manager
        self.settings = settings
        self.metrics = metrics
        self.send_customer = send_customer
        self.thresholds = Thresholds(settings.handoff_paused_alert_seconds,
                                     settings.handoff_idle_alert_seconds,
                                     settings.handoff_idle_release_seconds)

    async def run(self) -> None:
        interval = self.settings.handoff_monitor_interval_seconds
        while True:
            try:
                await self.tick()
            except StoreUnavailable as exc:
                log.warning("monitor_store_unavailable", extra={"error": str(exc)})
            except Exception:
                log.exception("monitor_failed")
            raise_if_cancelled()
            await asyncio.sleep(interval)

    async def tick(self) -> list[Alert]:
        """One look at every waiting and held session; returns the alerts delivered."""
        sessions = (await self.manager.list_active(Mode.PAUSED)
                    + await self.manager.list_active(Mode.HUMAN))
        delivered = []
        for alert in due(sessions, self.manager.clock(), self.thresholds):
            if await self._still_due(alert) and await self.manager.store.claim(
                    f"alert:{alert.key}", CLAIM_TTL):
                await self._deliver(alert)
                delivered.append(alert)
        return delivered

    async def _still_due(self, alert: Alert) -> bool:
        """Re-read the session: a takeover or a reply since the scan stops the alert."""
        now = await self.manager.get(alert.phone)
        if now is None:
            return False
        if alert.kind in (AlertKind.PAGE, AlertKind.HOLDING):
            return now.mode is Mode.PAUSED and now.paused_at == alert.session.paused_at
        if alert.kind is AlertKind.REMINDER:
            return (now.mode is Mode.HUMAN
                    and now.last_customer_message == alert.session.last_customer_message
                    and now.last_human_message == alert.session.last_human_message)
        return now.mode is Mode.HUMAN

    async def _deliver(self, alert: Alert) -> None:
        s, wait = alert.session, texts.duration(alert.waited)
        who = customer_name(s)
        log.info("alert", extra={"phone": s.phone, "kind": alert.kind.value, "step": alert.step,
                                 "waited": round(alert.waited, 3)})
        if alert.kind is AlertKind.PAGE:
            oncall = mention(self.settings.slack_oncall) if self.settings.slack_oncall \
                else texts.ONCALL_NOBODY
            if alert.step == 1:
                text = texts.PAGE_1.format(oncall=oncall, who=who, wait=wait)
            else:
                sups = " ".join(mention(u) for u in self.settings.slack_supervisors)
                text = texts.PAGE_2.format(oncall=oncall, supervisors=sups, who=who, wait=wait)
            self.metrics.pages.labels(str(alert.step)).inc()
            await self.manager.record(s.phone, f"page_{alert.step}", "monitor", "monitor")
            self.manager.announce(Notice(s.phone, "page", text,
                                         {"step": alert.step, "broadcast": True}))
        elif alert.kind is AlertKind.HOLDING:
            self.metrics.pages.labels(str(alert.step)).inc()
            sent = await self._tell_customer(s.phone, self.settings.handoff_holding_message)
            await self.manager.record(s.phone, "holding_message" if sent else "holding_skipped",
                                      "monitor", "monitor")
            if sent:
                self.manager.announce(Notice(s.phone, "holding",
                                             texts.PAGE_HOLDING_SENT.format(who=who, wait=wait)))
        elif alert.kind is AlertKind.REMINDER:
            holder = s.human_attendant or ""
            await self.manager.record(s.phone, "reminder", holder, "monitor")
            self.manager.announce(Notice(
                s.phone, "reminder", texts.REMINDER.format(attendant=holder, who=who, wait=wait),
                {"attendant": holder}))
        else:
            idle_before = self.manager.clock() - self.thresholds.idle_release
            result = await self.manager.release(s.phone, None, force=True, source="monitor",
                                                idle_before=idle_before)
            if result.outcome is Outcome.CHANGED:
                await self._tell_customer(s.phone, texts.AUTO_RELEASE_CUSTOMER)

    async def _tell_customer(self, phone: str, text: str) -> bool:
        if self.send_customer is None:
            return False
        try:
            return await self.send_customer(phone, text)
        except Exception as exc:
            log.warning("monitor_send_failed", extra={"phone": phone, "error": repr(exc)})
            return False


MONITOR = web.AppKey("monitor", Monitor)


def setup_monitor(app: web.Application) -> None:
    """Run the monitor for as long as the app runs; adapters may set `send_customer`."""
    from bot.web.keys import MANAGER, METRICS, SETTINGS
    from bot.whatsapp.keys import OUTBOUND

    async def through_whatsapp(phone: str, text: str) -> bool:
        """Sent through the Cloud API when it is configured (looked up at send time)."""
        outbound = app.get(OUTBOUND)
        if outbound is None or outbound.client is None:
            return False
        return await outbound.send(phone, text, sender="monitor") is not None

    monitor = Monitor(app[MANAGER], app[SETTINGS], app[METRICS], through_whatsapp)
    app[MONITOR] = monitor

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(monitor.run(), name="monitor")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(lifecycle)
