"""Prometheus metrics, named as the contract lists them, fed by the manager's listeners."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from handoff.machine import Reason, Sender
from handoff.manager import Change, MessageResult, SessionManager
from handoff.model import Mode
from handoff.store import SessionStore

_CLAIM_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)


class Metrics:
    """One registry per app, so several apps in one test process do not collide."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.messages = Counter("handoff_messages", "Messages handled, by sender and mode after",
                                ["sender", "mode"], registry=r)
        self.escalations = Counter("handoff_escalations", "Customers who asked for a person",
                                   registry=r)
        self.takeovers = Counter("handoff_takeovers", "Conversations taken by a person",
                                 ["source"], registry=r)
        self.releases = Counter("handoff_releases", "Conversations handed back to the bot",
                                ["source"], registry=r)
        self.time_to_claim = Histogram("handoff_time_to_claim_seconds",
                                       "From waiting for a person to being taken",
                                       buckets=_CLAIM_BUCKETS, registry=r)
        self.pages = Counter("handoff_pages", "On-call pages sent, by ladder step", ["step"],
                             registry=r)
        self.auto_releases = Counter("handoff_auto_releases",
                                     "Conversations returned to the bot by the watchdog",
                                     registry=r)
        self.sessions = Gauge("handoff_sessions", "Active sessions by mode", ["mode"], registry=r)
        self.webhook_seconds = Histogram("handoff_webhook_seconds",
                                         "Time to answer POST /webhook/whatsapp", registry=r)
        self.outbound_failures = Counter("handoff_outbound_failures",
                                         "Slack, WhatsApp and agent calls that failed", ["api"],
                                         registry=r)

    def watch(self, manager: SessionManager) -> None:
        manager.subscribe(self.on_change)
        manager.subscribe_messages(self.on_message)

    def on_message(self, sender: Sender, result: MessageResult) -> None:
        if result.reason is Reason.DUPLICATE or result.session is None:
            return
        self.messages.labels(sender.value, result.session.mode.value).inc()

    def on_change(self, change: Change) -> None:
        event, session = change.event, change.session
        if event.event == "escalation_requested":
            self.escalations.inc()
        elif event.event == "takeover":
            self.takeovers.labels(event.source).inc()
            if change.previous_mode is Mode.PAUSED and session.paused_at and session.taken_at:
                self.time_to_claim.observe(max(0.0, session.taken_at - session.paused_at))
        elif event.event in ("release", "auto_release"):
            self.releases.labels(event.source).inc()
            if event.event == "auto_release":
                self.auto_releases.inc()

    async def render(self, store: SessionStore) -> bytes:
        for mode, count in (await store.count_by_mode(time.time())).items():
            self.sessions.labels(mode.value).set(count)
        return generate_latest(self.registry)


def timing_middleware(metrics: Metrics) -> Any:
    """Webhook latency, measured around the whole handler (errors included)."""

    @web.middleware
    async def timing(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path != "/webhook/whatsapp" or request.method != "POST":
            response: web.StreamResponse = await handler(request)
            return response
        started = time.perf_counter()
        try:
            response = await handler(request)
            return response
        finally:
            metrics.webhook_seconds.observe(time.perf_counter() - started)

    return timing
