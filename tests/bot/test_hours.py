"""Business hours in the running service: the customer is told when the team is back, the
ladder waits for opening time (unless someone is on call after hours), a bad schedule stops
the start with its reason."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.settings import Settings
from handoff.events import PageDue
from tests.conftest import Running
from tests.fakes.relay import FakeRelay
from tests.outbox_reader import events_in
from tests.wait import eventually

PHONE = "5531999999999"
_DAYS = [("seg", "na segunda-feira"), ("ter", "na terça-feira"), ("qua", "na quarta-feira"),
         ("qui", "na quinta-feira"), ("sex", "na sexta-feira"), ("sab", "no sábado"),
         ("dom", "no domingo")]
#: Open one minute a week, on the day after tomorrow in São Paulo: closed all of today and
#: tomorrow, whenever the tests run; and how the customer is told that day.
_OPEN_DAY = _DAYS[(datetime.now(ZoneInfo("America/Sao_Paulo")).weekday() + 2) % 7]
CLOSED = f"{_OPEN_DAY[0]} 12:00-12:01"


@pytest.fixture
def closed(make_settings: Callable[..., Settings], relay: FakeRelay) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        return make_settings(**{
            "handoff_business_hours": CLOSED, "handoff_outbound_url": relay.url,
            "handoff_outbound_secret": "segredo", "handoff_paused_alert_seconds": 0.2,
            "handoff_monitor_interval_seconds": 0.05, "slack_oncall": "S0ONCALL",
            **overrides})
    return make


async def test_out_of_hours_the_customer_is_told_and_nobody_is_paged(
        serve: Callable[..., Awaitable[Running]], closed: Callable[..., Settings],
        relay: FakeRelay) -> None:
    r = await serve(closed())
    await r.backend.outbox.prepare(["test"])
    status, body = await r.json("POST", "/webhook/whatsapp",
                                json={"phone": PHONE, "message": "quero um atendente"})
    assert status == 200 and body["session_mode"] == "paused"
    (told,) = await eventually(lambda: relay.accepted)
    assert told["phone"] == PHONE
    assert told["message"].startswith("Nossa equipe está fora do horário de atendimento agora. "
                                      "Voltamos ")
    assert f"Voltamos {_OPEN_DAY[1]} às 12:00." in told["message"]
    await asyncio.sleep(0.8)  # four ladder steps' worth: nothing is due before opening
    assert not [e for e in await events_in(r.backend.outbox) if isinstance(e, PageDue)]


async def test_someone_on_call_after_hours_is_paged(
        serve: Callable[..., Awaitable[Running]], closed: Callable[..., Settings]) -> None:
    r = await serve(closed(slack_oncall_after_hours="U0PLANTAO"))
    await r.backend.outbox.prepare(["test"])
    await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    pages = await eventually(lambda: _pages(r))
    assert pages[0].step == 1 and pages[0].after_hours


async def _pages(r: Running) -> list[PageDue]:
    return [e for e in await events_in(r.backend.outbox) if isinstance(e, PageDue)]


def test_a_bad_schedule_stops_the_start() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "REDIS_"))}
    env["HANDOFF_BUSINESS_HOURS"] = "seg-sex 8h-18h"
    done = subprocess.run([sys.executable, "-m", "bot", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Horário de atendimento inválido" in done.stderr
    assert "horário inválido '8h-18h'" in done.stderr
