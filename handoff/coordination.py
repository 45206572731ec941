"""Claims and leases: the small agreements processes sharing one backend need.

A claim is first-come (`SET NX`): one Slack delivery acts once, one alert is raised once, one
outbox event is applied once per target. A lease is a claim its owner keeps renewing: the
outbox's shards are read by one process at a time, and a dead process's lease expires so a
live one takes its shards over within seconds.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable


class Claims(ABC):
    """Keys that exist until they expire; every method is atomic across processes."""

    @abstractmethod
    async def claim(self, key: str, ttl: float | None) -> bool:
        """True for the first caller to claim `key` (until it expires); False for any other."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def lease(self, key: str, owner: str, ttl: float) -> bool:
        """Take `key` for `owner`, or extend it if `owner` holds it; False if another does."""

    @abstractmethod
    async def unlease(self, key: str, owner: str) -> None:
        """Give `key` up if `owner` holds it (a clean shutdown hands shards over at once)."""

    @abstractmethod
    async def members(self, key: str, owner: str, ttl: float) -> list[str]:
        """Say `owner` is alive in the group `key` for `ttl` more seconds; the live members,
        sorted (processes sharing the outbox's shards size their share from it)."""

    @abstractmethod
    async def leave(self, key: str, owner: str) -> None:
        """`owner` leaves the group `key` (a clean shutdown)."""


class MemoryClaims(Claims):
    """Claims in this process; expired keys are swept as the table grows."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._keys: dict[str, tuple[float, str]] = {}
        self._groups: dict[str, dict[str, float]] = {}
        self._clock = clock
        self._writes = 0

    def claim_now(self, key: str, ttl: float | None, owner: str = "") -> bool:
        """`claim` without an await, for the memory store's atomic steps."""
        now = self._clock()
        found = self._keys.get(key)
        if found is not None and found[0] > now:
            return False
        self._keys[key] = (now + ttl if ttl else float("inf"), owner)
        self._writes += 1
        if self._writes >= 10_000:
            self._writes = 0
            self._keys = {k: v for k, v in self._keys.items() if v[0] > now}
        return True

    async def claim(self, key: str, ttl: float | None) -> bool:
        return self.claim_now(key, ttl)

    async def exists(self, key: str) -> bool:
        found = self._keys.get(key)
        return found is not None and found[0] > self._clock()

    async def lease(self, key: str, owner: str, ttl: float) -> bool:
        found = self._keys.get(key)
        if found is not None and found[0] > self._clock() and found[1] != owner:
            return False
        self._keys[key] = (self._clock() + ttl, owner)
        return True

    async def unlease(self, key: str, owner: str) -> None:
        found = self._keys.get(key)
        if found is not None and found[1] == owner:
            del self._keys[key]

    async def members(self, key: str, owner: str, ttl: float) -> list[str]:
        now = self._clock()
        group = self._groups.setdefault(key, {})
        group[owner] = now + ttl
        for name in [n for n, until in group.items() if until <= now]:
            del group[name]
        return sorted(group)

    async def leave(self, key: str, owner: str) -> None:
        self._groups.get(key, {}).pop(owner, None)
