"""The application factory: one aiohttp app, built from settings, serving every route.

It is the one place that knows which backend was chosen and how the parts fit: it builds the
backend (store, outbox, claims, ledger, inbox), the manager, the one way to reach customers,
and one outbox dispatcher per consumer group, and hands each adapter what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot import customer
from bot.agent import AgentClient
from bot.background import Background
from bot.customer import CustomerSender
from bot.media import MediaSource
from bot.metrics import Metrics, timing_middleware
from bot.monitor import setup_monitor
from bot.reach import Reach
from bot.relay import Relay
from bot.settings import Settings, secret
from bot.slack import Slack, setup_slack
from bot.slack import feed as slack_feed
from bot.web import openapi, ops, queue, sessions, webhook
from bot.web import texts as web_texts
from bot.web.auth import auth_middleware
from bot.web.dashboard import setup_dashboard
from bot.web.errors import error_middleware
from bot.web.keys import BACKEND, BACKGROUND, DISPATCHERS, HTTP, MANAGER, METRICS, SETTINGS
from bot.web.media import MediaLinks
from bot.whatsapp import texts as wa_texts
from bot.whatsapp.cloud import CloudClient
from bot.whatsapp.mount import setup_whatsapp
from bot.whatsapp.outbound import Outbound
from bot.whatsapp.templates import Templates
from bot.whatsapp.tuning import Tuning
from handoff.backends import Backend, memory_backend, redis_backend
from handoff.delivery import Dispatcher, keep_trimmed
from handoff.escalation import EscalationDetector
from handoff.hours import BusinessHours
from handoff.ledger import DEFAULT_TTL
from handoff.manager import SessionManager
from handoff.router import Router

log = logging.getLogger("handoff")

MAX_BODY = 1024 * 1024


def build_backend(settings: Settings) -> Backend:
    ttl = settings.handoff_dedupe_ttl_seconds or None
    url = secret(settings.redis_url)
    if url:
        return redis_backend(url, dedupe_ttl=ttl, shards=settings.handoff_outbox_shards,
                             transcript_max=settings.handoff_transcript_max)
    log.warning("memory_store", extra={"detail": web_texts.MEMORY_STORE_WARNING})
    return memory_backend(ttl, settings.handoff_transcript_max)


def create_app(settings: Settings | None = None) -> web.Application:
    """Everything the process serves, wired from `settings` (read from the environment)."""
    settings = settings or Settings()
    hours = BusinessHours.build(settings.handoff_business_hours, settings.handoff_timezone,
                                settings.handoff_holidays_region,
                                settings.handoff_extra_holidays)
    metrics = Metrics()
    app = web.Application(client_max_size=MAX_BODY,
                          middlewares=[timing_middleware(metrics), error_middleware,
                                       auth_middleware])
    backend = build_backend(settings)
    manager = SessionManager(
        backend.store, backend.claims,
        detector=EscalationDetector(settings.handoff_escalation_keywords),
        supervisors=settings.slack_supervisors, observe=metrics.on_message,
        fallback=wa_texts.AGENT_FALLBACK, offers=backend.offers)
    background = Background()

    def http() -> aiohttp.ClientSession:
        return app[HTTP]

    tuning = Tuning(fact_ttl=settings.handoff_dedupe_ttl_seconds or DEFAULT_TTL)
    cloud = None
    if settings.whatsapp_cloud_enabled:
        cloud = Outbound(backend.ledger, CloudClient(
            http, settings.whatsapp_api_url, settings.whatsapp_phone_number_id or "",
            secret(settings.whatsapp_access_token) or ""), tuning)
    relay = None
    if settings.handoff_outbound_url:
        relay = Relay(http, settings.handoff_outbound_url,
                      secret(settings.handoff_outbound_secret))
    media = MediaSource(http, max_bytes=settings.handoff_media_max_bytes,
                        graph_url=settings.whatsapp_api_url if cloud else None,
                        token=secret(settings.whatsapp_access_token) if cloud else None)
    templates = None
    if cloud and settings.whatsapp_business_account_id:
        templates = Templates(http, settings.whatsapp_api_url,
                              settings.whatsapp_business_account_id,
                              secret(settings.whatsapp_access_token) or "")
    dispatchers = {group: Dispatcher(group, backend.outbox, backend.claims)
                   for group in (customer.GROUP, Metrics.GROUP)}
    slack = None
    if settings.slack_enabled:
        dispatchers[slack_feed.GROUP] = Dispatcher(slack_feed.GROUP, backend.outbox,
                                                   backend.claims)
        slack = Slack(settings, manager=manager, backend=backend, http=http,
                      background=background, dispatcher=dispatchers[slack_feed.GROUP],
                      media=media, templates=templates, hours=hours,
                      on_failure=metrics.outbound_failures.labels("slack").inc)
    failures = metrics.outbound_failures.labels("whatsapp" if cloud else "relay")
    links = None
    link_secret = secret(settings.handoff_outbound_secret) or secret(
        settings.slack_signing_secret)
    if slack is not None and link_secret:
        links = MediaLinks(link_secret, slack.files, ttl=settings.handoff_media_link_seconds,
                           base_url=settings.handoff_public_url)
    reach = Reach(manager, backend.ledger, cloud=cloud, relay=relay,
                  origin_ttl=tuning.status_ttl, on_failure=failures.inc,
                  files=slack.files if slack else None, links=links)
    CustomerSender(manager, reach, settings, hours,
                   slack.identities.display_name if slack else None).subscribe(
        dispatchers[customer.GROUP])
    metrics.subscribe(dispatchers[Metrics.GROUP])

    app[SETTINGS] = settings
    app[BACKEND] = backend
    app[MANAGER] = manager
    app[BACKGROUND] = background
    app[METRICS] = metrics
    app[DISPATCHERS] = dispatchers

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        app[HTTP] = aiohttp.ClientSession()
        if settings.agent_url:
            manager.responder = AgentClient(settings.agent_url, settings.agent_kind,
                                            settings.agent_timeout_seconds, app[HTTP])
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(d.run(), name=f"outbox-{d.group}")
                 for d in dispatchers.values()]
        tasks.append(loop.create_task(keep_trimmed(backend.outbox), name="outbox-trim"))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await background.drain()
        await app[HTTP].close()
        await backend.close()

    app.cleanup_ctx.append(lifecycle)
    app.add_routes(ops.routes)
    app.add_routes(openapi.routes)
    app.add_routes(webhook.routes)
    app.add_routes(sessions.routes)
    app.add_routes(queue.routes)
    setup_slack(app, slack)
    router = None
    if settings.offers and slack is not None and slack.roster is not None:
        router = Router(manager, backend.offers, slack.roster,
                        limit=settings.handoff_max_conversations,
                        seconds=settings.handoff_offer_seconds, hours=hours)
    setup_monitor(app, manager, settings, hours, router)
    setup_whatsapp(app, settings, manager=manager, inbox=backend.inbox, ledger=backend.ledger,
                   reach=reach, tuning=tuning)
    setup_dashboard(app)
    if links is not None:
        app.router.add_get("/media/{token}", links.serve)
    return app
