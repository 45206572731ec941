"""Slack off, Slack without a channel, and Socket Mode beside HTTP."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest

from bot.settings import Settings
from handoff.model import Mode
from tests.bot.slack.conftest import ANA, PHONE, SlackRig
from tests.conftest import Running
from tests.fakes.slack import FakeSlack


async def test_without_slack_settings_the_service_runs_and_says_so_once(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    running = await serve(make_settings(slack_signing_secret="only-half"))
    status, body = await running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "quero um atendente"})
    assert status == 200 and body["session_mode"] == "paused"
    async with running.request("POST", "/slack/events", data=b"x") as resp:
        assert resp.status == 404
    assert [r.msg for r in caplog.records].count("slack_disabled") == 1
    assert "mode_change" in [r.msg for r in caplog.records]


async def test_without_a_channel_commands_still_work(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    running = await serve(slack_settings(slack_escalation_channel=None))
    slack = SlackRig(running, fake_slack)
    assert "slack_no_channel" in [r.msg for r in caplog.records]
    await running.json("POST", "/webhook/whatsapp", json={"phone": PHONE,
                                                          "message": "atendente"})
    _, _, key = await slack.command("/assumir", PHONE, user=ANA)
    await slack.answer(key)
    await slack.settled()
    assert (await slack.session()).mode is Mode.HUMAN
    assert not fake_slack.calls["chat.postMessage"]


async def test_socket_mode_connects_from_the_apps_lifecycle(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    fake_slack.fail("apps.connections.open", status=429, times=1, retry_after=1)
    running = await serve(slack_settings(slack_app_token=fake_slack.app_token))
    slack = SlackRig(running, fake_slack)
    await fake_slack.wait_for("apps.connections.open")
    opened = [c.status for c in fake_slack.requests if c.method == "apps.connections.open"]
    assert opened == [429, 200]
    payload = {"token": "legacy", "team_id": "T0TEST", "channel_id": "C0SUPORTE",
               "user_id": ANA, "command": "/assumir", "text": PHONE,
               "response_url": fake_slack.response_url("socket"),
               "trigger_id": "999.socket"}
    envelope = await fake_slack.send_envelope("slash_commands", payload)
    await fake_slack.until(lambda: any(a.get("envelope_id") == envelope
                                       for a in fake_slack.socket_acks))
    assert "ana@empresa.com" in await slack.answer("socket")
    assert (await slack.session()).human_attendant == "ana@empresa.com"
    # HTTP keeps serving beside the socket.
    status, body = await running.json("GET", f"/session/{PHONE}/status")
    assert status == 200 and body["mode"] == "human"
    # A redelivery over the socket acts once too.
    await fake_slack.send_envelope("slash_commands", payload, retry_attempt=1)
    await fake_slack.until(lambda: len(fake_slack.socket_acks) >= 2)
    await slack.settled()
    assert len(fake_slack.responses["socket"]) == 1
