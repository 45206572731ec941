"""Files customers send, fetched as a stream: from the Cloud API by media id, or from a relay's
URL. Nothing is held whole in memory; a file over the cap is refused before it is read.

Meta's two steps: `GET {WHATSAPP_API_URL}/{media-id}` with the access token answers the file's
URL, size and type; `GET <url>` with the same token answers the bytes (the URL lives minutes,
so it is looked up again on every try).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.background import RetryLater, with_backoff

log = logging.getLogger("handoff.media")

CHUNK = 64 * 1024
#: Above this a file of unknown size is spooled to disk while it is counted.
_SPOOL_IN_MEMORY = 1024 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_read=30)


class MediaTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


class MediaUnavailable(Exception):
    """The file could not be fetched (gone, refused, or failing after the retries)."""


@dataclass
class Opened:
    """A file being fetched: its size (exact), type, name, and its bytes as chunks."""

    size: int
    mime_type: str
    filename: str
    chunks: AsyncIterator[bytes]


def _size(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac",
              "audio/amr": "amr", "video/mp4": "mp4", "video/3gpp": "3gp",
              "application/pdf": "pdf", "text/plain": "txt"}


def filename_for(media: dict[str, Any]) -> str:
    """The file's own name, else one made from its kind and type (`imagem.jpg`)."""
    name = media.get("filename")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    mime = str(media.get("mime_type") or "").split(";")[0].strip()
    return f"{media.get('kind') or 'arquivo'}.{EXTENSIONS.get(mime, 'bin')}"


class MediaSource:
    """Opens a customer's file by the reference a message carries (`id` or `url`)."""

    def __init__(self, http: Callable[[], aiohttp.ClientSession], *, max_bytes: int,
                 graph_url: str | None = None, token: str | None = None,
                 attempts: int = 4, backoff: float = 0.5) -> None:
        self.http = http
        self.max_bytes = max_bytes
        self.graph_url = graph_url.rstrip("/") if graph_url else None
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}
        self.attempts = attempts
        self.backoff = backoff

    @asynccontextmanager
    async def open(self, media: dict[str, Any]) -> AsyncIterator[Opened]:
        """The file, ready to stream; `MediaTooLarge` or `MediaUnavailable` otherwise."""
        response = await with_backoff(lambda: self._start(media), what="media.fetch",
                                      attempts=self.attempts, base=self.backoff)
        try:
            mime = str(media.get("mime_type") or response.content_type or
                       "application/octet-stream")
            size = _size(response.headers.get("Content-Length"))
            if size is not None and size > self.max_bytes:
                raise MediaTooLarge(size)
            if size is not None:
                yield Opened(size, mime, filename_for(media), self._chunks(response, size))
                return
            with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
                total = 0
                async for chunk in response.content.iter_chunked(CHUNK):
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise MediaTooLarge(total)
                    spool.write(chunk)
                spool.seek(0)
                yield Opened(total, mime, filename_for(media), _replay(spool))
        finally:
            response.release()

    async def _start(self, media: dict[str, Any]) -> aiohttp.ClientResponse:
        """Look the file up (Meta) and start downloading it; retried on 5xx and network."""
        url, headers = media.get("url"), {}
        if isinstance(media.get("id"), str) and self.graph_url:
            async with self.http().get(f"{self.graph_url}/{media['id']}", headers=self._auth,
                                       timeout=_TIMEOUT) as resp:
                _check(resp.status, "media lookup")
                found = await resp.json(content_type=None)
            url = found.get("url") if isinstance(found, dict) else None
            size = _size(found.get("file_size")) if isinstance(found, dict) else None
            if size is not None and size > self.max_bytes:
                raise MediaTooLarge(size)
            headers = self._auth
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise MediaUnavailable("no URL to fetch the file from")
        response = await self.http().get(url, headers=headers, timeout=_TIMEOUT)
        try:
            _check(response.status, "media download")
        except BaseException:
            response.release()
            raise
        return response

    async def _chunks(self, response: aiohttp.ClientResponse, size: int) -> AsyncIterator[bytes]:
        got = 0
        async for chunk in response.content.iter_chunked(CHUNK):
            got += len(chunk)
            yield chunk
        if got != size:
            raise MediaUnavailable(f"download cut short: {got} of {size} bytes")


async def _replay(spool: Any) -> AsyncIterator[bytes]:
    while chunk := spool.read(CHUNK):
        yield chunk


def _check(status: int, what: str) -> None:
    if status == 429 or status >= 500:
        raise RetryLater(f"{what}: HTTP {status}")
    if status >= 300:
        raise MediaUnavailable(f"{what}: HTTP {status}")
