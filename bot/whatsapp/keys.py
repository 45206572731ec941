"""Typed keys for what the WhatsApp adapter puts on the application."""

from __future__ import annotations

from aiohttp import web

from bot.whatsapp.outbound import Outbound
from bot.whatsapp.tuning import Tuning
from handoff.inbox import Inbox
from handoff.ledger import Ledger

TUNING = web.AppKey("whatsapp_tuning", Tuning)
INBOX = web.AppKey("whatsapp_inbox", Inbox)
LEDGER = web.AppKey("whatsapp_ledger", Ledger)
#: Set at start-up; other adapters send to customers through it (`send(phone, text)`).
OUTBOUND = web.AppKey("whatsapp_outbound", Outbound)
