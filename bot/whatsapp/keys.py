"""Typed keys for what the WhatsApp adapter puts on the application."""

from __future__ import annotations

from aiohttp import web

from bot.whatsapp.tuning import Tuning
from handoff.inbox import Inbox

__all__ = ["INBOX", "TUNING"]

TUNING = web.AppKey("whatsapp_tuning", Tuning)
INBOX = web.AppKey("whatsapp_inbox", Inbox)
