"""`GET /queue`: routing as a support lead watches it — who waits and in which place, what is
on offer to whom (a silent holder's conversation too), how loaded each attendant is, and
whether the team is open."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.monitor import MONITOR
from bot.web.keys import MANAGER, SETTINGS
from handoff.model import iso
from handoff.routing import Offer

routes = web.RouteTableDef()


def _offer(offer: Offer | None) -> dict[str, Any] | None:
    if offer is None:
        return None
    return {"attendant": offer.attendant, "offered_at": iso(offer.at),
            "expires_at": iso(offer.expires), "reason": offer.reason.value}


def _any_offer(offer: Offer) -> dict[str, Any]:
    """An offer of any conversation, a silent holder's included."""
    return {"phone": offer.phone, **(_offer(offer) or {}), "holder": offer.holder}


@routes.get("/queue")
async def queue(request: web.Request) -> web.Response:
    manager, settings = request.app[MANAGER], request.app[SETTINGS]
    monitor = request.app[MONITOR]
    now = manager.clock()
    q = await manager.queue()
    held = q.held
    hours = monitor.hours
    is_open = hours is None or hours.is_open(now)
    opening = hours.next_opening(now) if hours is not None and not is_open else None
    # The team as this process last saw it (offers on), plus anyone holding or offered.
    team = monitor.router.team if monitor.router is not None else []
    present = {a.id: a.present for a in team}
    names = list(dict.fromkeys([*(a.id for a in team), *sorted(held),
                                *sorted(o.attendant for o in q.offers.values())]))
    return web.json_response({
        "assignment": settings.handoff_assignment,
        "open": is_open,
        "opens_at": opening.at.isoformat() if opening else None,
        "max_conversations": settings.handoff_max_conversations if settings.offers else None,
        "waiting": [{"phone": s.phone, "name": s.profile_name, "place": n,
                     "waiting_since": iso(s.paused_at), "offer": _offer(q.offers.get(s.phone))}
                    for n, s in enumerate(q.waiting, start=1)],
        "offers": [_any_offer(o) for o in sorted(q.offers.values(), key=lambda o: o.at)],
        "attendants": [{"attendant": a, "holding": held.get(a, 0),
                        "offered": sum(o.attendant == a for o in q.offers.values()),
                        "present": present.get(a)} for a in names],
    })
