"""Files attendants post in a card's thread, fetched from Slack as a stream (bot token).

Slack serves `url_private_download` to the bot with its token (scope `files:read`); without the
scope it answers an HTML login page with status 200, so the type is checked. A Slack Connect
file arrives as a stub and is looked up with `files.info` first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.background import RetryLater, with_backoff
from bot.media import CHUNK, MediaTooLarge, MediaUnavailable, Opened
from bot.slack.client import SlackApi

_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_read=60)


class SlackFiles:
    """Opens a file a person shared in Slack, by the description the event carried."""

    def __init__(self, api: SlackApi, http: Callable[[], aiohttp.ClientSession], token: str,
                 *, max_bytes: int, attempts: int = 4) -> None:
        self.api = api
        self.http = http
        self._auth = {"Authorization": f"Bearer {token}"}
        self.max_bytes = max_bytes
        self.attempts = attempts

    async def describe(self, file: dict[str, Any]) -> dict[str, Any]:
        """The file with its download URL (a Slack Connect stub is looked up)."""
        if isinstance(file.get("url_private_download"), str):
            return file
        data = await self.api.call("files.info", file=str(file.get("id")))
        found = data.get("file") or {}
        return {**file, **{k: v for k, v in found.items() if isinstance(v, str | int)}}

    @asynccontextmanager
    async def open(self, file: dict[str, Any]) -> AsyncIterator[Opened]:
        file = await self.describe(file)
        size = file.get("size")
        if isinstance(size, int) and size > self.max_bytes:
            raise MediaTooLarge(size)
        url = file.get("url_private_download")
        if not isinstance(url, str):
            raise MediaUnavailable("Slack did not give the file's address")

        async def start() -> aiohttp.ClientResponse:
            response = await self.http().get(url, headers=self._auth, timeout=_TIMEOUT)
            if response.status == 429 or response.status >= 500:
                response.release()
                raise RetryLater(f"slack file: HTTP {response.status}")
            if response.status >= 300 or response.content_type == "text/html":
                response.release()
                raise MediaUnavailable(f"slack file: HTTP {response.status} "
                                       f"({response.content_type}); is files:read granted?")
            return response

        response = await with_backoff(start, what="slack.file", attempts=self.attempts)
        try:
            length = response.content_length
            total = length if length is not None else size if isinstance(size, int) else None
            if total is None:
                raise MediaUnavailable("the file's size is unknown")
            if total > self.max_bytes:
                raise MediaTooLarge(total)
            mime = str(file.get("mimetype") or response.content_type or
                       "application/octet-stream")
            yield Opened(total, mime, str(file.get("name") or "arquivo"),
                         response.content.iter_chunked(CHUNK))
        finally:
            response.release()
