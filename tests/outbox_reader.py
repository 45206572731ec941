"""Reads an outbox the way a consumer group does, for tests: every event, in order per shard."""

from __future__ import annotations

from handoff.events import DomainEvent
from handoff.outbox import Outbox


async def events_in(outbox: Outbox, group: str = "test") -> list[DomainEvent]:
    """What `group` has not read yet, acknowledged; oldest first within each conversation."""
    await outbox.prepare([group])
    out: list[DomainEvent] = []
    for shard in range(outbox.shards):
        while True:
            batch = await outbox.read(group, shard, 1000, 0)
            if not batch:
                break
            for envelope in batch:
                out.append(envelope.event)
                await outbox.ack(group, shard, envelope.id)
    return out
