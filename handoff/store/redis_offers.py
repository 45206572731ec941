"""The offer book on Redis: one Lua script per step, so processes sharing Redis agree.

Layout under the prefix: `o:{phone}` the offer (hash), `o:open` the open offers (zset, scored
by when each expires), `o:tried:{phone}:{episode}` who was passed over for one wait (set, kept
a day). The scripts read sessions (`s:{phone}`) and offers of other phones by name, which a
single Redis (not a cluster) allows.
"""

from __future__ import annotations

from importlib import resources

import redis.asyncio as aioredis

from handoff.events import Offered, OfferEnded, encode
from handoff.offers import ACCEPT_GRACE, TRIED_TTL, OfferBook, offered
from handoff.routing import Made, Offer, OfferOutcome, OfferReason
from handoff.store.redis_inbox import reachable
from handoff.store.redis_outbox import RedisOutbox


def _lua(name: str) -> str:
    return (resources.files("handoff.store") / "lua" / f"{name}.lua").read_text()


def _offer(phone: str, raw: dict[str, str]) -> Offer:
    return Offer(phone, raw["a"], float(raw["at"]), float(raw["x"]), OfferReason(raw["r"]),
                 float(raw["ep"]), raw.get("h") or None, raw.get("k") == "1")


class RedisOffers(OfferBook):
    def __init__(self, client: aioredis.Redis, outbox: RedisOutbox,
                 prefix: str = "handoff:") -> None:
        self.redis = client
        self.outbox = outbox
        self.prefix = prefix
        self._open = f"{prefix}o:open"
        self._make = client.register_script(_lua("offer_make"))
        self._accept = client.register_script(_lua("offer_accept"))
        self._end = client.register_script(_lua("offer_end"))

    def _key(self, phone: str) -> str:
        return f"{self.prefix}o:{phone}"

    def _tried(self, phone: str, episode: float) -> str:
        return f"{self.prefix}o:tried:{phone}:{episode!r}"

    async def make(self, offer: Offer, limit: int) -> Made:
        p = self.prefix
        event = offered(offer)
        with reachable():
            made = await self._make(
                keys=[self._key(offer.phone), self._open, self._tried(offer.phone, offer.episode),
                      f"{p}s:{offer.phone}", f"{p}i:human", self.outbox.stream_for(offer.phone)],
                args=[p, offer.phone, offer.attendant, repr(offer.at), repr(offer.expires),
                      offer.reason.value, repr(offer.episode), offer.holder or "", limit,
                      Offered.kind, encode(event)])
        return Made(made)

    async def accept(self, phone: str, attendant: str, at: float, now: float
                     ) -> Offer | None:
        with reachable():
            raw = await self._accept(keys=[self._key(phone), self._open],
                                     args=[phone, attendant, repr(at), repr(now),
                                           repr(now + ACCEPT_GRACE)])
        return _offer(phone, _pairs(raw)) if raw else None

    async def end(self, phone: str, at: float, outcome: OfferOutcome, now: float, *,
                  attendant: str | None = None, expired_only: bool = False) -> Offer | None:
        with reachable():
            raw = await self._end(
                keys=[self._key(phone), self._open, self.outbox.stream_for(phone)],
                args=[self.prefix, phone, repr(at), outcome.value, repr(now), attendant or "",
                      "1" if expired_only else "0", OfferEnded.kind, int(TRIED_TTL)])
        return _offer(phone, _pairs(raw)) if raw else None

    async def open(self) -> list[Offer]:
        with reachable():
            phones = [str(p) for p in await self.redis.zrange(self._open, 0, -1)]
            if not phones:
                return []
            async with self.redis.pipeline(transaction=False) as pipe:
                for phone in phones:
                    pipe.hgetall(self._key(phone))
                found = await pipe.execute()
        return [_offer(phone, raw) for phone, raw in zip(phones, found, strict=True) if raw]

    async def tried(self, phone: str, episode: float) -> set[str]:
        with reachable():
            return {str(m) for m in await self.redis.smembers(self._tried(phone, episode))}


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))
