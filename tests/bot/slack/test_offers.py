"""Fair offers through the live app: the direct message with Aceitar and Recusar, moving on
after a timeout or a Recusar, Aceitar as a takeover shown on the card, and the metric."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.slack.cards import TAKE
from bot.slack.offers import ACCEPT, DECLINE
from handoff.model import Mode
from tests.bot.slack.conftest import ANA, BRUNO, CARLA, CHANNEL, PHONE, SlackRig, card_json
from tests.conftest import Running
from tests.fakes.slack import FakeSlack, Message, action_payload, form_payload
from tests.wait import eventually

TEAM = "S0EQUIPE"


async def _rig(serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
               fake_slack: FakeSlack, **overrides: Any) -> SlackRig:
    fake_slack.groups[TEAM] = [ANA, BRUNO, CARLA]
    fake_slack.active |= {ANA, BRUNO}
    settings = slack_settings(handoff_assignment="offer", slack_attendants=TEAM, **overrides)
    rig = SlackRig(await serve(settings), fake_slack)
    await fake_slack.wait_for("auth.test")
    return rig


def _dms(fake: FakeSlack, user: str) -> list[Message]:
    channel = "D" + user.removeprefix("U")
    return [m for (c, _), m in sorted(fake.messages.items()) if c == channel]


def _buttons(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions"
            for e in b["elements"]]


def _value(dm: Message) -> str:
    return str(next(e["value"] for b in dm.blocks if b["type"] == "actions"
                    for e in b["elements"]))


async def _answer(rig: SlackRig, dm: Message, action_id: str, user: str,
                  value: str | None = None) -> None:
    value = value or _value(dm)
    payload = action_payload(action_id, value, user=user, channel=dm.channel,
                             message_ts=dm.ts, response_url=rig.fake.response_url())
    status, _ = await rig.signed(form_payload(payload))
    assert status == 200


async def _ana_holds_one(rig: SlackRig) -> None:
    card = await rig.escalate("5531988887777")
    await rig.click(card, TAKE, user=ANA, value="5531988887777")
    await eventually(lambda: _held_by(rig, "5531988887777", "ana@empresa.com"))
    await rig.settled()


async def _held_by(rig: SlackRig, phone: str, who: str) -> bool:
    s = await rig.manager.get(phone)
    return s is not None and s.mode is Mode.HUMAN and s.human_attendant == who


async def test_offered_to_the_right_one_recusar_moves_on_aceitar_takes_it(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    rig = await _rig(serve, slack_settings, fake_slack)
    await _ana_holds_one(rig)
    fake_slack.messages.clear()
    card = await rig.escalate()
    # Carla is away, Ana holds one: Bruno (holding none) is offered it.
    (dm,) = await fake_slack.until(lambda: _dms(fake_slack, BRUNO), what="Bruno's offer")
    assert _buttons(dm) == [ACCEPT, DECLINE]
    assert "está esperando atendimento" in dm.text and "Você pode assumir?" in dm.text
    assert not _dms(fake_slack, ANA) and not _dms(fake_slack, CARLA)
    line = await fake_slack.until(lambda: [m.text for m in fake_slack.thread(CHANNEL, card.ts)
                                           if m.text.startswith("📨")])
    assert f"Oferecida a <@{BRUNO}>" in line[0]

    await _answer(rig, dm, DECLINE, BRUNO)
    (offer,) = await fake_slack.until(lambda: _dms(fake_slack, ANA), what="Ana's offer")
    await fake_slack.until(lambda: "recusou" in fake_slack.messages[(dm.channel, dm.ts)].text)
    assert _buttons(fake_slack.messages[(dm.channel, dm.ts)]) == []

    await _answer(rig, offer, ACCEPT, ANA)
    await eventually(lambda: _held_by(rig, PHONE, "ana@empresa.com"))
    await fake_slack.until(lambda: f"Assumido por <@{ANA}>" in card_json(
        fake_slack.messages[(CHANNEL, card.ts)]), what="the card shows Ana")
    await fake_slack.until(lambda: "aceitou" in fake_slack.messages[
        (offer.channel, offer.ts)].text)
    await rig.settled()
    history = [(e.event, e.actor, e.source) for e in await rig.manager.history(PHONE)]
    assert history[-1] == ("takeover", "ana@empresa.com", "slack")
    async with rig.running.request("GET", "/metrics") as resp:
        text = await resp.text()
    assert 'handoff_offers_total{outcome="declined"} 1.0' in text
    assert 'handoff_offers_total{outcome="accepted"} 1.0' in text


async def test_a_timeout_moves_the_offer_on_and_a_late_click_is_told(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    rig = await _rig(serve, slack_settings, fake_slack, handoff_offer_seconds=1.0)
    await rig.escalate()
    (first,) = await fake_slack.until(lambda: _dms(fake_slack, ANA), what="the first offer")
    value = _value(first)  # the message is redrawn without its buttons when the offer ends
    (second,) = await fake_slack.until(lambda: _dms(fake_slack, BRUNO), within=15,
                                       what="the offer after the timeout")
    await fake_slack.until(lambda: "expirou" in fake_slack.messages[
        (first.channel, first.ts)].text)
    before = len(fake_slack.responses)
    await _answer(rig, first, ACCEPT, ANA, value)
    await fake_slack.until(lambda: len(fake_slack.responses) > before, what="the answer")
    told = [r["text"] for rs in fake_slack.responses.values() for r in rs]
    assert any("não está mais valendo" in t for t in told)
    session = await rig.session()
    assert session.mode is Mode.PAUSED
    assert second.blocks


async def test_nobody_present_leaves_the_card_and_the_ladder(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    rig = await _rig(serve, slack_settings, fake_slack)
    fake_slack.active.clear()
    card = await rig.escalate()
    await fake_slack.until(lambda: fake_slack.calls.get("users.getPresence"),
                           what="presence asked")
    await rig.settled()
    assert not any(c.startswith("D") for c, _ in fake_slack.messages)
    assert await rig.take(card, CARLA) == (200, "")
    await eventually(lambda: _held_by(rig, PHONE, "carla@empresa.com"))


async def test_status_and_the_queue_show_places_offers_and_loads(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    rig = await _rig(serve, slack_settings, fake_slack, handoff_max_conversations=1)
    await _ana_holds_one(rig)
    phones = ["5531900000001", "5531900000002", "5531900000003"]
    for phone in phones:
        await rig.escalate(phone)
    await fake_slack.until(lambda: _dms(fake_slack, BRUNO), what="Bruno's offer")
    status, body = await rig.running.json("GET", "/queue")
    assert status == 200
    assert [(w["phone"], w["place"]) for w in body["waiting"]] == [
        (phones[0], 1), (phones[1], 2), (phones[2], 3)]
    offer = body["waiting"][0]["offer"]
    assert offer["attendant"] == "bruno@empresa.com" and offer["reason"] == "waiting"
    assert [w["offer"] for w in body["waiting"][1:]] == [None, None]  # everyone is at the limit
    team = {a["attendant"]: a for a in body["attendants"]}
    assert team["ana@empresa.com"] == {"attendant": "ana@empresa.com", "holding": 1,
                                       "offered": 0, "present": True}
    assert team["bruno@empresa.com"]["offered"] == 1
    assert team["carla@empresa.com"]["present"] is False
    assert body["assignment"] == "offer" and body["max_conversations"] == 1
    assert body["open"] is True and body["opens_at"] is None

    code, _ack, key = await rig.command("/status")
    assert code == 200
    answer = await rig.answer(key)
    assert "1º da fila" in answer and "3º da fila" in answer
    assert "Oferecida a bruno@empresa.com" in answer
    assert "👥 Carga: ana@empresa.com 1, bruno@empresa.com 0 (+1 oferecida)" in answer


async def test_a_silent_holder_is_offered_on_before_the_bot_takes_it_back(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    rig = await _rig(serve, slack_settings, fake_slack, handoff_idle_release_seconds=2.0,
                     handoff_idle_alert_seconds=0, handoff_monitor_interval_seconds=0.2)
    card = await rig.escalate()
    await rig.take(card, ANA)
    await eventually(lambda: _held_by(rig, PHONE, "ana@empresa.com"))
    dm = await fake_slack.until(
        lambda: [m for m in _dms(fake_slack, BRUNO) if "sem resposta" in m.text],
        what="the offer of Ana's silent conversation")
    assert f"sem resposta de <@{ANA}>" in dm[0].text
    assert (await rig.session()).human_attendant == "ana@empresa.com"  # not released yet
    await _answer(rig, dm[0], ACCEPT, BRUNO)
    await eventually(lambda: _held_by(rig, PHONE, "bruno@empresa.com"))
    line = await fake_slack.until(lambda: [m.text for m in fake_slack.thread(CHANNEL, card.ts)
                                           if "sem resposta de" in m.text])
    assert line[0].startswith(f"🔁 <@{BRUNO}> aceitou às ")
    history = [(e.event, e.actor, e.to) for e in await rig.manager.history(PHONE)]
    assert ("transfer", "ana@empresa.com", "bruno@empresa.com") in history


async def test_a_silent_holder_with_nobody_else_goes_back_to_the_bot(
        serve: Callable[..., Awaitable[Running]], slack_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    rig = await _rig(serve, slack_settings, fake_slack, handoff_idle_release_seconds=1.0,
                     handoff_idle_alert_seconds=0, handoff_monitor_interval_seconds=0.2,
                     handoff_offer_seconds=1.0)
    card = await rig.escalate()
    await rig.take(card, ANA)
    await eventually(lambda: _held_by(rig, PHONE, "ana@empresa.com"))
    await fake_slack.until(lambda: [m for m in _dms(fake_slack, BRUNO)
                                    if "sem resposta" in m.text], what="Bruno's offer")
    await eventually(lambda: _mode(rig, Mode.AGENT), within=15)
    history = [e.event for e in await rig.manager.history(PHONE)]
    assert history[-1] == "auto_release"


async def _mode(rig: SlackRig, mode: Mode) -> bool:
    return (await rig.session()).mode is mode


def test_offers_without_a_team_stop_the_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HANDOFF_", "REDIS_", "SLACK_"))}
    env["HANDOFF_ASSIGNMENT"] = "offer"
    done = subprocess.run([sys.executable, "-m", "bot", "--port", "0"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("Configuração inválida: HANDOFF_ASSIGNMENT=offer precisa do "
                                  "Slack"), done.stderr
    assert "SLACK_ATTENDANTS" in done.stderr and "Traceback" not in done.stderr
