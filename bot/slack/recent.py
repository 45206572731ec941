"""The last few things each customer wrote, for the card ("Últimas mensagens").

Kept in this process's memory from the manager's message feed: the core stores only the
last text. With several processes, a card shows what its own process heard, plus the
session's last text, which every process sees.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from handoff.machine import Reason, Sender
from handoff.manager import MessageResult
from handoff.model import Session

KEEP = 5
_MAX_PHONES = 5000
_MAX_CHARS = 500


class RecentMessages:
    """Per phone, the last `KEEP` customer texts; the least recently heard phones go first."""

    def __init__(self, max_phones: int = _MAX_PHONES) -> None:
        self.max_phones = max_phones
        self._texts: OrderedDict[str, deque[str]] = OrderedDict()

    def on_message(self, sender: Sender, result: MessageResult) -> None:
        session = result.session
        if (sender is not Sender.CUSTOMER or result.reason is Reason.DUPLICATE
                or session is None or not session.last_customer_text):
            return
        texts = self._texts.pop(session.phone, None) or deque(maxlen=KEEP)
        texts.append(session.last_customer_text[:_MAX_CHARS])
        self._texts[session.phone] = texts
        if len(self._texts) > self.max_phones:
            self._texts.popitem(last=False)

    def of(self, session: Session) -> list[str]:
        """Oldest first, ending with the session's last text whoever heard it."""
        texts = list(self._texts.get(session.phone, ()))
        last = session.last_customer_text
        if last and (not texts or texts[-1] != last[:_MAX_CHARS]):
            texts.append(last)
        return texts[-KEEP:]
