"""Wires the Slack parts: the route, the outbox group, start-up and shutdown."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.background import Background, RetryLater, with_backoff
from bot.media import MediaSource
from bot.settings import Settings, secret
from bot.slack import texts
from bot.slack.actions import SlackActions
from bot.slack.app import BotUser, build_bolt
from bot.slack.client import SlackApi, SlackError, retry_after
from bot.slack.feed import SlackFeed
from bot.slack.files import SlackFiles
from bot.slack.home import HomeTab
from bot.slack.identity import Identities
from bot.slack.notifier import CardNotifier
from bot.slack.offers import ACCEPT, DECLINE, OfferMessages
from bot.slack.roster import SlackRoster
from bot.slack.templates import CALLBACK as TEMPLATE_CALLBACK
from bot.slack.templates import OPEN as TEMPLATE_OPEN
from bot.slack.templates import TemplatePicker
from bot.slack.thread import ThreadBridge
from bot.slack.web import SlackEndpoint
from bot.whatsapp.templates import Templates
from handoff.backends import Backend
from handoff.delivery import Dispatcher
from handoff.hours import BusinessHours
from handoff.manager import SessionManager

log = logging.getLogger("handoff.slack")


class Slack:
    """Everything the Slack adapter holds, kept on the app as `app[SLACK]`."""

    def __init__(self, settings: Settings, *, manager: SessionManager, backend: Backend,
                 http: Callable[[], aiohttp.ClientSession], background: Background,
                 dispatcher: Dispatcher, on_failure: Callable[[], None],
                 media: MediaSource | None = None,
                 templates: Templates | None = None,
                 hours: BusinessHours | None = None) -> None:
        token = secret(settings.slack_bot_token) or ""
        signing_secret = secret(settings.slack_signing_secret) or ""
        self.settings = settings
        self.background = background
        self.api = SlackApi(settings.slack_api_url, token, http, on_failure=on_failure)
        self.identities = Identities(self.api)
        self.bot = BotUser()
        self.templates = TemplatePicker(manager, self.api, self.identities, templates)
        self.actions = SlackActions(manager, backend.claims, backend.ledger, self.api,
                                    self.identities, self.templates)
        self.notifier = CardNotifier(manager, self.api, self.identities,
                                     settings.slack_escalation_channel, backend.ledger,
                                     templates=templates is not None, hours=hours)
        self.home = HomeTab(manager, backend.store, self.api, self.identities, self.actions,
                            self.background, settings.slack_supervisors)
        self.bolt: AsyncApp = build_bolt(
            signing_secret=signing_secret, token=token, api_url=settings.slack_api_url,
            claims=backend.claims, background=self.background, actions=self.actions,
            home=self.home, bot=self.bot)
        self.endpoint = SlackEndpoint(self.bolt, signing_secret)
        self.socket: AsyncSocketModeHandler | None = None
        self.thread = ThreadBridge(manager, self.api, self.identities, backend.ledger,
                                   templates=templates is not None)
        #: Files attendants post in a thread, fetched for the customer sender.
        self.files = SlackFiles(self.api, http, token, max_bytes=settings.handoff_media_max_bytes)
        self.offers = OfferMessages(manager, self.api, self.identities, backend.ledger,
                                    self.notifier)
        #: The attendants' team for fair offers (`SLACK_ATTENDANTS`), when one is named.
        self.roster = (SlackRoster(self.api, self.identities, settings.slack_attendants)
                       if settings.slack_attendants else None)
        self.feed = SlackFeed(self.notifier, self.thread, self.home, self.identities, self.api,
                              oncall=settings.slack_oncall,
                              supervisors=settings.slack_supervisors, media=media,
                              after_hours=settings.slack_oncall_after_hours,
                              offers=self.offers)
        self.feed.subscribe(dispatcher)

        @self.bolt.action(re.compile(f"^({ACCEPT}|{DECLINE})$"))
        async def answer_offer(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            self.background.spawn(self.offers.answer(body, action), name="slack_offer_answer")

        @self.bolt.action(TEMPLATE_OPEN)
        async def open_template(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            self.background.spawn(self.actions.open_template(body, action),
                                  name="slack_template_open")

        @self.bolt.view(TEMPLATE_CALLBACK)
        async def template_chosen(ack: Any, body: dict[str, Any]) -> None:
            # Checked against the templates already known and queued in the outbox (Redis
            # only): Slack waits for the answer to close the modal or show what is wrong.
            errors = await self.templates.submitted(body)
            if errors:
                await ack(response_action="errors", errors=errors)
            else:
                await ack()

        @self.bolt.event("message")
        async def on_message(ack: Any, event: dict[str, Any]) -> None:
            # Written to the outbox before Slack gets its answer (Redis only), so that
            # replies keep their order and a failure makes Slack deliver the event again.
            await self.thread.accept(event)
            await ack()

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
        self.background.spawn(self.templates.warm(), name="whatsapp_templates")
        app_token = secret(self.settings.slack_app_token)
        if app_token:
            self.background.spawn(self.connect_socket(app_token), name="slack_socket")
        yield
        if self.socket is not None:
            await self.socket.close_async()


SLACK = web.AppKey("slack", Slack)


def setup_slack(app: web.Application, slack: Slack | None) -> None:
    """Mount Slack on `app` (route, lifecycle), or log once that it is off."""
    if slack is None:
        log.info("slack_disabled", extra={"detail": texts.SLACK_DISABLED})
        return
    app[SLACK] = slack
    app.router.add_post("/slack/events", slack.endpoint.handle)
    app.cleanup_ctx.append(slack.lifecycle)
