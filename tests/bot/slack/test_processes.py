"""Two processes sharing Redis: one card per episode, whichever process makes the changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.settings import Settings
from handoff.model import Mode
from tests.bot.slack.conftest import ANA, CHANNEL, PHONE, SlackRig, card_json
from tests.conftest import Running
from tests.fakes.slack import FakeSlack


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_changes_in_two_processes_share_one_card(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    first = SlackRig(await serve(slack_settings()), fake_slack)
    second = SlackRig(await serve(slack_settings()), fake_slack)
    gate = fake_slack.hold("chat.postMessage")
    status, _ = await first.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "quero um atendente"})
    assert status == 200
    await fake_slack.until(lambda: fake_slack.waiting("chat.postMessage") == 1)
    # While the first process's card is still on its way, the second takes the customer.
    status, body = await second.running.json(
        "POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana@empresa.com"})
    assert status == 200 and body["session"]["mode"] == Mode.HUMAN.value
    gate.set()
    (card,) = await fake_slack.until(lambda: fake_slack.top_level(CHANNEL))
    await fake_slack.until(lambda: f"Assumido por <@{ANA}>" in card_json(
        fake_slack.messages[(CHANNEL, card.ts)]), what="the card to show the takeover")
    (line,) = await fake_slack.until(lambda: fake_slack.thread(CHANNEL, card.ts))
    assert "Assumido por" in line.text
    await first.settled()
    await second.settled()
    assert len(fake_slack.top_level()) == 1
    assert len(fake_slack.thread(CHANNEL, card.ts)) == 1
