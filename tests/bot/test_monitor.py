"""The on-call ladder and the watchdog, run by the monitor inside the service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.monitor import MONITOR
from bot.settings import Settings
from handoff.manager import Notice
from tests.conftest import Running
from tests.wait import eventually

PHONE = "5531999999999"
Serve = Callable[..., Awaitable[Running]]

FAST = {"handoff_paused_alert_seconds": 0.5, "handoff_monitor_interval_seconds": 0.05,
        "handoff_idle_alert_seconds": 0.5, "handoff_idle_release_seconds": 1.2,
        "slack_oncall": "S0ONCALL", "slack_supervisors": ["U0BOSS1", "U0BOSS2"]}


def listen(r: Running) -> list[Notice]:
    heard: list[Notice] = []
    r.manager.subscribe_notices(heard.append)
    return heard


def customer_sender(r: Running) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    async def send(phone: str, text: str) -> bool:
        sent.append((phone, text))
        return True

    r.app[MONITOR].send_customer = send
    return sent


async def _events(r: Running) -> list[str]:
    return [e.event for e in (await r.manager.history(PHONE) or [])]


async def test_ladder_fires_each_step_once_in_order(serve: Serve,
                                                    make_settings: Callable[..., Settings]) -> None:
    r = await serve(make_settings(**FAST))
    heard, sent = listen(r), customer_sender(r)
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: len(sent) == 1)
    await asyncio.sleep(0.3)  # several more ticks: nothing may repeat
    pages = [n for n in heard if n.kind == "page"]
    assert [n.detail["step"] for n in pages] == [1, 2]
    assert "<!subteam^S0ONCALL>" in pages[0].text and "<@U0BOSS1>" not in pages[0].text
    assert "<!subteam^S0ONCALL>" in pages[1].text
    assert "<@U0BOSS1> <@U0BOSS2>" in pages[1].text
    assert all(n.detail["broadcast"] for n in pages)
    assert sent == [(PHONE, Settings().handoff_holding_message)]
    assert await _events(r) == ["escalation_requested", "page_1", "page_2", "holding_message"]
    async with r.request("GET", "/metrics") as resp:
        text = await resp.text()
    assert 'handoff_pages_total{step="1"} 1.0' in text
    assert 'handoff_pages_total{step="3"} 1.0' in text


async def test_takeover_stops_the_ladder(serve: Serve,
                                         make_settings: Callable[..., Settings]) -> None:
    r = await serve(make_settings(**{**FAST, "handoff_idle_release_seconds": 0}))
    heard, sent = listen(r), customer_sender(r)
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: any(n.kind == "page" for n in heard))
    await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    await asyncio.sleep(1.5)  # past steps 2 and 3 of the old ladder
    assert [n.detail.get("step") for n in heard if n.kind == "page"] == [1]
    assert sent == []


async def test_watchdog_reminds_then_releases(serve: Serve,
                                              make_settings: Callable[..., Settings]) -> None:
    r = await serve(make_settings(**{**FAST, "handoff_paused_alert_seconds": 0}))
    heard, sent = listen(r), customer_sender(r)
    await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana@empresa.com"})
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi?"})
    reminders = await eventually(lambda: [n for n in heard if n.kind == "reminder"])
    assert reminders[0].detail["attendant"] == "ana@empresa.com"
    assert PHONE in reminders[0].text
    await eventually(lambda: sent)
    session = await r.manager.get(PHONE)
    assert session is not None and session.mode.value == "agent"
    assert len([n for n in heard if n.kind == "reminder"]) == 1
    assert await _events(r) == ["takeover", "reminder", "auto_release"]
    history = (await r.json("GET", f"/session/{PHONE}/history"))[1]["events"]
    assert history[-1]["source"] == "monitor"


async def test_an_answer_resets_the_watchdog(serve: Serve,
                                             make_settings: Callable[..., Settings]) -> None:
    r = await serve(make_settings(**{**FAST, "handoff_paused_alert_seconds": 0,
                                     "handoff_idle_release_seconds": 0}))
    heard = listen(r)
    await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi?"})
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "Oi!",
                                                    "sender_type": "human",
                                                    "attendant_id": "ana"})
    await asyncio.sleep(1.0)
    assert [n for n in heard if n.kind == "reminder"] == []


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_two_processes_page_once(serve: Serve, make_settings: Callable[..., Settings],
                                       store_kind: str) -> None:
    apps = [await serve(make_settings(**FAST)) for _ in range(2)]
    heard: list[Notice] = []
    for a in apps:
        a.manager.subscribe_notices(heard.append)
        customer_sender(a)
    await apps[0].json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: len([n for n in heard if n.kind == "page"]) >= 2)
    await asyncio.sleep(1.0)
    assert [n.detail["step"] for n in heard if n.kind == "page"] == [1, 2]


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_restart_mid_ladder_neither_repeats_nor_skips(
        serve: Serve, make_settings: Callable[..., Settings], store_kind: str) -> None:
    settings = make_settings(**{**FAST, "handoff_paused_alert_seconds": 0.6})
    first = await serve(settings)
    heard = listen(first)
    await first.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: heard)
    await first.stop()  # the process stops after page 1
    second = await serve(settings)
    heard_after, sent = listen(second), customer_sender(second)
    await eventually(lambda: sent)
    assert [n.detail["step"] for n in heard] == [1]
    assert [n.detail["step"] for n in heard_after if n.kind == "page"] == [2]
    assert await _events(second) == ["escalation_requested", "page_1", "page_2",
                                     "holding_message"]
