"""Concurrent script calls written to Redis together: one connection, one write, one read.

Under load many requests reach their one `EVALSHA` in the same turn of the event loop. Sent one
by one, each costs a pool checkout, a socket write, a wake-up for its reply and redis-py's
per-command machinery, which was most of the Redis store's share of the webhook's CPU. Queued
instead, the calls made in one turn go out in the next as a single pipelined write on one
connection, and their replies are read back in order. Each call is still its own command and
its own atomic script, so what Redis does and counts is unchanged; only the socket traffic is
shared. A lone call goes out on its own at the next turn, so nothing waits for company.
"""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

#: A call waiting for its batch: the packed command and where its reply goes.
Queued = tuple[bytes, "asyncio.Future[Any]"]


def pack(*args: str | int) -> bytes:
    """One command in the Redis protocol, packed in C (the same bytes redis-py would write)."""
    return hiredis.pack_command(args)  # type: ignore[arg-type]  # its stub says a 1-tuple


class Batcher:
    """Sends packed commands through `pool`, those queued in the same event-loop turn together.

    A reply that is an error (`NOSCRIPT`, a script's own error) is raised to its caller alone;
    a connection error or timeout is raised to every caller whose reply was not read yet.
    """

    def __init__(self, pool: aioredis.ConnectionPool) -> None:
        self._pool = pool
        self._queued: list[Queued] = []
        # Strong references: the loop keeps only weak ones to running tasks.
        self._sending: set[asyncio.Task[None]] = set()

    async def call(self, command: bytes) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append((command, future))
        if len(self._queued) == 1:  # the first of this turn: send them all at the next one
            task = loop.create_task(self._send())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return await future

    async def _send(self) -> None:
        batch, self._queued = self._queued, []
        try:
            conn = await self._pool.get_connection()
            try:
                await conn.send_packed_command(b"".join(command for command, _ in batch))
                for _, future in batch:
                    try:
                        reply = await conn.read_response()
                    except ResponseError as exc:  # this command's error; the connection is fine
                        _fail(future, exc)
                    else:
                        if not future.done():  # its caller may have been cancelled
                            future.set_result(reply)
            finally:
                await self._pool.release(conn)
        except BaseException as exc:  # no connection, or it broke: no reply is coming
            for _, future in batch:
                _fail(future, exc)
            if not isinstance(exc, Exception):  # cancelled (the loop is closing): stop
                raise


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
