"""The session core: decides, for every WhatsApp message, whether the bot may answer.

Nothing here knows about HTTP or Slack; every adapter in `bot` calls `SessionManager`.
"""

from handoff.manager import ActionResult, MessageResult, Outcome, SessionManager
from handoff.model import Event, Mode, Session

__all__ = [
    "ActionResult",
    "Event",
    "MessageResult",
    "Mode",
    "Outcome",
    "Session",
    "SessionManager",
]
