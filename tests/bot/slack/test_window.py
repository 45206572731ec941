"""The customer's 24-hour window in Slack: on the card, a warning before it closes, and a
reply after it closed is not sent (the holder is told why)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.bot.slack.conftest import ANA, CHANNEL, PHONE, SlackRig, card_json
from tests.fakes.graph import FakeGraph
from tests.fakes.slack import Message

DAY = 24 * 3600


@pytest.fixture
def quick(start: Callable[..., Awaitable[SlackRig]]) -> Callable[..., Awaitable[SlackRig]]:
    """The app with a monitor that looks every 50 ms and alerts at once."""
    async def run(**overrides: object) -> SlackRig:
        return await start(**{"handoff_monitor_interval_seconds": 0.05,
                              "handoff_paused_alert_seconds": 0,
                              "handoff_idle_alert_seconds": 0,
                              "handoff_idle_release_seconds": 0, **overrides})
    return run


def _lines(r: SlackRig, card: Message, start: str) -> list[str]:
    return [m.text for m in r.fake.thread(CHANNEL, card.ts) if m.text.startswith(start)]


async def test_the_card_says_when_the_window_closes_and_warns_once(
        quick: Callable[..., Awaitable[SlackRig]]) -> None:
    r = await quick(handoff_window_warning_seconds=DAY)  # "soon" is now, for the test
    card = await r.taken_by_ana()
    closes = int((await r.session()).last_customer_message or 0) + DAY
    assert f"fecha às <!date^{closes}^" in card_json(r.fake.messages[(CHANNEL, card.ts)])
    (warning,) = await r.fake.until(lambda: _lines(r, card, "⏳"))
    assert warning.startswith(f"⏳ <@{ANA}>, a janela de 24h do cliente {PHONE} fecha às ")
    await asyncio.sleep(0.5)  # ten more ticks of the monitor
    await r.settled()
    assert len(_lines(r, card, "⏳")) == 1


async def test_after_the_window_closed_a_reply_is_not_sent(
        quick: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await quick(handoff_window_warning_seconds=0)
    card = await r.taken_by_ana()
    r.manager.clock = lambda: time.time() + DAY + 60  # a day later, and the customer is silent
    await r.fake.until(lambda: "fechada" in card_json(r.fake.messages[(CHANNEL, card.ts)]))
    (closed,) = await r.fake.until(lambda: _lines(r, card, "🔒"))
    assert PHONE in closed
    status, _ = await r.event({"type": "message", "channel": CHANNEL, "user": ANA,
                               "text": "Oi, ainda está aí?", "ts": "1767225800.000100",
                               "thread_ts": card.ts, "channel_type": "channel"})
    assert status == 200
    hints = await r.fake.until(lambda: [c for c in r.fake.calls["chat.postEphemeral"]
                                        if "janela de 24h" in c.params.get("text", "")])
    assert hints[0].params["user"] == ANA and hints[0].params["thread_ts"] == card.ts
    await r.settled()
    assert graph.sends == []
    status, body = await r.running.json("GET", f"/session/{PHONE}/messages")
    assert [m["sender"] for m in body["messages"]] == ["customer"], "not recorded as sent"
