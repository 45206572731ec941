"""Knobs of the WhatsApp worker and sender that are not operator settings; tests shrink them."""

from __future__ import annotations

from dataclasses import dataclass

from handoff.ledger import DEFAULT_TTL


@dataclass
class Tuning:
    """How the queue is read and how hard a send is retried.

    `reclaim_after` must comfortably exceed one item's handling (agent call plus send retries);
    the worker refreshes its in-flight items every third of it, so only a dead worker's items
    go stale.
    """

    workers: int = 1
    batch: int = 20
    max_inflight: int = 64
    block: float = 1.0
    reclaim_after: float = 60.0
    max_deliveries: int = 10
    send_attempts: int = 6
    send_backoff: float = 0.5
    idle_backoff_cap: float = 5.0
    status_ttl: float = 7 * 24 * 3600.0
    fact_ttl: float = DEFAULT_TTL
