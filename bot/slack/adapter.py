"""Wires the Slack parts to the app: route, manager listeners, start-up and shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.background import Background, RetryLater, with_backoff
from bot.relay import Relay
from bot.settings import Settings, secret
from bot.slack.actions import SlackActions
from bot.slack.app import BotUser, build_bolt
from bot.slack.client import SlackApi, SlackError, retry_after
from bot.slack.home import HomeTab
from bot.slack.identity import Identities
from bot.slack.notifier import CardNotifier
from bot.slack.thread import Deliver, Delivery, ThreadBridge
from bot.slack.web import SlackEndpoint
from bot.web.keys import BACKGROUND, HTTP, LEDGER, MANAGER, METRICS, SETTINGS
from bot.whatsapp.keys import OUTBOUND
from handoff import texts
from handoff.model import Mode

log = logging.getLogger("handoff.slack")


def deliver_for(app: web.Application, settings: Settings) -> Deliver:
    """How an attendant's reply reaches the customer: the Cloud API when configured (looked
    up at send time: it starts after Slack), else the integrator's relay, else nowhere."""
    relay = None
    if settings.handoff_outbound_url:
        relay_url, relay_secret = settings.handoff_outbound_url, secret(
            settings.handoff_outbound_secret)

    async def deliver(phone: str, text: str, attendant: str, mode: Mode) -> Delivery:
        nonlocal relay
        outbound = app.get(OUTBOUND)
        if outbound is not None and outbound.client is not None:
            wamid = await outbound.send(phone, text, sender="human")
            return Delivery(wamid is not None, wamid)
        if settings.handoff_outbound_url:
            relay = relay or Relay(app[HTTP], relay_url, relay_secret)
            ok = await relay.send(phone, text, attendant, mode.value)
            return Delivery(ok, None, None if ok else texts.THREAD_RELAY_FAILED)
        return Delivery(False, None, texts.THREAD_NO_CHANNEL)

    return deliver


class Slack:
    """Everything the Slack adapter holds, kept on the app as `app[SLACK]`."""

    def __init__(self, app: web.Application, settings: Settings) -> None:
        token = secret(settings.slack_bot_token) or ""
        signing_secret = secret(settings.slack_signing_secret) or ""
        manager = app[MANAGER]
        self.settings = settings
        self.background: Background = app[BACKGROUND]
        self.api = SlackApi(settings.slack_api_url, token, lambda: app[HTTP],
                            on_failure=app[METRICS].outbound_failures.labels("slack").inc)
        self.identities = Identities(self.api)
        self.bot = BotUser()
        self.actions = SlackActions(manager, self.api, self.identities,
                                    settings.slack_supervisors)
        self.notifier = CardNotifier(manager, self.api, self.identities, self.background,
                                     settings.slack_escalation_channel, ledger=app[LEDGER])
        self.home = HomeTab(manager, self.api, self.identities, self.actions, self.background,
                            settings.slack_supervisors)
        self.bolt: AsyncApp = build_bolt(
            signing_secret=signing_secret, token=token, api_url=settings.slack_api_url,
            store=manager.store, background=self.background, actions=self.actions,
            home=self.home, bot=self.bot)
        self.endpoint = SlackEndpoint(self.bolt, signing_secret)
        self.socket: AsyncSocketModeHandler | None = None
        manager.subscribe(self.notifier.on_change)
        manager.subscribe_notices(self.notifier.on_notice)
        self.thread = ThreadBridge(manager, self.api, self.identities, self.notifier,
                                   app[LEDGER], self.background, deliver_for(app, settings))
        manager.subscribe_messages(self.thread.on_message)
        manager.subscribe_notices(self.thread.on_notice)

        @self.bolt.event("message")
        async def on_message(ack: Any, event: dict[str, Any]) -> None:
            await ack()
            self.background.spawn(self.thread.on_event(event), name="slack_thread_reply")
        manager.subscribe(self.home.on_change)
        manager.subscribe_messages(self.home.on_message)

    async def check_token(self) -> None:
        """`auth.test` once, off the request path: says in the log whether the token works."""
        try:
            data = await self.api.call("auth.test")
        except SlackError as exc:
            log.error("slack_auth_failed", extra={"error": exc.error})
            return
        self.bot.user_id = data.get("user_id")
        self.bot.bot_id = data.get("bot_id")
        self.bot.team_id = data.get("team_id")
        log.info("slack_ready", extra={"team": data.get("team"), "bot_user": self.bot.user_id})

    async def connect_socket(self, app_token: str) -> None:
        """Socket Mode from the app's own lifecycle, so HTTP keeps serving beside it.

        Opening the socket is retried like any Slack call; once open, slack_sdk reconnects.
        """
        socket = self.socket = AsyncSocketModeHandler(self.bolt, app_token)

        async def connect() -> None:
            try:
                await socket.connect_async()
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429 or status >= 500:
                    raise RetryLater(f"apps.connections.open: {status}",
                                     retry_after(exc.response.headers)) from exc
                raise

        try:
            await with_backoff(connect, what="slack.socket_mode", attempts=self.api.attempts)
        except (SlackApiError, RetryLater, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.error("slack_socket_failed", extra={"error": repr(exc)})
            return
        log.info("slack_socket_connected")

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        self.background.spawn(self.check_token(), name="slack_auth_test")
        app_token = secret(self.settings.slack_app_token)
        if app_token:
            self.background.spawn(self.connect_socket(app_token), name="slack_socket")
        yield
        if self.socket is not None:
            await self.socket.close_async()


SLACK = web.AppKey("slack", Slack)


def setup_slack(app: web.Application) -> None:
    """Mount Slack on `app` (route, listeners, lifecycle), or log once that it is off."""
    settings = app[SETTINGS]
    if not settings.slack_enabled:
        log.info("slack_disabled", extra={"detail": texts.SLACK_DISABLED})
        return
    slack = Slack(app, settings)
    app[SLACK] = slack
    app.router.add_post("/slack/events", slack.endpoint.handle)
    app.cleanup_ctx.append(slack.lifecycle)
