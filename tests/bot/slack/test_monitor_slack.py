"""The monitor end to end: pages and reminders in Slack, holding and hand-back messages through
the Cloud API, against the recording Slack and Graph API servers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.settings import Settings
from bot.whatsapp import texts as wa_texts
from tests.bot.slack.conftest import ANA, CHANNEL, PHONE, SlackRig
from tests.conftest import Running
from tests.fakes.graph import FakeGraph
from tests.fakes.slack import FakeSlack
from tests.wait import eventually

FAST = {"handoff_paused_alert_seconds": 0.5, "handoff_monitor_interval_seconds": 0.05,
        "handoff_idle_alert_seconds": 0.5, "handoff_idle_release_seconds": 1.2,
        "slack_oncall": "S0ONCALL", "whatsapp_access_token": "EAAG-token",
        "whatsapp_phone_number_id": "770000000000002"}


@pytest.fixture
async def rig(serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
              fake_slack: FakeSlack, graph: FakeGraph) -> Callable[..., Awaitable[SlackRig]]:
    async def start(**overrides: object) -> SlackRig:
        settings = slack_settings(**{**FAST, "whatsapp_api_url": graph.url, **overrides})
        r = SlackRig(await serve(settings), fake_slack)
        await fake_slack.wait_for("auth.test")
        return r
    return start


async def test_ladder_in_slack_and_whatsapp(rig: Callable[..., Awaitable[SlackRig]],
                                            fake_slack: FakeSlack, graph: FakeGraph) -> None:
    r = await rig(handoff_idle_release_seconds=0)
    card = await r.escalate()
    await graph.wait_sends(1)
    await asyncio.sleep(0.3)
    thread = fake_slack.thread(CHANNEL, card.ts)
    pages = [m for m in thread if m.reply_broadcast]
    assert len(pages) == 2, [m.text for m in thread]
    assert all("<!subteam^S0ONCALL>" in m.text for m in pages)
    assert "<@U0CARLA>" in pages[1].text and "<@U0CARLA>" not in pages[0].text
    assert [s.text for s in graph.sends] == [Settings().handoff_holding_message]
    assert graph.sends[0].to == PHONE
    assert len(fake_slack.top_level(CHANNEL)) == 1, "pages go in the card's thread"


async def test_takeover_in_slack_stops_the_ladder(rig: Callable[..., Awaitable[SlackRig]],
                                                  fake_slack: FakeSlack,
                                                  graph: FakeGraph) -> None:
    r = await rig(handoff_paused_alert_seconds=0.4, handoff_idle_release_seconds=0,
                  handoff_idle_alert_seconds=0)
    card = await r.escalate()
    await fake_slack.until(lambda: any(m.reply_broadcast
                                       for m in fake_slack.thread(CHANNEL, card.ts)))
    status, _ = await r.take(card, ANA)
    assert status == 200
    await eventually(lambda: _mode_is(r, "human"))
    await asyncio.sleep(1.5)
    pages = [m for m in fake_slack.thread(CHANNEL, card.ts) if m.reply_broadcast]
    assert len(pages) == 1
    assert graph.sends == []


async def test_reminder_then_auto_release(rig: Callable[..., Awaitable[SlackRig]],
                                          fake_slack: FakeSlack, graph: FakeGraph) -> None:
    r = await rig(handoff_paused_alert_seconds=0)
    card = await r.escalate()
    assert (await r.take(card, ANA))[0] == 200
    await eventually(lambda: _mode_is(r, "human"))
    await r.running.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi?"})
    ephemeral = await fake_slack.wait_for("chat.postEphemeral")
    reminder = [c for c in ephemeral if c.params.get("user") == ANA
                and PHONE in str(c.params.get("text"))]
    assert reminder and reminder[0].params["thread_ts"] == card.ts
    sends = await graph.wait_sends(1)
    assert sends[-1].text == wa_texts.AUTO_RELEASE_CUSTOMER
    session = await r.session()
    assert session.mode.value == "agent"
    await r.settled()
    updated = fake_slack.messages[(CHANNEL, card.ts)]
    assert "inatividade" in updated.text or "inatividade" in str(updated.blocks)
    assert any("inatividade" in m.text for m in fake_slack.thread(CHANNEL, card.ts))


async def _mode_is(r: SlackRig, mode: str) -> bool:
    session = await r.manager.get(PHONE)
    return session is not None and session.mode.value == mode
