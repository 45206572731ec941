"""The card tells the truth whatever made the change: REST, the CLI, WhatsApp, notices."""

from __future__ import annotations

from handoff.events import PageDue, SendFailed, WindowClosed
from tests.bot.slack.conftest import ANA, BRUNO, CHANNEL, PHONE, SlackRig, buttons, card_json
from tests.bot.test_cli import cli
from tests.fakes.slack import Message


async def _shows(slack: SlackRig, card: Message, what: str) -> Message:
    await slack.fake.until(
        lambda: what in card_json(slack.fake.messages[(card.channel, card.ts)]), what=what)
    return slack.fake.messages[(card.channel, card.ts)]


async def _line(slack: SlackRig, card: Message, n: int) -> str:
    thread = await slack.fake.until(
        lambda: len(slack.fake.thread(CHANNEL, card.ts)) >= n and slack.fake.thread(
            CHANNEL, card.ts), what=f"{n} thread lines")
    return thread[n - 1].text


async def test_rest_takeover_updates_the_card(slack: SlackRig) -> None:
    card = await slack.escalate()
    status, _ = await slack.running.json(
        "POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana@empresa.com"})
    assert status == 200
    # The email is known to Slack: the card mentions the user (users.lookupByEmail).
    card = await _shows(slack, card, f"Assumido por <@{ANA}>")
    assert buttons(card) == ["handoff_liberar", "handoff_transferir"]
    assert "(via API)" in await _line(slack, card, 1)


async def test_cli_release_updates_the_card(slack: SlackRig) -> None:
    card = await slack.escalate()
    await slack.manager.takeover(PHONE, "ana@empresa.com")
    await _shows(slack, card, "Assumido por")
    result = await cli("release", PHONE, url=slack.running.url)
    assert result.code == 0, result
    card = await _shows(slack, card, "Devolvido ao bot")
    assert buttons(card) == []
    line = await _line(slack, card, 2)
    assert "Devolvido ao bot" in line and "(via CLI)" in line


async def test_an_attendant_whatsapp_message_updates_the_card(slack: SlackRig) -> None:
    card = await slack.escalate()
    status, body = await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "Oi, sou a Bruna, vou te ajudar", "sender_type": "human",
        "attendant_id": "bruna@empresa.com"})
    assert status == 200 and body["session_mode"] == "human"
    # bruna is not a Slack user: her id is shown as it is, and that is no Slack failure.
    await _shows(slack, card, "Assumido por bruna@empresa.com")
    async with slack.running.request("GET", "/metrics") as resp:
        assert 'handoff_outbound_failures_total{api="slack"} 0.0' in await resp.text()
    assert "(via WhatsApp)" in await _line(slack, card, 1)


async def test_a_takeover_before_any_card_gets_one(slack: SlackRig) -> None:
    status, _ = await slack.running.json(
        "POST", f"/session/{PHONE}/takeover?attendant_id=ana@empresa.com")
    assert status == 200
    (card,) = await slack.fake.until(lambda: slack.fake.top_level(CHANNEL))
    assert f"Assumido por <@{ANA}>" in card_json(card)
    assert buttons(card) == ["handoff_liberar", "handoff_transferir"]
    session = await slack.session()
    assert session.metadata["slack_card"]["ts"] == card.ts
    await slack.running.json("POST", f"/session/{PHONE}/release")
    await _shows(slack, card, "Devolvido ao bot")
    await slack.settled()
    assert len(slack.fake.top_level()) == 1


async def test_a_new_escalation_after_release_gets_a_new_card(slack: SlackRig) -> None:
    first = await slack.escalate()
    await slack.manager.release(PHONE)
    await _shows(slack, first, "Devolvido ao bot")
    second = await slack.escalate(text="atendente de novo, por favor")
    assert second.ts != first.ts and buttons(second) == ["handoff_assumir"]
    assert (await slack.session()).metadata["slack_card"]["ts"] == second.ts
    assert "Devolvido ao bot" in card_json(slack.fake.messages[(CHANNEL, first.ts)])


async def test_fast_changes_post_one_card_and_end_true(slack: SlackRig) -> None:
    await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "atendente"})
    await slack.manager.takeover(PHONE, "ana@empresa.com")
    await slack.manager.pause(PHONE, "ana@empresa.com")
    await slack.manager.takeover(PHONE, "bruno@empresa.com", source="cli")
    await slack.settled()
    (card,) = slack.fake.top_level()
    assert f"Assumido por <@{BRUNO}>" in card_json(card)
    lines = [m.text for m in slack.fake.thread(CHANNEL, card.ts)]
    assert [line.split()[0] for line in lines] == ["👤", "⏸️", "👤"]


async def test_pages_and_failures_go_to_the_card_thread(slack: SlackRig) -> None:
    card = await slack.escalate()
    await slack.manager.emit(PHONE, PageDue(PHONE, 1.0, 1, 600.0, "Maria"))
    await slack.manager.emit(PHONE, SendFailed(PHONE, 2.0, "refused", 131026, "incapaz"))
    await slack.fake.until(lambda: len(slack.fake.thread(CHANNEL, card.ts)) == 2)
    page, failed = slack.fake.thread(CHANNEL, card.ts)
    assert page.text == ("🚨 @channel o cliente Maria (5531999999999) pediu uma pessoa e "
                         "aguarda há 10min. Alguém pode assumir?") and page.reply_broadcast
    assert "131026" in failed.text and "incapaz" in failed.text
    assert not failed.reply_broadcast


async def test_a_line_without_a_card_creates_it_first(slack: SlackRig) -> None:
    await slack.running.json("POST", "/webhook/whatsapp", json={"phone": PHONE,
                                                               "message": "oi"})
    await slack.manager.emit(PHONE, WindowClosed(PHONE, 1.0))
    (card,) = await slack.fake.until(lambda: slack.fake.top_level(CHANNEL))
    (line,) = await slack.fake.until(lambda: slack.fake.thread(CHANNEL, card.ts))
    assert "janela de 24h expirou" in line.text


async def test_a_deleted_card_is_posted_again(slack: SlackRig) -> None:
    card = await slack.escalate()
    await slack.settled()
    del slack.fake.messages[(CHANNEL, card.ts)]  # someone deleted it in Slack
    await slack.manager.takeover(PHONE, "ana@empresa.com")
    (again,) = await slack.fake.until(lambda: slack.fake.top_level(CHANNEL))
    assert again.ts != card.ts and f"Assumido por <@{ANA}>" in card_json(again)
    assert (await slack.session()).metadata["slack_card"]["ts"] == again.ts
    (line,) = await slack.fake.until(lambda: slack.fake.thread(CHANNEL, again.ts))
    assert "Assumido por" in line.text
