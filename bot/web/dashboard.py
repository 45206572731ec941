"""`GET /dashboard`: the attendants' page, plain HTML/JS/CSS shipped in the package.

No build step and no CDN, so it works on a network without internet. The page itself is open
(the auth middleware lets `/dashboard` and `/static/` through); it asks for the token and sends
it as the bearer on its own API calls.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from bot.web import texts
from bot.web.errors import json_error

STATIC = Path(str(resources.files("bot") / "static"))

#: The only files served: an allow-list, so no request can name anything else on disk.
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}

#: Everything comes from this origin; no inline script, so injected markup could not run.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate on each load, so a deploy's new page is picked up at once.
    "Cache-Control": "no-cache",
}


def _file(name: str, content_type: str) -> web.FileResponse:
    response = web.FileResponse(STATIC / name, headers=HEADERS)
    response.content_type = content_type
    response.charset = "utf-8"
    return response


async def page(request: web.Request) -> web.FileResponse:
    return _file("dashboard.html", "text/html")


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        return json_error(404, texts.ERR_NOT_FOUND_ROUTE)
    return _file(name, ASSETS[name])


def setup_dashboard(app: web.Application) -> None:
    app.router.add_get("/dashboard", page)
    app.router.add_get("/static/{name}", asset)
