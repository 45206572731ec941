"""The on-call ladder and the watchdog, run by the monitor inside the service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.settings import Settings
from bot.whatsapp import texts as wa_texts
from handoff.events import DomainEvent, PageDue, ReminderDue
from tests.conftest import Running
from tests.fakes.relay import FakeRelay
from tests.outbox_reader import events_in
from tests.wait import eventually

PHONE = "5531999999999"
Serve = Callable[..., Awaitable[Running]]

FAST = {"handoff_paused_alert_seconds": 0.5, "handoff_monitor_interval_seconds": 0.05,
        "handoff_idle_alert_seconds": 0.5, "handoff_idle_release_seconds": 1.2,
        "slack_oncall": "S0ONCALL", "slack_supervisors": ["U0BOSS1", "U0BOSS2"]}


@pytest.fixture
def fast(make_settings: Callable[..., Settings], relay: FakeRelay) -> Callable[..., Settings]:
    """Short thresholds; customers reached through the relay (the only channel set)."""

    def make(**overrides: object) -> Settings:
        return make_settings(**{**FAST, "handoff_outbound_url": relay.url,
                                "handoff_outbound_secret": "segredo", **overrides})

    return make


class Heard:
    """The alerts an app raised, read from its outbox as a consumer group of the test's."""

    def __init__(self, *apps: Running) -> None:
        self.apps = apps
        self.events: list[DomainEvent] = []

    async def read(self) -> list[DomainEvent]:
        self.events += await events_in(self.apps[0].backend.outbox)
        return self.events

    def pages(self) -> list[PageDue]:
        return [e for e in self.events if isinstance(e, PageDue)]

    def reminders(self) -> list[ReminderDue]:
        return [e for e in self.events if isinstance(e, ReminderDue)]


async def listen(*apps: Running) -> Heard:
    await apps[0].backend.outbox.prepare(["test"])
    return Heard(*apps)


async def _events(r: Running) -> list[str]:
    return [e.event for e in (await r.manager.history(PHONE) or [])]


async def _history_is(r: Running, names: list[str]) -> bool:
    return await _events(r) == names


async def _metrics_with(r: Running, line: str) -> str | None:
    async with r.request("GET", "/metrics") as resp:
        text = await resp.text()
    return text if line in text else None


async def _read_pages(heard: Heard) -> list[PageDue]:
    await heard.read()
    return heard.pages()


async def _read_reminders(heard: Heard) -> list[ReminderDue]:
    await heard.read()
    return heard.reminders()


async def test_ladder_fires_each_step_once_in_order(serve: Serve, fast: Callable[..., Settings],
                                                    relay: FakeRelay) -> None:
    r = await serve(fast())
    heard = await listen(r)
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: len(relay.accepted) == 1)
    await asyncio.sleep(0.3)  # several more ticks: nothing may repeat
    await heard.read()
    assert [(p.step, p.phone) for p in heard.pages()] == [(1, PHONE), (2, PHONE)]
    assert all(p.waited >= 0.5 for p in heard.pages())
    (holding,) = relay.accepted
    assert (holding["phone"], holding["message"]) == (PHONE, Settings().handoff_holding_message)
    assert holding["attendant_id"] is None and holding["session_mode"] == "paused"
    await eventually(lambda: _history_is(r, ["escalation_requested", "page_1", "page_2",
                                             "holding_message"]))
    text = await eventually(lambda: _metrics_with(r, 'handoff_pages_total{step="3"} 1.0'))
    assert 'handoff_pages_total{step="1"} 1.0' in text


async def test_takeover_stops_the_ladder(serve: Serve, fast: Callable[..., Settings],
                                         relay: FakeRelay) -> None:
    r = await serve(fast(handoff_idle_release_seconds=0))
    heard = await listen(r)
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: _read_pages(heard))
    await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    await asyncio.sleep(1.5)  # past steps 2 and 3 of the old ladder
    await heard.read()
    assert [p.step for p in heard.pages()] == [1]
    assert relay.received == []


async def test_watchdog_reminds_then_releases(serve: Serve, fast: Callable[..., Settings],
                                              relay: FakeRelay) -> None:
    r = await serve(fast(handoff_paused_alert_seconds=0))
    heard = await listen(r)
    await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana@empresa.com"})
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi?"})
    await eventually(lambda: _read_reminders(heard))
    assert heard.reminders()[0].attendant == "ana@empresa.com"
    (told,) = await eventually(lambda: relay.accepted)
    assert (told["phone"], told["message"]) == (PHONE, wa_texts.AUTO_RELEASE_CUSTOMER)
    session = await r.manager.get(PHONE)
    assert session is not None and session.mode.value == "agent"
    await heard.read()
    assert len(heard.reminders()) == 1
    assert await _events(r) == ["takeover", "reminder", "auto_release"]
    history = (await r.json("GET", f"/session/{PHONE}/history"))[1]["events"]
    assert history[-1]["source"] == "monitor"


async def test_an_answer_resets_the_watchdog(serve: Serve,
                                             fast: Callable[..., Settings]) -> None:
    r = await serve(fast(handoff_paused_alert_seconds=0, handoff_idle_release_seconds=0))
    heard = await listen(r)
    await r.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi?"})
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "Oi!",
                                                    "sender_type": "human",
                                                    "attendant_id": "ana"})
    await asyncio.sleep(1.0)
    await heard.read()
    assert heard.reminders() == []


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_two_processes_page_once(serve: Serve, fast: Callable[..., Settings],
                                       relay: FakeRelay, store_kind: str) -> None:
    apps = [await serve(fast()) for _ in range(2)]
    heard = await listen(*apps)
    await apps[0].json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: len(relay.accepted) == 1)
    await asyncio.sleep(1.0)
    await heard.read()
    assert [p.step for p in heard.pages()] == [1, 2]
    assert len(relay.accepted) == 1, "the holding message went out once"


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_restart_mid_ladder_neither_repeats_nor_skips(
        serve: Serve, fast: Callable[..., Settings], relay: FakeRelay, store_kind: str) -> None:
    settings = fast(handoff_paused_alert_seconds=0.6)
    first = await serve(settings)
    heard = await listen(first)
    await first.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await eventually(lambda: _read_pages(heard))
    await first.stop()  # the process stops after page 1
    second = await serve(settings)
    await eventually(lambda: relay.accepted)
    await heard.read()
    assert [p.step for p in heard.pages()] == [1, 2]
    await eventually(lambda: _history_is(second, ["escalation_requested", "page_1", "page_2",
                                                  "holding_message"]))
