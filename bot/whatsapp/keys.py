"""Typed keys for what the WhatsApp adapter puts on the application."""

from __future__ import annotations

from aiohttp import web

from bot.web.keys import LEDGER
from bot.whatsapp.outbound import Outbound
from bot.whatsapp.tuning import Tuning
from handoff.inbox import Inbox

__all__ = ["INBOX", "LEDGER", "OUTBOUND", "TUNING"]

TUNING = web.AppKey("whatsapp_tuning", Tuning)
INBOX = web.AppKey("whatsapp_inbox", Inbox)
#: Set at start-up; other adapters send to customers through it (`send(phone, text)`).
OUTBOUND = web.AppKey("whatsapp_outbound", Outbound)
