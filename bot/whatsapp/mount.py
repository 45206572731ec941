"""Mounts the WhatsApp Cloud API adapter on the app: its queue, ledger, sender and workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.settings import secret
from bot.web.keys import HTTP, MANAGER, METRICS, SETTINGS, STORE
from bot.whatsapp.cloud import CloudClient
from bot.whatsapp.handling import Handler
from bot.whatsapp.keys import INBOX, LEDGER, OUTBOUND, TUNING
from bot.whatsapp.outbound import Outbound
from bot.whatsapp.tuning import Tuning
from bot.whatsapp.worker import Worker
from handoff import texts
from handoff.inbox import MemoryInbox
from handoff.ledger import DEFAULT_TTL
from handoff.store import StoreUnavailable
from handoff.store.redis import RedisStore
from handoff.store.redis_inbox import RedisInbox

log = logging.getLogger("handoff.whatsapp")


def setup_whatsapp(app: web.Application) -> None:
    """The queue on the app's store (Redis shares it across processes)."""
    store = app[STORE]
    if isinstance(store, RedisStore):
        app[INBOX] = RedisInbox(store.redis, store.prefix)
    else:
        app[INBOX] = MemoryInbox()
    app[TUNING] = Tuning(fact_ttl=app[SETTINGS].handoff_dedupe_ttl_seconds or DEFAULT_TTL)
    app.cleanup_ctx.append(_lifecycle)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings, tuning, inbox = app[SETTINGS], app[TUNING], app[INBOX]
    meta_configured = settings.whatsapp_access_token or settings.whatsapp_verify_token
    if meta_configured and not settings.whatsapp_app_secret:
        log.warning("whatsapp_unsigned", extra={"detail": texts.WA_NO_APP_SECRET})
    client = None
    if settings.whatsapp_cloud_enabled:
        client = CloudClient(app[HTTP], settings.whatsapp_api_url,
                             settings.whatsapp_phone_number_id or "",
                             secret(settings.whatsapp_access_token) or "")
    failures = app[METRICS].outbound_failures.labels("whatsapp")
    outbound = Outbound(app[MANAGER], app[LEDGER], client, tuning, on_failure=failures.inc)
    app[OUTBOUND] = outbound
    handler = Handler(app[MANAGER], app[LEDGER], outbound, tuning)
    try:
        await inbox.prepare()
    except StoreUnavailable as exc:
        log.warning("whatsapp_inbox_unavailable", extra={"error": str(exc)})
    workers = [Worker(inbox, handler, tuning) for _ in range(tuning.workers)]
    tasks = [asyncio.create_task(w.run(), name="whatsapp-worker") for w in workers]
    yield
    for task in tasks:
        task.cancel()
    if tasks:
        _, stuck = await asyncio.wait(tasks, timeout=5)
        if stuck:
            log.error("whatsapp_worker_stuck", extra={"tasks": len(stuck)})
    for worker in workers:
        try:
            async with asyncio.timeout(2):
                await inbox.leave(worker.consumer)
        except Exception as exc:
            log.warning("whatsapp_leave_failed", extra={"error": str(exc)})
