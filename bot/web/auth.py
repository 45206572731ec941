"""Bearer auth for the REST API and the simple-JSON webhook, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from bot.settings import secret
from bot.web import texts
from bot.web.errors import json_error
from bot.web.keys import SETTINGS

#: Routes that are open or check their own signatures (Slack, Meta); the webhook's POST
#: decides per body, since Meta's signed payloads and the bearer-protected simple JSON share it.
OPEN_PATHS = frozenset({"/healthz", "/openapi.json", "/dashboard", "/slack/events",
                        "/webhook/whatsapp"})
#: The dashboard's assets, and file links for the relay (their signed token is the key).
OPEN_PREFIXES = ("/static/", "/media/")


def bearer_ok(request: web.Request) -> bool:
    token = secret(request.app[SETTINGS].handoff_api_token)
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    # surrogateescape: a header that is not UTF-8 (aiohttp keeps its bytes so) is a wrong token.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode())


def unauthorized() -> web.Response:
    resp = json_error(401, texts.ERR_TOKEN)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="handoff"'
    return resp


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES) or \
            bearer_ok(request):
        response: web.StreamResponse = await handler(request)
        return response
    return unauthorized()
