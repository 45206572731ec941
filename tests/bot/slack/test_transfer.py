"""Transfer in Slack: the card's picker, `/transferir`, and a REST transfer shown on the card,
with the thread line and the new holder's direct message; refusals in pt-BR."""

from __future__ import annotations

from typing import Any

from tests.bot.slack.conftest import (
    ANA,
    BRUNO,
    CARLA,
    CHANNEL,
    PHONE,
    SlackRig,
    card_json,
)
from tests.fakes.slack import Message, action_payload, form_payload
from tests.wait import eventually

ROBO = "U0ROBO"


def _pick(card: Message, user: str, picked: str, slack: SlackRig) -> bytes:
    payload: dict[str, Any] = action_payload(
        "handoff_transferir", "", user=user, channel=card.channel, message_ts=card.ts,
        response_url=slack.fake.response_url())
    action = payload["actions"][0]
    del action["value"]
    action.update(type="users_select", selected_user=picked)
    return form_payload(payload)


async def _holder(slack: SlackRig) -> str | None:
    return (await slack.session()).human_attendant


def _dms(slack: SlackRig, user: str) -> list[str]:
    return [c.params["text"] for c in slack.fake.calls["chat.postMessage"]
            if c.params.get("channel") == user]


async def test_the_cards_picker_passes_it_on(slack: SlackRig) -> None:
    card = await slack.taken_by_ana()
    status, _ = await slack.signed(_pick(card, ANA, BRUNO, slack))
    assert status == 200
    await eventually(lambda: _is_held_by(slack, "bruno@empresa.com"))
    shown = await slack.fake.until(lambda: f"Assumido por <@{BRUNO}>" in card_json(
        slack.fake.messages[(CHANNEL, card.ts)]) and slack.fake.messages[(CHANNEL, card.ts)])
    assert "handoff_transferir" in card_json(shown)
    line = await slack.fake.until(lambda: [m.text for m in slack.fake.thread(CHANNEL, card.ts)
                                           if m.text.startswith("🔁")])
    assert line[0].startswith(f"🔁 <@{ANA}> passou a conversa para <@{BRUNO}> às ")
    (dm,) = await slack.fake.until(lambda: _dms(slack, BRUNO))
    assert dm.startswith(f"🔁 <@{ANA}> passou para você a conversa com o cliente {PHONE}.")
    assert f"/archives/{CHANNEL}/p" in dm, "a link to the card's thread"
    await slack.settled()
    history = [(e.event, e.actor, e.to) for e in await slack.manager.history(PHONE)]
    assert history[-1] == ("transfer", "ana@empresa.com", "bruno@empresa.com")


async def test_the_command_takes_a_mention(slack: SlackRig) -> None:
    await slack.taken_by_ana()
    status, _ack, key = await slack.command("/transferir", f"{PHONE} <@{BRUNO}|bruno>")
    assert status == 200
    await eventually(lambda: _is_held_by(slack, "bruno@empresa.com"))
    assert "transferida" in await slack.answer(key)


async def test_refusals_change_nothing(slack: SlackRig) -> None:
    card = await slack.taken_by_ana()
    slack.fake.users[ROBO] = None
    slack.fake.bots.add(ROBO)
    cases = [
        (BRUNO, f"{PHONE} <@{CARLA}>", "Só <@U0ANA> (ou um supervisor) pode transferir"),
        (ANA, f"{PHONE} <@{ROBO}|robo>", "é um bot"),
        (ANA, f"{PHONE} <@U0NINGUEM>", "não é uma pessoa deste workspace"),
        (ANA, f"{PHONE} <@{ANA}>", "Escolha outra pessoa"),
        (ANA, "<@U0BRUNO>", "Uso: /transferir"),
        (ANA, f"{PHONE} bruno", "Uso: /transferir"),
    ]
    for user, text, said in cases:
        _, _, key = await slack.command("/transferir", text, user=user)
        assert said in await slack.answer(key), text
    assert await _holder(slack) == "ana@empresa.com"
    status, _ = await slack.signed(_pick(card, ANA, ROBO, slack))
    assert status == 200
    await slack.fake.until(lambda: any("é um bot" in c.params.get("text", "")
                                       for c in slack.fake.calls["chat.postEphemeral"]))
    assert await _holder(slack) == "ana@empresa.com"


async def test_a_supervisor_may_and_rest_shows_on_the_card(slack: SlackRig) -> None:
    card = await slack.taken_by_ana()
    _, _, key = await slack.command("/transferir", f"{PHONE} <@{BRUNO}>", user=CARLA)
    assert "transferida" in await slack.answer(key)
    await eventually(lambda: _is_held_by(slack, "bruno@empresa.com"))
    status, body = await slack.running.json(
        "POST", f"/session/{PHONE}/transfer",
        json={"to": "ana@empresa.com", "from": "bruno@empresa.com"})
    assert status == 200, body
    await slack.fake.until(lambda: f"Assumido por <@{ANA}>" in card_json(
        slack.fake.messages[(CHANNEL, card.ts)]))
    await slack.settled()
    moves = [m.text for m in slack.fake.thread(CHANNEL, card.ts) if m.text.startswith("🔁")]
    assert len(moves) == 2 and f"para <@{ANA}>" in moves[1]


async def _is_held_by(slack: SlackRig, attendant: str) -> bool:
    return await _holder(slack) == attendant


async def test_a_failed_direct_message_is_retried_without_repeating_the_thread_line(
        slack: SlackRig) -> None:
    card = await slack.taken_by_ana()
    # More failures than one Slack call retries: the outbox tries the target again.
    slack.fake.fail("chat.postMessage", status=429, retry_after=0, times=8,
                    when=lambda p: p.get("channel") == BRUNO)
    assert (await slack.signed(_pick(card, ANA, BRUNO, slack)))[0] == 200
    (dm,) = await slack.fake.until(lambda: _dms(slack, BRUNO), what="the DM after retries")
    assert "passou para você" in dm
    await slack.settled()
    thread = [m.text for m in slack.fake.thread(CHANNEL, card.ts) if m.text.startswith("🔁")]
    assert len(thread) == 1, "the thread line once"
    assert len(_dms(slack, BRUNO)) == 1
    failed = [c for c in slack.fake.requests if c.method == "chat.postMessage"
              and c.params.get("channel") == BRUNO and c.status == 429]
    assert len(failed) == 8
