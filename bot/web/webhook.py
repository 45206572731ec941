"""`/webhook/whatsapp`: Meta's verification handshake, Meta's payloads, the simple JSON format."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from bot import replies
from bot.settings import secret
from bot.web import texts
from bot.web.auth import bearer_ok, unauthorized
from bot.web.errors import BadRequest, field, json_error, read_json
from bot.web.keys import MANAGER, SETTINGS
from bot.whatsapp import intake
from bot.whatsapp.payloads import kind_of_mime, media_text
from handoff.machine import Sender
from handoff.manager import MessageResult
from handoff.model import Source

routes = web.RouteTableDef()


@routes.get("/webhook/whatsapp")
async def verify(request: web.Request) -> web.Response:
    """Meta's handshake: echo `hub.challenge` when the verify token matches."""
    expected = secret(request.app[SETTINGS].whatsapp_verify_token)
    q = request.query
    given = q.get("hub.verify_token", "")
    if (expected and q.get("hub.mode") == "subscribe"
            and hmac.compare_digest(given.encode(), expected.encode())):
        return web.Response(text=q.get("hub.challenge", ""), content_type="text/plain")
    return json_error(403, texts.ERR_VERIFY)


@routes.post("/webhook/whatsapp")
async def receive(request: web.Request) -> web.Response:
    """Meta's signed Cloud API payloads, or the simple JSON format behind the bearer token.

    A signed POST is verified over its raw bytes before anything parses it; an unsigned one
    that names Meta's object is refused when an app secret is set, and nothing is recorded.
    Without the bearer, anything that is not Meta's is a 401, whatever the body.
    """
    raw = await request.read()
    if intake.is_meta(request, None):
        return await intake.receive(request, raw)
    authorized = bearer_ok(request)
    try:
        data = await read_json(request)
    except BadRequest:
        if not authorized:  # without the bearer, only Meta's payloads are read at all
            return unauthorized()
        raise
    if intake.is_meta(request, data):
        return await intake.receive(request, raw)
    if not authorized:
        return unauthorized()
    return web.json_response(answer(await simple_message(request, data)))


def _text_field(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if data.get(name) is not None:
            return name, data[name]
    return names[0], None


async def simple_message(request: web.Request, data: dict[str, Any]) -> MessageResult:
    """The relay/n8n format: `phone`|`from`, `message`|`text`, `sender_type`, …"""
    phone_name, phone = _text_field(data, "phone", "from")
    if phone is None:
        raise BadRequest(texts.ERR_MISSING.format(field="phone"))
    if isinstance(phone, bool) or not isinstance(phone, str | int):
        raise BadRequest(texts.ERR_TYPE.format(field=phone_name, kind="texto"))
    media = _media(data.get("media"))
    text_name, text = _text_field(data, "message", "text")
    if text is None and media is not None:
        text = media_text(media)
    if text is None:
        raise BadRequest(texts.ERR_MISSING.format(field="message"))
    if not isinstance(text, str):
        raise BadRequest(texts.ERR_TYPE.format(field=text_name, kind="texto"))
    sender_raw = field(data, "sender_type", str, "texto") or "customer"
    try:
        sender = Sender(sender_raw)
    except ValueError as exc:
        raise BadRequest(texts.ERR_SENDER) from exc
    message_id = field(data, "message_id", (str, int), "texto")
    attendant = field(data, "attendant_id", str, "texto")
    metadata = field(data, "metadata", dict, "objeto")
    return await request.app[MANAGER].handle_message(
        phone, text, sender, attendant=attendant or None,
        message_id=str(message_id) if message_id is not None else None,
        metadata=metadata, source=Source.WHATSAPP, media=media)


def _media(raw: Any) -> dict[str, Any] | None:
    """The optional `media` object: `url` (http/https) and `mime_type`, `filename` and
    `caption` optional; shown in the card's thread as the file itself."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequest(texts.ERR_TYPE.format(field="media", kind="objeto"))
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or \
            len(url) > 2048:
        raise BadRequest(texts.ERR_MEDIA_URL)
    out: dict[str, Any] = {"url": url}
    for name in ("mime_type", "filename", "caption"):
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(texts.ERR_TYPE.format(field=f"media.{name}", kind="texto"))
        if value:
            out[name] = value[:1024]
    if "mime_type" not in out:
        raise BadRequest(texts.ERR_MISSING.format(field="media.mime_type"))
    out["kind"] = kind_of_mime(out["mime_type"])
    return out


def answer(result: MessageResult) -> dict[str, Any]:
    return {
        "should_respond": result.should_respond,
        "response": replies.word(result.command) if result.command else result.response,
        "reason": result.reason.value,
        "session_mode": result.session.mode.value if result.session else None,
        "metadata": result.metadata,
    }
