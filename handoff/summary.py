"""The hand-back summary: what happened while a person held the conversation.

Posted in the card's thread on release, and kept on the session (`metadata.handoff_summary`)
so the bot's next request carries it and the bot can pick up where the person left off.
"""

from __future__ import annotations

from typing import Any

from handoff.events import Happening
from handoff.model import Event, Session, iso

SUMMARY_KEY = "handoff_summary"


def summarize(session: Session, history: list[Event], released: Event) -> dict[str, Any]:
    """From the session just handed back and its history up to `released`."""
    stretch = [e for e in history if e.at <= released.at]
    started = next((e for e in reversed(stretch) if e.from_mode == "agent"), None)
    holders = [e.to if e.event == Happening.TRANSFER else e.actor for e in stretch
               if e.event in (Happening.TAKEOVER, Happening.TRANSFER)
               and (started is None or e.at >= started.at)]
    began = started.at if started is not None else released.at
    return {
        "attendant": holders[-1] if holders else None,
        "attendants": list(dict.fromkeys(a for a in holders if a)),
        "started_at": iso(began),
        "ended_at": iso(released.at),
        "seconds": round(max(0.0, released.at - began), 3),
        "customer_messages": session.customer_messages,
        "attendant_messages": session.human_messages,
        "released_by": released.actor,
        "released_via": released.source,
        "last_customer_text": session.last_customer_text,
    }
