"""Approved templates from Slack: the card's Enviar modelo, `/modelo` and the closed-window
hint open the modal; a choice with its variables reaches Graph, the thread and the transcript."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.bot.slack.conftest import ANA, CHANNEL, PHONE, SlackRig, buttons
from tests.fakes.graph import FakeGraph
from tests.fakes.slack import Message, action_payload, form_payload

WABA = "880000000000001"
TEMPLATES = [
    {"name": "pedido_status", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY",
     "id": "1", "components": [{"type": "BODY",
                                "text": "Olá {{1}}, seu pedido {{2}} saiu para entrega."}]},
    {"name": "pedido_status", "language": "en_US", "status": "APPROVED", "id": "2",
     "components": [{"type": "BODY", "text": "Hi {{1}}, order {{2}} shipped."}]},
    {"name": "rascunho", "language": "pt_BR", "status": "PENDING", "id": "3",
     "components": [{"type": "BODY", "text": "não aprovado"}]},
    {"name": "retomar", "language": "pt_BR", "status": "APPROVED", "id": "4",
     "components": [{"type": "BODY", "text": "Podemos continuar a conversa?"},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Sim"}]}]},
]


@pytest.fixture
def ready(start: Callable[..., Awaitable[SlackRig]],
          graph: FakeGraph) -> Callable[[], Awaitable[SlackRig]]:
    """The app with the Cloud API and the business account's approved templates."""
    graph.templates[:] = TEMPLATES

    async def run() -> SlackRig:
        return await start(whatsapp_business_account_id=WABA)
    return run


def _submission(modal: dict[str, Any], choice: str | None, variables: str) -> bytes:
    values: dict[str, Any] = {"variaveis": {"variaveis": {"type": "plain_text_input",
                                                          "value": variables}}}
    if choice is not None:
        values["modelo"] = {"modelo": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": choice}, "value": choice}}}
    return form_payload({
        "type": "view_submission", "team": {"id": "T0TEST", "domain": "empresa"},
        "user": {"id": ANA, "username": "ana", "name": "ana", "team_id": "T0TEST"},
        "api_app_id": "A0HANDOFF", "trigger_id": "9.9.trigger",
        "view": {"id": "V0MODAL", "type": "modal", "callback_id": modal["callback_id"],
                 "private_metadata": modal["private_metadata"], "hash": "1.x",
                 "state": {"values": values}}, "response_urls": []})


async def _open_from_card(r: SlackRig, card: Message) -> dict[str, Any]:
    before = len(r.fake.calls["views.open"])
    payload = action_payload("handoff_modelo_abrir", PHONE, user=ANA, channel=CHANNEL,
                             message_ts=card.ts, response_url=r.fake.response_url())
    assert (await r.signed(form_payload(payload)))[0] == 200
    calls = await r.fake.until(lambda: len(r.fake.calls["views.open"]) > before
                               and r.fake.calls["views.open"])
    view: dict[str, Any] = calls[-1].params["view"]
    return view


async def test_a_template_chosen_in_the_modal_reaches_the_customer(
        ready: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await ready()
    card = await r.taken_by_ana()
    assert "handoff_modelo_abrir" in buttons(card)
    modal = await _open_from_card(r, card)
    options = modal["blocks"][1]["element"]["options"]
    assert [o["value"] for o in options] == ["pedido_status|pt_BR", "pedido_status|en_US",
                                             "retomar|pt_BR"], "approved ones, every page"
    assert json.loads(modal["private_metadata"]) == {"phone": PHONE}
    status, answer = await r.signed(_submission(modal, "pedido_status|pt_BR", "Ana\n4521\n"))
    assert status == 200 and answer == ""
    (sent,) = await graph.wait_sends(1)
    assert sent.body["type"] == "template" and sent.to == PHONE
    assert sent.body["template"] == {
        "name": "pedido_status", "language": {"code": "pt_BR"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                       {"type": "text", "text": "4521"}]}]}
    line = await r.fake.until(lambda: [m.text for m in r.fake.thread(CHANNEL, card.ts)
                                       if m.text.startswith("📨")])
    assert line == [f"📨 Modelo *pedido_status* enviado por <@{ANA}>: "
                    "Olá Ana, seu pedido 4521 saiu para entrega."]
    _, body = await r.running.json("GET", f"/session/{PHONE}/messages")
    assert body["messages"][-1]["sender"] == "template"
    assert body["messages"][-1]["text"] == "Olá Ana, seu pedido 4521 saiu para entrega."


async def test_a_wrong_count_of_variables_keeps_the_modal_open(
        ready: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await ready()
    card = await r.taken_by_ana()
    modal = await _open_from_card(r, card)
    status, answer = await r.signed(_submission(modal, "pedido_status|pt_BR", "Ana"))
    assert status == 200
    assert json.loads(answer) == {"response_action": "errors", "errors": {
        "variaveis": "Este modelo pede 2 variável(is); você informou 1."}}
    status, answer = await r.signed(_submission(modal, "sumiu|pt_BR", ""))
    assert json.loads(answer)["errors"] == {
        "modelo": "Este modelo não está mais disponível; escolha outro."}
    status, answer = await r.signed(_submission(modal, "retomar|pt_BR", "sobra"))
    assert status == 200 and answer == ""
    (sent,) = await graph.wait_sends(1)
    assert sent.body["template"] == {"name": "retomar", "language": {"code": "pt_BR"}}
    await r.settled()
    assert len(graph.sends) == 1


async def test_slash_command_and_the_closed_window_hint_offer_it(
        ready: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await ready()
    card = await r.taken_by_ana()
    status, _, _ = await r.command("/modelo", PHONE)
    assert status == 200
    (opened,) = await r.fake.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "handoff_modelo"
    r.manager.clock = lambda: time.time() + 25 * 3600
    await r.event({"type": "message", "channel": CHANNEL, "user": ANA, "text": "oi?",
                   "ts": "1767225900.000100", "thread_ts": card.ts})
    hints = await r.fake.until(lambda: [c for c in r.fake.calls["chat.postEphemeral"]
                                        if "janela de 24h" in c.params.get("text", "")])
    actions = [b for b in hints[0].params["blocks"] if b["type"] == "actions"]
    assert actions[0]["elements"][0]["action_id"] == "handoff_modelo_abrir"
    _, _, key = await r.command("/modelo", "abc")
    assert await r.answer(key) == "Uso: /modelo <telefone>"
    assert graph.sends == []
