"""Prometheus metrics, named as the contract lists them.

Messages are counted as the manager handles them (in the process that handled them); what a
change means (an escalation, a takeover, a page) is counted from the outbox's `metrics` group,
once across processes. The outbox's own length and each group's lag are read at scrape time.
"""

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

from handoff.backends import Backend
from handoff.delivery import Dispatcher
from handoff.events import Happening, HoldingDue, ModeChanged, OfferEnded, PageDue, Rated
from handoff.machine import Reason, Sender
from handoff.manager import MessageResult
from handoff.model import Mode

_CLAIM_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)


class Metrics:
    """One registry per app, so several apps in one test process do not collide."""

    GROUP = "metrics"

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
        self.csat = Histogram("handoff_csat", "Customers' ratings after hand-back (3 best)",
                              ["attendant"], buckets=(1, 2, 3), registry=r)
        self.first_reply = Histogram("handoff_first_reply_seconds",
                                     "From claim to the attendant's first message",
                                     buckets=_CLAIM_BUCKETS, registry=r)
        self.offers = Counter("handoff_offers", "Offers to attendants, by how they ended "
                              "(accepted, declined, timeout, taken)", ["outcome"], registry=r)
        self.queue_length = Gauge("handoff_queue_length", "Customers waiting for a person",
                                  registry=r)
        self.outbox_length = Gauge("handoff_outbox_length",
                                   "Events kept in the outbox (all shards)", registry=r)
        self.outbox_lag = Gauge("handoff_outbox_lag",
                                "Events a consumer group has not acknowledged yet "
                                "(never handed out plus in hand)", ["group"], registry=r)
        self.outbox_pending = Gauge("handoff_outbox_pending",
                                    "Events a consumer group was handed and has not acknowledged",
                                    ["group"], registry=r)

    def subscribe(self, dispatcher: Dispatcher) -> None:
        dispatcher.on(ModeChanged, "count", self.on_change)
        dispatcher.on(PageDue, "count", self.on_page)
        dispatcher.on(HoldingDue, "count", self.on_holding)
        dispatcher.on(Rated, "count", self.on_rated)
        dispatcher.on(OfferEnded, "count", self.on_offer_ended)

    def on_message(self, sender: Sender, result: MessageResult) -> None:
        s = result.session
        if result.reason is Reason.DUPLICATE or s is None:
            return
        self.messages.labels(sender.value, s.mode.value).inc()
        if (sender is Sender.HUMAN and s.mode is Mode.HUMAN and s.human_messages == 1
                and s.taken_at and s.last_human_message):
            self.first_reply.observe(max(0.0, s.last_human_message - s.taken_at))

    async def on_change(self, event: ModeChanged) -> None:
        if event.event == Happening.ESCALATION_REQUESTED:
            self.escalations.inc()
        elif event.event == Happening.TAKEOVER:
            self.takeovers.labels(event.source).inc()
            if event.from_mode == Mode.PAUSED and event.paused_at and event.taken_at:
                self.time_to_claim.observe(max(0.0, event.taken_at - event.paused_at))
        elif event.event in (Happening.RELEASE, Happening.AUTO_RELEASE):
            self.releases.labels(event.source).inc()
            if event.event == Happening.AUTO_RELEASE:
                self.auto_releases.inc()

    async def on_page(self, event: PageDue) -> None:
        self.pages.labels(str(event.step)).inc()

    async def on_rated(self, event: Rated) -> None:
        self.csat.labels(event.attendant or "").observe(event.score)

    async def on_offer_ended(self, event: OfferEnded) -> None:
        self.offers.labels(event.outcome).inc()

    async def on_holding(self, event: HoldingDue) -> None:
        self.pages.labels("3").inc()

    async def render(self, backend: Backend) -> bytes:
        for mode, count in (await backend.store.count_by_mode(time.time())).items():
            self.sessions.labels(mode.value).set(count)
            if mode is Mode.PAUSED:
                self.queue_length.set(count)
        stats = await backend.outbox.stats()
        self.outbox_length.set(stats.length)
        for group, g in stats.groups.items():
            self.outbox_lag.labels(group).set(g.lag + g.pending)
            self.outbox_pending.labels(group).set(g.pending)
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
