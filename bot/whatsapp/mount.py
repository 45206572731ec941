"""Mounts the WhatsApp Cloud API adapter on the app: its queue and workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.reach import Reach
from bot.settings import Settings
from bot.whatsapp import texts
from bot.whatsapp.handling import Handler
from bot.whatsapp.keys import INBOX, TUNING
from bot.whatsapp.tuning import Tuning
from bot.whatsapp.worker import Worker
from handoff.inbox import Inbox
from handoff.ledger import Ledger
from handoff.manager import SessionManager
from handoff.store import StoreUnavailable

log = logging.getLogger("handoff.whatsapp")


def setup_whatsapp(app: web.Application, settings: Settings, *, manager: SessionManager,
                   inbox: Inbox, ledger: Ledger, reach: Reach, tuning: Tuning) -> None:
    """The queue (shared across processes on Redis) and its workers, for the app's life."""
    app[INBOX] = inbox
    app[TUNING] = tuning
    meta_configured = settings.whatsapp_access_token or settings.whatsapp_verify_token
    if meta_configured and not settings.whatsapp_app_secret:
        log.warning("whatsapp_unsigned", extra={"detail": texts.WA_NO_APP_SECRET})
    handler = Handler(manager, ledger, reach, tuning)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
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

    app.cleanup_ctx.append(lifecycle)
