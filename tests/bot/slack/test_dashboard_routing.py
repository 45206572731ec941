"""The dashboard with fair offers on: each waiting customer's place, the offer in progress
and to whom, and the team's load against the limit with Slack's presence — from `GET /queue`,
through the live app and headless Chromium (see `tests/bot/test_dashboard.py`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.slack.cards import TAKE
from handoff.model import Mode
from tests.bot.slack.conftest import ANA, BRUNO, CARLA, SlackRig
from tests.bot.test_dashboard import chromium, needs_chromium
from tests.conftest import Running
from tests.fakes.slack import FakeSlack, Message
from tests.wait import eventually

TEAM = "S0EQUIPE"
HELD = "5531988887777"
PHONES = ["5531900000001", "5531900000002", "5531900000003"]


def _dms(fake: FakeSlack, user: str) -> list[Message]:
    channel = "D" + user.removeprefix("U")
    return [m for (c, _), m in sorted(fake.messages.items()) if c == channel]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def _held_by(rig: SlackRig, phone: str, who: str) -> bool:
    s = await rig.manager.get(phone)
    return s is not None and s.mode is Mode.HUMAN and s.human_attendant == who


@needs_chromium
async def test_the_page_shows_places_the_offer_and_the_teams_load(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack, browser: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    # Ana, Bruno and Carla in the team; Carla away. One conversation each, at most.
    fake_slack.groups[TEAM] = [ANA, BRUNO, CARLA]
    fake_slack.active |= {ANA, BRUNO}
    rig = SlackRig(await serve(slack_settings(
        handoff_assignment="offer", slack_attendants=TEAM, handoff_max_conversations=1,
        handoff_offer_seconds=300)), fake_slack)
    await fake_slack.wait_for("auth.test")
    card = await rig.escalate(HELD)
    await rig.click(card, TAKE, user=ANA, value=HELD)
    await eventually(lambda: _held_by(rig, HELD, "ana@empresa.com"))
    await rig.settled()
    # Three wait: the first is offered to Bruno; Ana is full and Carla away, so no more offers.
    for phone in PHONES:
        await rig.escalate(phone)
    await fake_slack.until(lambda: _dms(fake_slack, BRUNO), what="Bruno's offer")

    ctx = await browser.new_context(viewport={"width": 1240, "height": 640}, locale="pt-BR")
    page = await ctx.new_page()
    await page.goto(f"{rig.running.url}/dashboard?attendant=ana@empresa.com")

    rows = [page.locator(f'li.card[data-phone="{phone}"]') for phone in PHONES]
    for row, n in zip(rows, ("1º", "2º", "3º"), strict=True):
        await expect(row.locator(".route .place")).to_have_text(f"{n} da fila")
    offer = rows[0].locator(".route .offer")
    await expect(offer).to_contain_text("Oferecida a bruno@empresa.com · expira em ")
    await expect(offer.locator(".expires")).to_have_text(re.compile(r"expira em (\d+ min|\d+ s)"))
    for row in rows[1:]:
        await expect(row.locator(".route .offer")).to_have_count(0)
    await expect(page.locator(f'li.card[data-phone="{HELD}"] .route')).to_have_count(0)

    team = page.get_by_role("region", name="Equipe")
    members = team.get_by_role("listitem")
    await expect(members).to_have_count(3)
    await expect(members.nth(0)).to_contain_text("ana@empresa.com — 1/1")
    await expect(members.nth(0).locator(".presence")).to_have_text("no Slack")
    await expect(members.nth(0).locator(".tag")).to_have_text("você")
    await expect(members.nth(1)).to_contain_text("bruno@empresa.com — 0/1 (+1 oferecida)")
    await expect(members.nth(1).locator(".presence")).to_have_text("no Slack")
    await expect(members.nth(2)).to_contain_text("carla@empresa.com — 0/1")
    await expect(members.nth(2).locator(".presence")).to_have_text("ausente")
    # At the limit (held plus offered) stands out.
    assert await members.evaluate_all("ms => ms.map(m => m.classList.contains('full'))") == [
        True, True, False]
    await page.screenshot(path=str(tmp_path / "dashboard-routing.png"))


@needs_chromium
async def test_a_silent_holders_conversation_shows_its_offer(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack, browser: Any) -> None:
    from playwright.async_api import expect

    fake_slack.groups[TEAM] = [ANA, BRUNO]
    fake_slack.active |= {ANA, BRUNO}
    rig = SlackRig(await serve(slack_settings(
        handoff_assignment="offer", slack_attendants=TEAM, handoff_offer_seconds=300,
        handoff_idle_release_seconds=1.0, handoff_idle_alert_seconds=0,
        handoff_monitor_interval_seconds=0.2)), fake_slack)
    await fake_slack.wait_for("auth.test")
    card = await rig.escalate(HELD)
    await rig.click(card, TAKE, user=ANA, value=HELD)
    await eventually(lambda: _held_by(rig, HELD, "ana@empresa.com"))
    await fake_slack.until(lambda: [m for m in _dms(fake_slack, BRUNO)
                                    if "sem resposta" in m.text], what="Bruno's offer")
    status, body = await rig.running.json("GET", "/queue")
    assert status == 200 and body["waiting"] == []
    (offer,) = body["offers"]
    assert (offer["phone"], offer["attendant"], offer["reason"], offer["holder"]) == (
        HELD, "bruno@empresa.com", "silent", "ana@empresa.com")

    ctx = await browser.new_context(viewport={"width": 1240, "height": 640}, locale="pt-BR")
    page = await ctx.new_page()
    await page.goto(f"{rig.running.url}/dashboard?attendant=ana@empresa.com")
    row = page.locator(f'li.card[data-phone="{HELD}"]')
    await expect(row.locator(".route .offer")).to_contain_text(
        "Sem resposta do atendente: oferecida a bruno@empresa.com")
    await expect(row.locator(".route .place")).to_have_count(0)
