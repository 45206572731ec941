"""The application factory: one aiohttp app, built from settings, serving every route."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.agent import AgentClient
from bot.background import Background
from bot.metrics import Metrics, timing_middleware
from bot.monitor import setup_monitor
from bot.settings import Settings, secret
from bot.slack import setup_slack
from bot.web import ops, sessions, webhook
from bot.web.auth import auth_middleware
from bot.web.dashboard import setup_dashboard
from bot.web.errors import error_middleware
from bot.web.keys import BACKGROUND, HTTP, LEDGER, MANAGER, METRICS, SETTINGS, STORE
from bot.whatsapp import setup_whatsapp
from handoff import texts
from handoff.escalation import EscalationDetector
from handoff.ledger import Ledger, MemoryLedger
from handoff.manager import SessionManager
from handoff.store import MemoryStore, SessionStore
from handoff.store.redis import RedisStore
from handoff.store.redis_ledger import RedisLedger

log = logging.getLogger("handoff")

MAX_BODY = 1024 * 1024


def build_store(settings: Settings) -> SessionStore:
    ttl = settings.handoff_dedupe_ttl_seconds or None
    url = secret(settings.redis_url)
    if url:
        return RedisStore(url, dedupe_ttl=ttl)
    log.warning("memory_store", extra={"detail": texts.MEMORY_STORE_WARNING})
    return MemoryStore(dedupe_ttl=ttl)


def build_ledger(store: SessionStore) -> Ledger:
    """The ledger lives where the sessions do, so every process sees the same facts."""
    if isinstance(store, RedisStore):
        return RedisLedger(store.redis, store.prefix)
    return MemoryLedger()


def create_app(settings: Settings | None = None) -> web.Application:
    """Everything the process serves, wired from `settings` (read from the environment)."""
    settings = settings or Settings()
    metrics = Metrics()
    app = web.Application(client_max_size=MAX_BODY,
                          middlewares=[timing_middleware(metrics), error_middleware,
                                       auth_middleware])
    store = build_store(settings)
    manager = SessionManager(
        store, detector=EscalationDetector(settings.handoff_escalation_keywords),
        supervisors=settings.slack_supervisors)
    app[SETTINGS] = settings
    app[STORE] = store
    app[LEDGER] = build_ledger(store)
    app[MANAGER] = manager
    app[BACKGROUND] = background = Background()
    app[METRICS] = metrics
    metrics.watch(manager)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        http = aiohttp.ClientSession()
        app[HTTP] = http
        if settings.agent_url:
            manager.responder = AgentClient(settings.agent_url, settings.agent_kind,
                                            settings.agent_timeout_seconds, http)
        yield
        await background.drain()
        await http.close()
        await store.close()

    app.cleanup_ctx.append(lifecycle)
    app.add_routes(ops.routes)
    app.add_routes(webhook.routes)
    app.add_routes(sessions.routes)
    # Adapters mount themselves below, one line each.
    setup_slack(app)
    setup_monitor(app)
    setup_whatsapp(app)
    setup_dashboard(app)
    return app
