"""Outbound Slack calls (Web API and `response_url`), retried with backoff off the request path.

One thin client over the app's shared aiohttp session rather than `slack_sdk`'s: we need the
HTTP status and `Retry-After` of every answer to feed `with_backoff`, and nothing else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from bot.background import RetryLater, with_backoff

log = logging.getLogger("handoff.slack")

T = TypeVar("T")

#: Methods that take a JSON body; Slack's read methods (users.info, …) only take a form.
_JSON_PREFIXES = ("chat.", "views.", "reactions.")
_TIMEOUT = aiohttp.ClientTimeout(total=10)
#: Errors that answer a lookup ("no such user") rather than say the call failed.
_ANSWERS = frozenset({"user_not_found", "users_not_found"})


class SlackError(Exception):
    """Slack answered `ok: false` with an error that trying again will not fix."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error


def retry_after(headers: Any) -> float:
    """Slack's `Retry-After` in seconds; 1 when absent or unreadable."""
    try:
        return max(0.0, float(headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _raise_for_status(status: int, headers: Any, what: str) -> None:
    if status == 429:
        raise RetryLater(f"{what}: 429", retry_after(headers))
    if status >= 500:
        raise RetryLater(f"{what}: HTTP {status}")


class SlackApi:
    """`call("chat.postMessage", channel=…, text=…)` → Slack's answer as a dict, or `SlackError`.

    429 (honouring `Retry-After`), 5xx and network errors are retried up to `attempts` times;
    the caller runs this in the background, never while Slack or WhatsApp waits for an answer.
    """

    def __init__(self, base_url: str, token: str, http: Callable[[], aiohttp.ClientSession],
                 *, attempts: int = 6, on_failure: Callable[[], None] | None = None) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._token = token
        self._http = http
        self.attempts = attempts
        self._on_failure = on_failure

    async def call(self, method: str, *, attempts: int | None = None,
                   **params: Any) -> dict[str, Any]:
        return await self._counted(with_backoff(
            lambda: self._once(method, params), what=f"slack.{method}",
            attempts=attempts or self.attempts))

    async def _counted(self, call: Awaitable[T]) -> T:
        """A call that finally failed (refused, or retried to the bound) is counted."""
        try:
            return await call
        except Exception as exc:
            answered = isinstance(exc, SlackError) and exc.error in _ANSWERS
            if self._on_failure is not None and not answered:
                self._on_failure()
            raise

    async def _once(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"}
        body: dict[str, Any]
        if method.startswith(_JSON_PREFIXES):
            body = {"json": params}
        else:
            body = {"data": {k: v if isinstance(v, str) else json.dumps(v)
                             for k, v in params.items() if v is not None}}
        async with self._http().post(self.base_url + method, headers=headers, timeout=_TIMEOUT,
                                     **body) as resp:
            _raise_for_status(resp.status, resp.headers, method)
            try:
                data = await resp.json(content_type=None)
            except ValueError as exc:
                raise SlackError(method, "invalid_response") from exc
        if not isinstance(data, dict):
            raise SlackError(method, "invalid_response")
        if not data.get("ok"):
            error = str(data.get("error") or "unknown_error")
            if error == "ratelimited":
                raise RetryLater(f"{method}: ratelimited", retry_after(resp.headers))
            raise SlackError(method, error)
        return data

    async def upload(self, url: str, chunks: AsyncIterator[bytes], size: int) -> None:
        """Step 2 of an external upload: the bytes, streamed to the URL step 1 gave.

        Not retried: the stream can be read once (the caller fetches the file again).
        """
        timeout = aiohttp.ClientTimeout(total=300, sock_read=60)
        async with self._http().post(url, data=chunks, timeout=timeout,
                                     headers={"Content-Length": str(size),
                                              "Content-Type": "application/octet-stream"}
                                     ) as resp:
            if resp.status >= 300:
                raise SlackError("files.upload_url", f"HTTP {resp.status}")

    async def respond(self, response_url: str, payload: dict[str, Any]) -> None:
        """Post to a slash command's or button's `response_url` (ephemeral answers)."""

        async def once() -> None:
            async with self._http().post(response_url, json=payload, timeout=_TIMEOUT) as resp:
                _raise_for_status(resp.status, resp.headers, "response_url")
                if resp.status >= 400:
                    raise SlackError("response_url", f"HTTP {resp.status}")

        await self._counted(with_backoff(once, what="slack.response_url",
                                         attempts=self.attempts))
