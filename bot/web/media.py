"""`GET /media/{token}`: a file an attendant posted in Slack, for the relay to fetch.

The relay cannot read Slack's private files, so its JSON carries links served here. A token
names the file and when the link expires, signed with HMAC-SHA256 (`HANDOFF_OUTBOUND_SECRET`,
which the relay already shares, else `SLACK_SIGNING_SECRET`): it cannot be guessed, altered or
extended. The bytes are streamed from Slack as they are read, never held whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.media import MediaTooLarge, MediaUnavailable
from bot.slack.files import SlackFiles
from bot.web import texts
from bot.web.errors import json_error

log = logging.getLogger("handoff.media")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MediaLinks:
    """Signs links to attendants' files and serves them."""

    def __init__(self, secret: str, files: SlackFiles, *, ttl: float,
                 base_url: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(b"handoff-media:" + secret.encode()).digest()
        self.files = files
        self.ttl = ttl
        self.base_url = base_url.rstrip("/") if base_url else ""
        self.clock = clock

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def link(self, file: dict[str, Any]) -> dict[str, Any]:
        """The relay's `{url, mime_type, filename, size}` for one file."""
        body = {k: file.get(k) for k in ("id", "name", "mimetype", "size",
                                         "url_private_download")}
        body["exp"] = int(self.clock() + self.ttl)
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return {"url": f"{self.base_url}/media/{payload}.{self._sign(payload)}",
                "mime_type": file.get("mimetype") or "application/octet-stream",
                "filename": file.get("name") or "arquivo", "size": file.get("size")}

    def read(self, token: str) -> dict[str, Any] | None:
        """The file a token names, if it is ours, unaltered and not expired."""
        payload, _, signature = token.partition(".")
        if not payload or not token.isascii() or not hmac.compare_digest(
                signature.encode(), self._sign(payload).encode()):
            return None
        try:
            body = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("exp"), int) or \
                body["exp"] < self.clock():
            return None
        return body

    async def serve(self, request: web.Request) -> web.StreamResponse:
        file = self.read(request.match_info["token"])
        if file is None:
            return json_error(404, texts.ERR_MEDIA_LINK)
        opening = self.files.open(file)
        try:
            opened = await opening.__aenter__()
        except (MediaTooLarge, MediaUnavailable, aiohttp.ClientError, OSError,
                TimeoutError) as exc:
            log.warning("media_link_failed", extra={"error": str(exc) or repr(exc)})
            return json_error(502, texts.ERR_MEDIA_UPSTREAM)
        try:
            response = web.StreamResponse(headers={
                "Content-Type": opened.mime_type, "Content-Length": str(opened.size),
                "Content-Disposition": "attachment; filename*=UTF-8''"
                                       + quote(opened.filename, safe="")})
            await response.prepare(request)
            async for chunk in opened.chunks:
                await response.write(chunk)
            await response.write_eof()
            return response
        finally:
            await opening.__aexit__(None, None, None)
