"""Slash commands: ephemeral pt-BR answers through the core's registry, any text handled."""

from __future__ import annotations

import pytest

from bot import replies
from handoff.model import Mode
from tests.bot.slack.conftest import ANA, BRUNO, DIEGO, PHONE, SUPERVISOR, SlackRig


async def test_assumir_takes_the_conversation_as_the_users_email(slack: SlackRig) -> None:
    status, ack, key = await slack.command("/assumir", PHONE, user=ANA)
    assert (status, ack) == (200, "")
    answer = await slack.answer(key)
    assert answer == replies.TAKEN.format(phone=PHONE, attendant="ana@empresa.com")
    session = await slack.session()
    assert session.mode is Mode.HUMAN and session.human_attendant == "ana@empresa.com"
    history = await slack.manager.history(PHONE)
    assert history[-1].source == "slack"


async def test_assumir_of_someone_elses_names_the_holder(slack: SlackRig) -> None:
    await slack.manager.takeover(PHONE, "ana@empresa.com")
    _, _, key = await slack.command("/assumir", PHONE, user=BRUNO)
    assert "ana@empresa.com" in await slack.answer(key)
    assert (await slack.session()).human_attendant == "ana@empresa.com"


async def test_a_supervisor_may_take_over_someone_elses(slack: SlackRig) -> None:
    await slack.manager.takeover(PHONE, "ana@empresa.com")
    _, _, key = await slack.command("/assumir", PHONE, user=SUPERVISOR)
    assert await slack.answer(key) == replies.TAKEN.format(phone=PHONE,
                                                         attendant="carla@empresa.com")
    assert (await slack.session()).human_attendant == "carla@empresa.com"


async def test_liberar_by_the_holder_and_refused_to_others(slack: SlackRig) -> None:
    await slack.command("/assumir", PHONE, user=ANA)
    await slack.fake.until(lambda: slack.fake.calls["response_url"])
    _, _, key = await slack.command("/liberar", PHONE, user=BRUNO)
    assert await slack.answer(key) == replies.NOT_HOLDER.format(phone=PHONE,
                                                              holder="ana@empresa.com")
    assert (await slack.session()).mode is Mode.HUMAN
    _, _, key = await slack.command("/liberar", PHONE, user=ANA)
    assert await slack.answer(key) == replies.RELEASED.format(phone=PHONE)
    assert (await slack.session()).mode is Mode.AGENT


async def test_liberar_of_an_unknown_phone(slack: SlackRig) -> None:
    _, _, key = await slack.command("/liberar", "5511988887777", user=ANA)
    assert await slack.answer(key) == replies.NOT_FOUND.format(phone="5511988887777")


async def test_status_of_one_phone(slack: SlackRig) -> None:
    await slack.manager.takeover(PHONE, "ana@empresa.com")
    _, _, key = await slack.command("/status", PHONE, user=BRUNO)
    answer = await slack.answer(key)
    assert PHONE in answer and "ana@empresa.com" in answer and replies.MODE_NAME["human"] in answer


async def test_status_alone_lists_active_sessions_by_mode(slack: SlackRig) -> None:
    _, _, key = await slack.command("/status", user=ANA)
    assert await slack.answer(key) == replies.STATUS_NONE
    await slack.manager.takeover("5511911112222", "ana@empresa.com")
    await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "quero falar com um atendente"})
    _, _, key = await slack.command("/status", "", user=ANA)
    lines = (await slack.answer(key)).splitlines()
    assert lines[0] == replies.STATUS_TOTAL.format(count=2)
    waiting = next(i for i, line in enumerate(lines) if PHONE in line)
    held = next(i for i, line in enumerate(lines) if "5511911112222" in line)
    assert waiting < held, "waiting customers first"
    assert "Aguardando há" in lines[waiting + 1]
    assert "ana@empresa.com" in lines[held + 1]


@pytest.mark.parametrize("command,text", [
    ("/assumir", ""), ("/assumir", "abc"), ("/liberar", "   "), ("/liberar", "123"),
    ("/status", "não-é-telefone"), ("/assumir", "5531999999999999999999"),
])
async def test_missing_or_malformed_phone_gets_the_usage_line(slack: SlackRig, command: str,
                                                               text: str) -> None:
    _, _, key = await slack.command(command, text, user=ANA)
    answer = await slack.answer(key)
    assert answer.startswith(replies.USAGE.format(usage=command)), answer
    assert await slack.manager.list_active() == []


@pytest.mark.parametrize("text", [
    "+55 (31) 99999-9999", "55 31 99999 9999", "<tel:+5531999999999|+55 31 99999-9999>",
    f"  {PHONE}\n",
])
async def test_phones_as_attendants_type_them(slack: SlackRig, text: str) -> None:
    _, _, key = await slack.command("/assumir", text, user=ANA)
    assert await slack.answer(key) == replies.TAKEN.format(phone=PHONE,
                                                         attendant="ana@empresa.com")


@pytest.mark.parametrize("text", [
    "payload", "payload={\"type\":\"x\"}", "<script>&amp;", "🙂" * 300, "a\x00b",
    "x" * 3000, "%%%", "&text=1&command=/liberar",
])
async def test_any_text_is_answered(slack: SlackRig, text: str) -> None:
    status, _, key = await slack.command("/status", text, user=ANA)
    assert status == 200
    assert (await slack.answer(key)).startswith(replies.USAGE.format(usage="/status"))


async def test_an_unknown_command_is_answered(slack: SlackRig) -> None:
    _, _, key = await slack.command("/pedido", "42", user=ANA)
    assert await slack.answer(key) == replies.UNKNOWN_COMMAND.format(name="/pedido")


async def test_a_user_without_email_acts_as_their_slack_id(slack: SlackRig) -> None:
    _, _, key = await slack.command("/assumir", PHONE, user=DIEGO)
    await slack.answer(key)
    assert (await slack.session()).human_attendant == DIEGO


async def test_the_user_lookup_is_cached(slack: SlackRig) -> None:
    for _ in range(3):
        _, _, key = await slack.command("/status", user=ANA)
        await slack.answer(key)
    assert [c.params["user"] for c in slack.fake.calls["users.info"]] == [ANA]
