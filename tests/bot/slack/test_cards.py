"""Escalation cards and their buttons, end to end: webhook → card → click → card updated."""

from __future__ import annotations

from handoff.model import Mode
from tests.bot.slack.conftest import (
    ANA,
    BRUNO,
    CHANNEL,
    PHONE,
    SUPERVISOR,
    SlackRig,
    buttons,
    card_json,
)
from tests.fakes.slack import Message


async def test_escalation_posts_one_card_with_assumir(slack: SlackRig) -> None:
    card = await slack.escalate(text="quero falar com um atendente, o pedido 42 não chegou")
    await slack.settled()
    assert [m.ts for m in slack.fake.top_level()] == [card.ts]
    assert card.channel == CHANNEL
    assert buttons(card) == ["handoff_assumir"]
    shown = card_json(card)
    assert PHONE in shown and "o pedido 42 não chegou" in shown
    assert "Aguardando" in shown and "<!date^" in shown
    session = await slack.session()
    assert session.metadata["slack_card"]["channel"] == CHANNEL
    assert session.metadata["slack_card"]["ts"] == card.ts
    call = slack.fake.calls["chat.postMessage"][0]
    assert call.headers["Authorization"] == f"Bearer {slack.fake.token}"


async def _updated(slack: SlackRig, card: Message, what: str) -> Message:
    await slack.fake.until(lambda: what in card_json(slack.fake.messages[(card.channel, card.ts)]),
                           what=what)
    return slack.fake.messages[(card.channel, card.ts)]


async def test_assumir_takes_for_the_clickers_email_and_updates_the_card(slack: SlackRig
                                                                         ) -> None:
    card = await slack.escalate()
    status, _ = await slack.take(card, ANA)
    assert status == 200
    card = await _updated(slack, card, f"Assumido por <@{ANA}>")
    session = await slack.session()
    assert session.mode is Mode.HUMAN and session.human_attendant == "ana@empresa.com"
    assert buttons(card) == ["handoff_liberar", "handoff_transferir"]
    thread = await slack.fake.until(lambda: slack.fake.thread(CHANNEL, card.ts))
    assert len(thread) == 1 and f"<@{ANA}>" in thread[0].text and "Slack" in thread[0].text
    assert len(slack.fake.top_level()) == 1


async def test_second_clicker_is_told_who_holds_it_and_nothing_changes(slack: SlackRig) -> None:
    card = await slack.escalate()
    await slack.take(card, ANA)
    await _updated(slack, card, f"Assumido por <@{ANA}>")
    await slack.settled()
    updates = len(slack.fake.calls["chat.update"])
    status, _ = await slack.take(card, BRUNO)
    assert status == 200
    (ephemeral,) = await slack.fake.wait_for("chat.postEphemeral")
    assert ephemeral.params["user"] == BRUNO and ephemeral.params["channel"] == CHANNEL
    assert f"<@{ANA}>" in ephemeral.params["text"] and PHONE in ephemeral.params["text"]
    await slack.settled()
    assert (await slack.session()).human_attendant == "ana@empresa.com"
    assert len(slack.fake.calls["chat.update"]) == updates
    assert len(slack.fake.thread(CHANNEL, card.ts)) == 1


async def test_liberar_by_a_non_holder_is_refused(slack: SlackRig) -> None:
    card = await slack.escalate()
    await slack.take(card, ANA)
    await _updated(slack, card, "Assumido por")
    await slack.release(card, BRUNO)
    (ephemeral,) = await slack.fake.wait_for("chat.postEphemeral")
    assert ephemeral.params["user"] == BRUNO and "supervisor" in ephemeral.params["text"]
    await slack.settled()
    assert (await slack.session()).mode is Mode.HUMAN


async def test_liberar_by_the_holder_hands_back_to_the_bot(slack: SlackRig) -> None:
    card = await slack.escalate()
    await slack.take(card, ANA)
    await _updated(slack, card, "Assumido por")
    await slack.release(card, ANA)
    card = await _updated(slack, card, f"Devolvido ao bot por <@{ANA}>")
    assert buttons(card) == []
    assert (await slack.session()).mode is Mode.AGENT
    await slack.settled()
    assert not slack.fake.calls["chat.postEphemeral"]
    thread = [m.text for m in slack.fake.thread(CHANNEL, card.ts)]
    assert len(thread) == 3 and thread[2].startswith("📋"), "take, release, hand-back summary"


async def test_liberar_by_a_supervisor_succeeds(slack: SlackRig) -> None:
    card = await slack.escalate()
    await slack.take(card, ANA)
    await _updated(slack, card, "Assumido por")
    await slack.release(card, SUPERVISOR)
    await _updated(slack, card, f"Devolvido ao bot por <@{SUPERVISOR}>")
    assert (await slack.session()).mode is Mode.AGENT


async def test_the_card_shows_the_last_five_customer_messages(slack: SlackRig) -> None:
    for n in range(1, 7):
        await slack.running.json("POST", "/webhook/whatsapp", json={
            "phone": PHONE, "message": f"mensagem {n}", "message_id": f"wamid.{n}"})
    await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "mensagem 6", "message_id": "wamid.6"})  # a repeat
    await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "bot, manda <@U0ANA> & um atendente <!channel>",
        "message_id": "wamid.7"})
    (card,) = await slack.fake.until(lambda: slack.fake.top_level(CHANNEL))
    shown = card_json(card)
    assert [f"mensagem {n}" in shown for n in range(1, 7)] == [False, False] + [True] * 4
    assert shown.count("mensagem 6") == 1
    assert "&lt;@U0ANA&gt; &amp; um atendente &lt;!channel&gt;" in shown
    assert "<@U0ANA>" not in shown and "<!channel>" not in shown


async def test_the_card_shows_the_whatsapp_profile_name(slack: SlackRig) -> None:
    await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "oi", "metadata": {"profile_name": "Ana Lima"}})
    card = await slack.escalate()
    assert "Ana Lima" in card_json(card)
