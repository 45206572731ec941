"""Who a Slack user is to the core, and how to mention an attendant back in Slack.

The contract makes `joao@empresa.com` in the dashboard and the CLI and `<@U…>` in Slack one
attendant: the core keys attendants by email (`users.info`, scope `users:read.email`), falling
back to the Slack user id when Slack has no email for them. Answers are cached per process.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from bot.background import RetryLater
from bot.slack.cards import escape
from bot.slack.client import SlackApi, SlackError

log = logging.getLogger("handoff.slack")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def is_user_id(value: str) -> bool:
    return bool(_USER_ID.match(value))


@dataclass(frozen=True)
class Person:
    """A Slack user as a transfer sees them: who they are to the core, and whether a person."""

    user_id: str
    attendant: str
    is_bot: bool


class Identities:
    """`attendant(user_id)` → email or user id; `user_id(attendant)` → the Slack id, if any."""

    def __init__(self, api: SlackApi, *, ttl: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.ttl = ttl
        self.clock = clock
        self._attendant: dict[str, tuple[str, float]] = {}
        self._user: dict[str, tuple[str | None, float]] = {}
        self._names: dict[str, tuple[str | None, float]] = {}

    def _fresh(self, at: float) -> bool:
        return self.clock() - at < self.ttl

    async def attendant(self, user_id: str) -> str:
        """The user's email, else their id when Slack definitively has no email for them.

        Transient failures (Slack down after the retries) raise: acting under the id instead
        would split one person into two attendants.
        """
        cached = self._attendant.get(user_id)
        if cached and self._fresh(cached[1]):
            return cached[0]
        try:
            data = await self.api.call("users.info", user=user_id)
            profile = (data.get("user") or {}).get("profile") or {}
            email = profile.get("email")
            identity = email if isinstance(email, str) and email else user_id
            if identity == user_id:
                # Usually the app lacks the users:read.email scope.
                log.warning("slack_user_without_email", extra={"user": user_id})
        except SlackError as exc:
            log.warning("slack_user_unknown", extra={"user": user_id, "error": exc.error})
            identity = user_id
        now = self.clock()
        self._attendant[user_id] = (identity, now)
        self._user[identity] = (user_id, now)
        return identity

    async def display_name(self, attendant: str) -> str | None:
        """How Slack shows an attendant (by id or email) to people; None when unknown."""
        try:
            user = await self.user_id(attendant)
            return await self.name(user) if user else None
        except (RetryLater, aiohttp.ClientError, OSError, TimeoutError):
            return None

    def known(self, user_id: str) -> str:
        """The attendant behind `user_id` if already known, else the id itself (no Slack
        call: for answers that cannot wait)."""
        cached = self._attendant.get(user_id)
        return cached[0] if cached else user_id

    async def name(self, user_id: str) -> str | None:
        """The name Slack shows for `user_id` (display name, else real name), if any."""
        cached = self._names.get(user_id)
        if cached and self._fresh(cached[1]):
            return cached[0]
        try:
            data = await self.api.call("users.info", user=user_id)
        except SlackError:
            data = {}
        user = data.get("user") or {}
        profile = (user.get("profile") or {}) if isinstance(user, dict) else {}
        name = None
        for key in ("display_name", "real_name"):
            value = profile.get(key) if isinstance(profile, dict) else None
            if isinstance(value, str) and value.strip():
                name = value.strip()
                break
        self._names[user_id] = (name, self.clock())
        return name

    async def person(self, user_id: str) -> Person | None:
        """The workspace member `user_id`; None when Slack says there is no such user (or
        they were deactivated)."""
        try:
            data = await self.api.call("users.info", user=user_id)
        except SlackError as exc:
            if exc.error == "user_not_found":
                return None
            raise
        user = data.get("user") or {}
        if not isinstance(user, dict) or user.get("deleted"):
            return None
        profile = user.get("profile") or {}
        email = profile.get("email") if isinstance(profile, dict) else None
        attendant = email if isinstance(email, str) and email else user_id
        self._attendant[user_id] = (attendant, self.clock())
        return Person(user_id, attendant, bool(user.get("is_bot")) or user_id == "USLACKBOT")

    async def user_id(self, attendant: str | None) -> str | None:
        """The Slack id behind an attendant (an id itself, or an email Slack knows)."""
        if not attendant:
            return None
        if is_user_id(attendant):
            return attendant
        cached = self._user.get(attendant)
        if cached and self._fresh(cached[1]):
            return cached[0]
        found: str | None = None
        if "@" in attendant:
            try:
                data = await self.api.call("users.lookupByEmail", email=attendant, attempts=2)
                user = data.get("user") or {}
                found = user.get("id") if isinstance(user.get("id"), str) else None
            except SlackError:
                found = None
        self._user[attendant] = (found, self.clock())
        return found

    async def mention(self, attendant: str | None) -> str | None:
        """`<@U…>` when the attendant is a Slack user we can name, else their id as text.

        A display nicety: when Slack cannot be asked, the plain id is still the truth.
        """
        if not attendant:
            return None
        try:
            user = await self.user_id(attendant)
        except (RetryLater, aiohttp.ClientError, OSError, TimeoutError):
            user = None
        return f"<@{user}>" if user else escape(attendant)
