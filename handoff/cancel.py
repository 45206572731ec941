"""A guard for loops that must stop when cancelled, whatever a library did with the cancel."""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Re-raise a cancellation that a library swallowed.

    On Python 3.11, `asyncio.wait_for` (which redis-py uses for `socket_timeout`) can lose a
    `cancel()` that lands as the command completes; the task stays marked as cancelling but
    runs on, and a worker loop would never stop. The mark is still there: honour it.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
