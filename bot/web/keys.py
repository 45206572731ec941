"""Typed keys for what the app factory puts on the application."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.background import Background
from bot.metrics import Metrics
from bot.settings import Settings
from handoff.backends import Backend
from handoff.delivery import Dispatcher
from handoff.manager import SessionManager

SETTINGS = web.AppKey("settings", Settings)
#: Store, outbox, claims, ledger and inbox, on the backend the settings chose.
BACKEND = web.AppKey("backend", Backend)
MANAGER = web.AppKey("manager", SessionManager)
HTTP = web.AppKey("http", aiohttp.ClientSession)
BACKGROUND = web.AppKey("background", Background)
METRICS = web.AppKey("metrics", Metrics)
#: One outbox dispatcher per consumer group this process runs, by group name.
DISPATCHERS = web.AppKey("dispatchers", dict[str, Dispatcher])
