"""`/healthz`: is the store reachable? Load balancers and operators ask this."""

from __future__ import annotations

from aiohttp import web

from bot.web.keys import STORE
from handoff.store import StoreUnavailable

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    try:
        await store.ping()
    except StoreUnavailable:
        return web.json_response({"status": "unavailable", "store": store.kind}, status=503)
    return web.json_response({"status": "ok", "store": store.kind})
