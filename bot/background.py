"""Work that must not sit on a request path (Slack and WhatsApp calls), run and tracked here.

Tasks are kept until done so they are not garbage-collected mid-flight, their failures are
logged rather than lost, and shutdown waits a bounded time for them to finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import aiohttp

log = logging.getLogger("handoff.background")

T = TypeVar("T")


class Background:
    """A set of fire-and-forget tasks with logging and a graceful drain."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str, **context: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background_failed", exc_info=t.exception(),
                          extra={"task": name, **context})

        task.add_done_callback(done)

    async def drain(self, within: float = 5.0) -> None:
        """Let running work finish (up to `within` seconds), then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=within)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)


class RetryLater(Exception):
    """Raised by a call that may succeed if tried again; `after` is the server's hint."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


async def with_backoff(call: Callable[[], Awaitable[T]], *, what: str, attempts: int = 6,
                       base: float = 0.5, cap: float = 30.0, **context: Any) -> T:
    """Run `call`, retrying on `RetryLater` and network errors with exponential backoff.

    Honours the server's `Retry-After` when given; re-raises after `attempts` tries.
    """
    delay = base
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except (RetryLater, OSError, aiohttp.ClientConnectionError, TimeoutError) as exc:
            if attempt == attempts:
                log.error("gave_up", extra={"call": what, "attempts": attempt,
                                            "error": str(exc), **context})
                raise
            wait = exc.after if isinstance(exc, RetryLater) and exc.after is not None else delay
            wait = min(wait, cap)
            log.warning("retrying", extra={"call": what, "attempt": attempt, "wait": wait,
                                           "error": str(exc) or type(exc).__name__, **context})
            await asyncio.sleep(wait)
            delay = min(delay * 2, cap)
    raise AssertionError("unreachable")
