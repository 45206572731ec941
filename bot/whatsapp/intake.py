"""The request path for Meta's POSTs: check the signature, read the body, queue, answer 200.

Nothing here calls Meta or the agent: the 200 means "durably queued", and the workers do the
rest. An unreachable store raises `StoreUnavailable` (503) so Meta sends the POST again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.settings import secret
from bot.web import texts as web_texts
from bot.web.errors import BadRequest, json_error
from bot.web.keys import SETTINGS
from bot.whatsapp import payloads, signature
from bot.whatsapp.keys import INBOX, TUNING

log = logging.getLogger("handoff.whatsapp")

#: Repeats of a status are dropped at the door for a day; `advance` catches later ones.
STATUS_DEDUPE_TTL = 24 * 3600.0


def is_meta(request: web.Request, data: dict[str, Any] | None) -> bool:
    """A signed POST, or a body that names Meta's object, is Meta's."""
    if signature.HEADER in request.headers:
        return True
    return data is not None and data.get("object") == payloads.OBJECT


async def receive(request: web.Request, raw: bytes) -> web.Response:
    """Authenticate `raw` (the exact bytes received), then parse and queue every item."""
    app_secret = secret(request.app[SETTINGS].whatsapp_app_secret)
    if app_secret and not signature.valid(app_secret, raw, request.headers.get(
            signature.HEADER)):
        log.warning("whatsapp_bad_signature", extra={
            "signed": signature.HEADER in request.headers, "bytes": len(raw)})
        return json_error(401, web_texts.ERR_SIGNATURE)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(web_texts.ERR_BAD_JSON) from exc
    if not isinstance(data, dict) or data.get("object") != payloads.OBJECT:
        raise BadRequest(web_texts.ERR_NOT_META)
    batch = payloads.parse(data)
    for error in batch.errors:
        log.warning("whatsapp_error", extra={"code": error.code, "title": error.title,
                                              "details": error.details})
    inbox, tuning = request.app[INBOX], request.app[TUNING]
    queued = 0
    for message in batch.messages:
        if await inbox.put_once(f"wa:in:{message.wamid}", message.to_json(), tuning.fact_ttl):
            queued += 1
        else:
            log.info("whatsapp_duplicate_delivery", extra={"phone": message.key,
                                                           "wamid": message.wamid})
    for status in batch.statuses:
        if await inbox.put_once(f"wa:st:{status.wamid}:{status.status}", status.to_json(),
                                STATUS_DEDUPE_TTL):
            queued += 1
    log.info("whatsapp_webhook", extra={
        "messages": len(batch.messages), "statuses": len(batch.statuses),
        "errors": len(batch.errors), "skipped": batch.skipped, "queued": queued})
    return web.json_response({"status": "ok", "queued": queued})
