"""Waiting for asynchronous effects (background sends, monitor ticks) without timed asserts."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any


async def eventually(check: Callable[[], Any], within: float = 10.0) -> Any:
    """Poll until `check()` (awaited if it returns an awaitable) is truthy and return it;
    `within` only guards against hanging."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
