"""Typed keys for what the app factory puts on the application."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.background import Background
from bot.metrics import Metrics
from bot.settings import Settings
from handoff.ledger import Ledger
from handoff.manager import SessionManager
from handoff.store import SessionStore

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", SessionStore)
MANAGER = web.AppKey("manager", SessionManager)
HTTP = web.AppKey("http", aiohttp.ClientSession)
BACKGROUND = web.AppKey("background", Background)
METRICS = web.AppKey("metrics", Metrics)
#: Short-lived facts shared across processes (thread → phone, sent message → status).
LEDGER = web.AppKey("ledger", Ledger)
