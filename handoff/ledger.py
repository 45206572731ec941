"""Small facts about messages that expire on their own: what was answered, sent, delivered.

Workers keep here what they must remember across a crash (a message already answered), and
what a later reader needs (our sent message's latest status, whose conversation it was).
Every key has a time to live, so the ledger never grows without bound.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable

#: How long facts are kept when the caller gives no better figure: Meta retries for 7 days.
DEFAULT_TTL = 8 * 24 * 3600.0


class Ledger(ABC):
    """Key → short string, each with a time to live."""

    @abstractmethod
    async def put(self, key: str, value: str, ttl: float) -> None: ...

    @abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abstractmethod
    async def advance(self, key: str, rank: int, value: str, ttl: float) -> bool:
        """Store `value` only if `rank` is above the stored one's; True when it was stored.

        A status Meta delivers late (`delivered` after `read`) must not overwrite the newer one,
        and a repeat of the same status is not news.
        """

    @staticmethod
    def decode_rank(raw: str | None) -> tuple[int, str | None]:
        """`"3:read"` → `(3, "read")`; nothing stored → `(0, None)`."""
        if raw is None:
            return 0, None
        rank, _, value = raw.partition(":")
        return int(rank), value


class MemoryLedger(Ledger):
    """The ledger in process memory, swept of expired keys as it grows."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def _sweep(self, now: float) -> None:
        if len(self._data) > 50_000:
            self._data = {k: v for k, v in self._data.items() if v[1] > now}

    async def put(self, key: str, value: str, ttl: float) -> None:
        now = self._clock()
        self._sweep(now)
        self._data[key] = (value, now + ttl)

    async def get(self, key: str) -> str | None:
        found = self._data.get(key)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    async def advance(self, key: str, rank: int, value: str, ttl: float) -> bool:
        current, _ = self.decode_rank(await self.get(key))
        if current >= rank:
            return False
        await self.put(key, f"{rank}:{value}", ttl)
        return True
