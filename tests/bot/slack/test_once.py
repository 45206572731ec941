"""Exactly once, and never in the way: retries, double clicks, rate limits, a hung Slack."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.slack import SLACK
from handoff.model import Mode
from tests.bot.slack.conftest import ANA, BRUNO, CHANNEL, PHONE, SlackRig, card_json
from tests.fakes.slack import command_body, event_body


async def test_a_retried_command_delivery_acts_once(slack: SlackRig) -> None:
    body = command_body("/assumir", PHONE, user=ANA, response_url=slack.fake.response_url("r"),
                        trigger_id="111.222.same")
    assert (await slack.signed(body))[0] == 200
    assert (await slack.signed(body, retry=1))[0] == 200
    assert (await slack.signed(body, retry=2))[0] == 200
    await slack.fake.wait_for("response_url")
    await slack.settled()
    assert len(slack.fake.responses["r"]) == 1
    history = await slack.manager.history(PHONE)
    assert [e.event for e in history] == ["takeover"]


async def test_a_retried_event_reaches_listeners_once(slack: SlackRig) -> None:
    """Slack redelivers an event with the same `event_id`; listeners (threads, Home tab) run
    once. A listener is added to the real Bolt app here to count what gets through."""
    seen: list[str] = []
    bolt = slack.running.app[SLACK].bolt

    @bolt.event("app_mention")
    async def mention(ack: Any, event: dict[str, Any]) -> None:
        await ack()
        seen.append(event["text"])

    event = {"type": "app_mention", "user": ANA, "text": "<@U0BOT> oi", "channel": CHANNEL,
             "ts": "1767225700.000200", "event_ts": "1767225700.000200"}
    body = event_body(event, event_id="Ev0RETRIED")
    assert (await slack.signed(body, json_body=True))[0] == 200
    assert (await slack.signed(body, json_body=True, retry=1))[0] == 200
    other = event_body({**event, "text": "<@U0BOT> outra"}, event_id="Ev0OTHER")
    assert (await slack.signed(other, json_body=True, retry=3))[0] == 200
    await slack.fake.until(lambda: len(seen) >= 2)
    assert seen == ["<@U0BOT> oi", "<@U0BOT> outra"]


async def test_a_double_click_acts_once(slack: SlackRig) -> None:
    card = await slack.escalate()
    first, second = await asyncio.gather(slack.take(card, ANA), slack.take(card, ANA))
    assert first[0] == second[0] == 200
    await slack.fake.until(lambda: "Assumido por" in card_json(
        slack.fake.messages[(CHANNEL, card.ts)]))
    await slack.settled()
    assert [e.event for e in await slack.manager.history(PHONE)] == [
        "escalation_requested", "takeover"]
    assert not slack.fake.calls["chat.postEphemeral"]
    assert len(slack.fake.thread(CHANNEL, card.ts)) == 1


async def test_racing_clickers_one_wins_the_other_is_told(slack: SlackRig) -> None:
    card = await slack.escalate()
    await asyncio.gather(slack.take(card, ANA), slack.take(card, BRUNO))
    (told,) = await slack.fake.wait_for("chat.postEphemeral")
    await slack.settled()
    session = await slack.session()
    assert session.mode is Mode.HUMAN
    holder = session.human_attendant
    assert holder is not None
    winner = {"ana@empresa.com": ANA, "bruno@empresa.com": BRUNO}[holder]
    loser = BRUNO if winner == ANA else ANA
    assert told.params["user"] == loser and f"<@{winner}>" in told.params["text"]
    shown = card_json(slack.fake.messages[(CHANNEL, card.ts)])
    assert re.findall(r"Assumido por <@(\w+)>", shown) == [winner]


async def test_rate_limited_card_still_arrives_once(slack: SlackRig) -> None:
    slack.fake.fail("chat.postMessage", status=429, times=1, retry_after=1)
    card = await slack.escalate()
    await slack.settled()
    assert [m.ts for m in slack.fake.top_level()] == [card.ts]
    attempts = [c.status for c in slack.fake.requests if c.method == "chat.postMessage"]
    assert attempts == [429, 200]


async def test_server_errors_and_a_rate_limited_answer_are_retried(slack: SlackRig) -> None:
    slack.fake.fail("users.info", status=503, times=2, retry_after=None)
    slack.fake.fail("response_url", status=429, times=1, retry_after=1)
    _, _, key = await slack.command("/assumir", PHONE, user=ANA)
    assert "ana@empresa.com" in await slack.answer(key)
    assert (await slack.session()).human_attendant == "ana@empresa.com"


async def test_a_hung_slack_never_slows_the_whatsapp_webhook(slack: SlackRig) -> None:
    gate = slack.fake.hold("chat.postMessage")
    for n in range(3):
        status, body = await slack.running.json("POST", "/webhook/whatsapp", json={
            "phone": f"551199990000{n}", "message": "quero um atendente"})
        assert status == 200 and body["session_mode"] == "paused"
    status, body = await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "oi"})
    assert status == 200 and body["should_respond"] is True
    # Everything above was answered while Slack holds the card posts it has been sent.
    await slack.fake.until(lambda: slack.fake.waiting("chat.postMessage") == 3)
    assert not slack.fake.top_level()
    gate.set()
    await slack.fake.until(lambda: len(slack.fake.top_level(CHANNEL)) == 3)


async def test_slack_down_is_retried_until_it_is_back(slack: SlackRig) -> None:
    slack.running.app[SLACK].api.attempts = 2
    slack.fake.fail("chat.postMessage", status=500, times=2, retry_after=None)
    status, body = await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "atendente"})
    assert status == 200 and body["session_mode"] == "paused"
    # The call failed for good (counted), and the outbox tries the event again: one card.
    (card,) = await slack.fake.until(lambda: slack.fake.top_level(CHANNEL))
    assert "aguarda" in card.text
    await slack.settled()
    async with slack.running.request("GET", "/metrics") as resp:
        assert 'handoff_outbound_failures_total{api="slack"} 1.0' in await resp.text()
    await slack.manager.takeover(PHONE, "ana@empresa.com")
    card = await slack.fake.until(lambda: "Assumido por" in card_json(
        slack.fake.messages[(CHANNEL, card.ts)]) and slack.fake.messages[(CHANNEL, card.ts)])
    assert len(slack.fake.top_level(CHANNEL)) == 1
