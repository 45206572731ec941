"""The Bolt `AsyncApp`: its listeners ack at once and leave the work to the background.

Authorization is static (one workspace, one bot token) so no request waits for `auth.test`;
the adapter calls it once at start-up, off the request path, to learn the bot's own ids.
Deliveries are deduplicated in the store — Slack's retries of an event (`event_id`), a
command or a click delivered twice (`trigger_id`) — so they act once across processes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import Background
from bot.slack import texts
from bot.slack.actions import SlackActions
from bot.slack.cards import RELEASE, TAKE, TRANSFER
from bot.slack.home import HOME_RELEASE, HOME_TAKE, HomeTab
from bot.web import texts as web_texts
from handoff.coordination import Claims
from handoff.store import StoreUnavailable

log = logging.getLogger("handoff.slack")

#: How long a delivery is remembered: Slack's last retry comes about five minutes after.
DELIVERY_TTL = 3600.0


@dataclass
class BotUser:
    """The bot's own ids, learned from `auth.test` at start (Bolt ignores its own events)."""

    user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None


def delivery_key(body: dict[str, Any]) -> str | None:
    """The store key that makes one Slack delivery act once, if it has one."""
    if body.get("type") == "event_callback" and isinstance(body.get("event_id"), str):
        return f"slack:event:{body['event_id']}"
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger and (
            "command" in body or body.get("type") == "block_actions"):
        return f"slack:trigger:{trigger}"
    return None


class OneLineUnhandled(logging.Filter):
    """Bolt words a request no listener takes (an event the app does not use) as a warning
    with a code sample; one info line with what it was says enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("Unhandled request"):
            return True
        log.info("slack_unhandled", extra={"detail": message.split("\n", 1)[0][:300]})
        return False


def build_bolt(*, signing_secret: str, token: str, api_url: str, claims: Claims,
               background: Background, actions: SlackActions, home: HomeTab,
               bot: BotUser) -> AsyncApp:
    """The Bolt app; its `client` (for Socket Mode) talks to `api_url`."""

    async def authorize(enterprise_id: str | None, team_id: str | None,
                        user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id or bot.team_id,
                               user_id=user_id, bot_token=token, bot_user_id=bot.user_id,
                               bot_id=bot.bot_id)

    bolt_log = logging.getLogger("handoff.slack.bolt")
    if not any(isinstance(f, OneLineUnhandled) for f in bolt_log.filters):
        bolt_log.addFilter(OneLineUnhandled())
    bolt = AsyncApp(
        name="handoff", logger=bolt_log,
        signing_secret=signing_secret, authorize=authorize,
        client=AsyncWebClient(base_url=api_url, retry_handlers=[]),
        # The endpoint verifies the signature before anything parses the body.
        request_verification_enabled=False,
        # Every listener acks first and hands its work to the background, so waiting for the
        # listener costs nothing; without this Bolt polls for the ack every 10 ms.
        process_before_response=True)

    async def once(body: dict[str, Any], next_: Callable[[], Awaitable[None]]
                   ) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None:
            try:
                first = await claims.claim(key, DELIVERY_TTL)
            except StoreUnavailable as exc:
                log.error("store_unavailable", extra={"path": "slack", "error": str(exc)})
                return BoltResponse(status=503, body={"error": web_texts.ERR_STORE})
            if not first:
                log.info("slack_duplicate", extra={"key": key})
                return BoltResponse(status=200, body="")
        await next_()
        return None

    bolt.middleware(once)

    @bolt.command(re.compile(r"^/"))
    async def command(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        background.spawn(actions.command(body), name="slack_command")

    @bolt.action(re.compile(f"^({TAKE}|{RELEASE})$"))
    async def click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        background.spawn(actions.click(body, action), name="slack_click")

    @bolt.action(TRANSFER)
    async def pick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        background.spawn(actions.pick(body, action), name="slack_transfer_pick")

    @bolt.action(re.compile(f"^({HOME_TAKE}|{HOME_RELEASE})$"))
    async def home_click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        background.spawn(home.click(body, action), name="slack_home_click")

    @bolt.event("app_home_opened")
    async def home_opened(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        background.spawn(home.opened(event), name="slack_home_opened")

    @bolt.event("app_uninstalled")
    @bolt.event("tokens_revoked")
    async def lost_access(ack: AsyncAck, body: dict[str, Any]) -> None:
        """Cards and answers will fail from now on: say why, loudly, once per delivery."""
        await ack()
        event = body.get("event")
        log.error("slack_access_lost", extra={
            "event": event.get("type") if isinstance(event, dict) else None,
            "detail": texts.SLACK_ACCESS_LOST})

    return bolt
