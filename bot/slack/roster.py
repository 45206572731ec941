"""The attendants' team for fair offers: `SLACK_ATTENDANTS`, and who of them is in Slack now.

`SLACK_ATTENDANTS` is a user group (`S…`, its members read with `usergroups.users.list`) or a
comma-separated list of user ids. Presence is `users.getPresence` (`active` or `away`).
Answers are cached per process (the team for five minutes, presence for thirty seconds) so a
busy queue does not run into Slack's rate limits; a failed lookup keeps the last answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp

from bot.background import RetryLater
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities, is_user_id
from handoff.routing import Attendant

log = logging.getLogger("handoff.slack")

_TRANSIENT = (SlackError, RetryLater, aiohttp.ClientError, OSError, TimeoutError)


def members_of(spec: str) -> tuple[str | None, list[str]]:
    """(`S…` user group, or None) and the user ids listed, from `SLACK_ATTENDANTS`."""
    words = [w.strip() for w in spec.replace(";", ",").split(",") if w.strip()]
    if len(words) == 1 and words[0].startswith("S"):
        return words[0], []
    return None, [w for w in words if is_user_id(w)]


class SlackRoster:
    def __init__(self, api: SlackApi, identities: Identities, spec: str, *,
                 members_ttl: float = 300.0, presence_ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.identities = identities
        self.group, self._listed = members_of(spec)
        self.members_ttl = members_ttl
        self.presence_ttl = presence_ttl
        self.clock = clock
        self._members: tuple[list[str], float] | None = None
        self._presence: dict[str, tuple[bool, float]] = {}

    async def attendants(self) -> list[Attendant]:
        """The team in its configured order, each present or not."""
        users = await self._users()
        people = await asyncio.gather(*(self._one(u) for u in users))
        return [a for a in people if a is not None]

    async def _one(self, user: str) -> Attendant | None:
        try:
            attendant = await self.identities.attendant(user)
        except _TRANSIENT as exc:
            log.warning("slack_attendant_unknown", extra={"user": user, "error": repr(exc)})
            return None
        return Attendant(attendant, await self._present(user))

    async def _users(self) -> list[str]:
        if self.group is None:
            return self._listed
        now = self.clock()
        if self._members is not None and now - self._members[1] < self.members_ttl:
            return self._members[0]
        try:
            data = await self.api.call("usergroups.users.list", usergroup=self.group,
                                       attempts=2)
            found = [u for u in data.get("users") or [] if isinstance(u, str)]
            self._members = (found, now)
        except _TRANSIENT as exc:
            log.warning("slack_attendants_unknown", extra={"group": self.group,
                                                           "error": repr(exc)})
            return self._members[0] if self._members else []
        return found

    async def _present(self, user: str) -> bool:
        now = self.clock()
        cached = self._presence.get(user)
        if cached is not None and now - cached[1] < self.presence_ttl:
            return cached[0]
        try:
            data = await self.api.call("users.getPresence", user=user, attempts=2)
            present = data.get("presence") == "active"
        except _TRANSIENT as exc:
            log.warning("slack_presence_unknown", extra={"user": user, "error": repr(exc)})
            present = cached[0] if cached else False
        self._presence[user] = (present, now)
        return present
