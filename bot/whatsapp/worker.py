"""The consumer that drains the inbox: one reader, one lane per conversation.

Items of one customer are handled in the order they were queued (a lane each), different
customers concurrently, up to `max_inflight`. An item is acknowledged only after it was
handled; one that raised stays pending and comes back after `reclaim_after`, here or in any
other process, until `max_deliveries` says it is poison (then it is logged and dropped). While
working, the worker keeps its items fresh so a live worker's items are never reclaimed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import deque
from typing import Any

from bot.whatsapp.handling import Handler
from bot.whatsapp.tuning import Tuning
from handoff.cancel import raise_if_cancelled
from handoff.inbox import Entry, Inbox
from handoff.store import StoreUnavailable

log = logging.getLogger("handoff.whatsapp")


def consumer_name() -> str:
    """Unique per worker: host, process and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Worker:
    """`run()` until cancelled; what is in flight at cancellation stays pending for others."""

    def __init__(self, inbox: Inbox, handler: Handler, tuning: Tuning,
                 consumer: str | None = None) -> None:
        self.inbox = inbox
        self.handler = handler
        self.tuning = tuning
        self.consumer = consumer or consumer_name()
        self._room = asyncio.Semaphore(tuning.max_inflight)
        self._inflight: dict[str, Entry] = {}
        self._lanes: dict[str, deque[Entry]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def run(self) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(), name="whatsapp-heartbeat")
        try:
            await self._read()
        finally:
            heartbeat.cancel()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(heartbeat, *self._tasks, return_exceptions=True)

    async def _read(self) -> None:
        failures = 0
        while True:
            raise_if_cancelled()
            await self._room.acquire()
            want = 1
            while want < self.tuning.batch and not self._room.locked():
                await self._room.acquire()
                want += 1
            try:
                batch = await self.inbox.take(self.consumer, want, self.tuning.block,
                                              self.tuning.reclaim_after)
            except Exception as exc:
                for _ in range(want):
                    self._room.release()
                failures += 1
                wait = min(self.tuning.idle_backoff_cap, 0.1 * 2 ** failures)
                if isinstance(exc, StoreUnavailable):
                    log.warning("whatsapp_inbox_unavailable", extra={"error": str(exc),
                                                                     "wait": wait})
                else:
                    log.exception("whatsapp_inbox_failed", extra={"wait": wait})
                await asyncio.sleep(wait)
                continue
            failures = 0
            fresh = [e for e in batch if e.id not in self._inflight]
            for _ in range(want - len(fresh)):
                self._room.release()
            for entry in fresh:
                self._dispatch(entry)

    def _dispatch(self, entry: Entry) -> None:
        self._inflight[entry.id] = entry
        lane = str(entry.body.get("key") or entry.id)
        queue = self._lanes.get(lane)
        if queue is None:
            queue = self._lanes[lane] = deque()
            task = asyncio.create_task(self._drain(lane, queue), name=f"whatsapp-lane-{lane}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        queue.append(entry)

    async def _drain(self, lane: str, queue: deque[Entry]) -> None:
        try:
            while queue:
                raise_if_cancelled()
                await self._one(queue.popleft())
        finally:
            self._lanes.pop(lane, None)

    async def _one(self, entry: Entry) -> None:
        context = {"entry": entry.id, "deliveries": entry.deliveries,
                   "phone": entry.body.get("key"), "kind": entry.body.get("kind")}
        try:
            if entry.deliveries > self.tuning.max_deliveries:
                log.error("whatsapp_item_dropped", extra={**context, "body": entry.body})
            else:
                await self.handler.handle(entry.body)
            await self.inbox.ack(entry.id)
        except StoreUnavailable as exc:
            log.warning("whatsapp_item_retry", extra={**context, "error": str(exc)})
        except Exception:
            log.exception("whatsapp_item_failed", extra=context)
        finally:
            self._inflight.pop(entry.id, None)
            self._room.release()

    async def _heartbeat(self) -> None:
        while True:
            raise_if_cancelled()
            await asyncio.sleep(max(0.01, self.tuning.reclaim_after / 3))
            if not self._inflight:
                continue
            try:
                await self.inbox.touch(self.consumer, list(self._inflight))
            except Exception as exc:
                log.warning("whatsapp_heartbeat_failed", extra={"error": str(exc)})
