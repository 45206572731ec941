"""Slack fixtures: the fake Slack API, and the real app pointed at it with signed requests."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.settings import Settings
from bot.slack import SLACK
from bot.slack.cards import RELEASE, TAKE
from handoff.model import Session
from tests.bot.whatsapp.conftest import APP_SECRET
from tests.conftest import Running
from tests.fakes.graph import FakeGraph
from tests.fakes.slack import (
    FakeSlack,
    Message,
    action_payload,
    command_body,
    event_body,
    form_payload,
    signed_headers,
)
from tests.wait import eventually

SECRET = "test_signing_secret"
CHANNEL = "C0ESCALA"
PHONE = "5531999999999"
ANA, BRUNO, CARLA, DIEGO = "U0ANA", "U0BRUNO", "U0CARLA", "U0DIEGO"
EMAILS = {ANA: "ana@empresa.com", BRUNO: "bruno@empresa.com", CARLA: "carla@empresa.com",
          DIEGO: None}
SUPERVISOR = CARLA


class SlackRig:
    """The running app with Slack on, the fake Slack it talks to, and Slack's requests."""

    def __init__(self, running: Running, fake: FakeSlack) -> None:
        self.running = running
        self.fake = fake

    @property
    def manager(self) -> Any:
        return self.running.manager

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with self.running.request("POST", "/slack/events", data=body,
                                         headers=headers) as resp:
            return resp.status, await resp.text()

    async def signed(self, body: bytes, *, json_body: bool = False,
                     retry: int | None = None) -> tuple[int, str]:
        ctype = "application/json" if json_body else "application/x-www-form-urlencoded"
        return await self.post(body, signed_headers(SECRET, body, content_type=ctype,
                                                    retry=retry))

    async def command(self, command: str, text: str = "", *, user: str = ANA,
                      trigger_id: str | None = None, retry: int | None = None
                      ) -> tuple[int, str, str]:
        """Run a slash command; returns status, ack body and the response_url key."""
        key = f"cmd{len(self.fake.requests)}-{user}"
        body = command_body(command, text, user=user, response_url=self.fake.response_url(key),
                            trigger_id=trigger_id)
        status, ack = await self.signed(body, retry=retry)
        return status, ack, key

    async def answer(self, key: str) -> str:
        """The ephemeral answer posted to a command's response_url."""
        await self.fake.until(lambda: self.fake.responses.get(key), what=f"answer {key}")
        (reply,) = self.fake.responses[key]
        assert reply["response_type"] == "ephemeral"
        return str(reply["text"])

    async def click(self, card: Message, action_id: str, *, user: str,
                    value: str | None = None) -> tuple[int, str]:
        payload = action_payload(action_id, PHONE if value is None else value, user=user,
                                 channel=card.channel, message_ts=card.ts,
                                 response_url=self.fake.response_url())
        return await self.signed(form_payload(payload))

    async def take(self, card: Message, user: str) -> tuple[int, str]:
        return await self.click(card, TAKE, user=user)

    async def release(self, card: Message, user: str) -> tuple[int, str]:
        return await self.click(card, RELEASE, user=user)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    retry: int | None = None) -> tuple[int, str]:
        return await self.signed(event_body(event, event_id=event_id), json_body=True,
                                 retry=retry)

    async def escalate(self, phone: str = PHONE, text: str = "quero falar com um atendente"
                       ) -> Message:
        """A customer asks for a person through the webhook; returns the card that follows."""
        before = len(self.fake.top_level(CHANNEL))
        status, body = await self.running.json("POST", "/webhook/whatsapp", json={
            "phone": phone, "message": text, "sender_type": "customer"})
        assert status == 200 and body["session_mode"] == "paused", body
        cards = await self.fake.until(
            lambda: len(self.fake.top_level(CHANNEL)) > before and self.fake.top_level(CHANNEL),
            what="the card")
        return cards[-1]

    async def taken_by_ana(self) -> Message:
        """A customer asks for a person and Ana clicks Assumir; returns the card once it shows
        her, with every event of the takeover applied."""
        card = await self.escalate()
        assert (await self.take(card, ANA))[0] == 200
        shown = await self.fake.until(lambda: f"Assumido por <@{ANA}>" in card_json(
            self.fake.messages[(CHANNEL, card.ts)]) and self.fake.messages[(CHANNEL, card.ts)],
            what="the card held by Ana")
        await self.settled()
        return shown

    async def session(self, phone: str = PHONE) -> Session:
        session = await self.manager.get(phone)
        assert session is not None
        return session

    async def delivered(self) -> bool:
        """True once every outbox event was applied by every consumer group."""
        stats = await self.running.backend.outbox.stats()
        return all(g.lag == 0 and g.pending == 0 for g in stats.groups.values())

    async def settled(self) -> None:
        """Wait until the app's background work and every outbox event are done with."""
        background = self.running.app[SLACK].background

        async def quiet() -> bool:
            return len(background) == 0 and await self.delivered()

        await eventually(quiet)


def card_json(message: Message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def buttons(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions"
            for e in b["elements"]]


@pytest.fixture
def slack_settings(make_settings: Callable[..., Settings], fake_slack: FakeSlack
                   ) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "slack_bot_token": fake_slack.token, "slack_signing_secret": SECRET,
            "slack_api_url": fake_slack.api_url, "slack_escalation_channel": CHANNEL,
            "slack_supervisors": [SUPERVISOR]}
        values.update(overrides)
        return make_settings(**values)
    return make


@pytest.fixture
async def slack(serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
                fake_slack: FakeSlack) -> SlackRig:
    rig = SlackRig(await serve(slack_settings()), fake_slack)
    await fake_slack.wait_for("auth.test")
    return rig


@pytest.fixture
def start(serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
          fake_slack: FakeSlack, graph: FakeGraph) -> Callable[..., Awaitable[SlackRig]]:
    """`await start(**settings)`: the app with Slack and the Cloud API on (`cloud=False`:
    Slack alone), pointed at the fakes."""
    async def run(*, cloud: bool = True, **overrides: Any) -> SlackRig:
        values: dict[str, Any] = {"whatsapp_app_secret": APP_SECRET}
        if cloud:
            values.update(whatsapp_access_token="EAAG-token", whatsapp_api_url=graph.url,
                          whatsapp_phone_number_id="770000000000002")
        values.update(overrides)
        r = SlackRig(await serve(slack_settings(**values)), fake_slack)
        await fake_slack.wait_for("auth.test")
        return r
    return run
