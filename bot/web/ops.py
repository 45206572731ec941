"""Operators' endpoints: `/healthz` for load balancers, `/metrics` for Prometheus."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.web import texts
from bot.web.keys import BACKEND, METRICS
from handoff.store import StoreUnavailable

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    store = request.app[BACKEND].store
    try:
        await store.ping()
    except StoreUnavailable:
        return web.json_response({"status": "unavailable", "store": store.kind,
                                  "error": texts.ERR_STORE}, status=503)
    return web.json_response({"status": "ok", "store": store.kind})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    body = await request.app[METRICS].render(request.app[BACKEND])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
