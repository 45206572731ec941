"""`POST /slack/events`: Slack's signed requests handed to Bolt on our own aiohttp app.

The signature (`v0` HMAC over `v0:{timestamp}:{raw body}`, at most five minutes old) is
checked on the raw bytes before anything is parsed: 401 otherwise. The body is parsed here,
strictly (400 when it is not what Slack sends), because Bolt's own HTTP-mode parser reads a
form whose text merely contains the word "payload" as an empty body. No Slack input is
answered with a 5xx: only an unreachable store is (503, so Slack retries an event). Slack's
`ssl_check` probe, which acts on nothing, is answered 200 signed or not, as Bolt does.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack import texts
from bot.web.errors import json_error

log = logging.getLogger("handoff.slack")


class BadBody(ValueError):
    """Not a body Slack sends."""


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A slash command form, an interactivity `payload=` form, or an Events API JSON object."""
    try:
        text = raw.decode("utf-8")
        if content_type == "application/json" or text.lstrip().startswith("{"):
            data: Any = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
            data = json.loads(form["payload"]) if "payload" in form else form
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadBody(str(exc)) from exc
    if not isinstance(data, dict) or not (isinstance(data.get("type"), str)
                                          or isinstance(data.get("command"), str)):
        raise BadBody("neither a command nor a typed payload")
    return data


def is_ssl_check(raw: bytes) -> bool:
    """Slack's certificate probe for a command URL (`ssl_check=1`); it may come unsigned."""
    try:
        form = dict(parse_qsl(raw.decode("ascii"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == "1" and not {"command", "payload"} & form.keys()


class SlackEndpoint:
    """The aiohttp handler in front of the Bolt app."""

    def __init__(self, bolt: AsyncApp, signing_secret: str) -> None:
        self.bolt = bolt
        self.verifier = SignatureVerifier(signing_secret)

    def signed(self, raw: bytes, request: web.Request) -> bool:
        try:
            return self.verifier.is_valid(
                body=raw, timestamp=request.headers.get("X-Slack-Request-Timestamp"),
                signature=request.headers.get("X-Slack-Signature"))
        except (ValueError, TypeError):  # TypeError: compare_digest on a non-ASCII signature
            return False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if is_ssl_check(raw):
            return web.Response(status=200)
        if not self.signed(raw, request):
            log.warning("slack_bad_signature", extra={"retry": request.headers.get(
                "X-Slack-Retry-Num")})
            return json_error(401, texts.SLACK_BAD_SIGNATURE)
        try:
            body = parse_body(raw, request.content_type)
        except BadBody as exc:
            log.warning("slack_bad_body", extra={"error": str(exc)[:200]})
            return json_error(400, texts.SLACK_BAD_BODY)
        # Bolt takes an already-parsed body only in its "socket_mode"; the signature is checked.
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string,
                                        headers=dict(request.headers), mode="socket_mode")
        response = await self.bolt.async_dispatch(bolt_request)
        if response.status == 404:
            # A valid request the app has no use for (a shortcut, a dialog, another event):
            # acknowledged, never called invalid; a suggestion gets no options.
            if body.get("type") in ("block_suggestion", "dialog_suggestion"):
                return web.json_response({"options": []})
            return web.Response(status=200)
        if response.status >= 500 and response.status != 503:
            log.warning("slack_unhandled", extra={"status": response.status,
                                                  "type": body.get("type")})
            return json_error(400, texts.SLACK_BAD_BODY)
        return await to_aiohttp_response(response)
