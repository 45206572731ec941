"""What the customer is told by the service itself: their place in the queue (with an estimate
once people were taken lately), who took the conversation, and the rating after hand-back —
through the Cloud API, or the relay when that is what is configured."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.settings import Settings
from tests.bot.whatsapp import meta
from tests.conftest import Running
from tests.fakes.graph import FakeGraph, meta_signature
from tests.fakes.relay import FakeRelay
from tests.wait import eventually

APP_SECRET = "segredo-do-app"
PHONES = ["5531900000001", "5531900000002", "5531900000003"]


def cloud(graph: FakeGraph, **extra: Any) -> dict[str, Any]:
    return {"whatsapp_access_token": "EAAG-token", "whatsapp_api_url": graph.url,
            "whatsapp_phone_number_id": meta.PHONE_NUMBER_ID, "whatsapp_app_secret": APP_SECRET,
            "handoff_queue_ack": True, "handoff_announce_attendant": True, **extra}


async def _ask(r: Running, phone: str) -> None:
    status, body = await r.json("POST", "/webhook/whatsapp",
                                json={"phone": phone, "message": "quero um atendente"})
    assert status == 200 and body["session_mode"] == "paused"


def _texts(graph: FakeGraph, phone: str) -> list[str]:
    return [s.text or "" for s in graph.sends if s.to == phone]


async def test_three_customers_hear_their_places_then_who_took_them(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        graph: FakeGraph) -> None:
    r = await serve(make_settings(**cloud(graph)))
    for phone in PHONES:
        await _ask(r, phone)
    await graph.wait_sends(3)
    for n, phone in enumerate(PHONES, start=1):
        assert _texts(graph, phone) == [f"Você é o {n}º da fila. Já chamamos alguém da equipe."]
    for phone in PHONES:
        await r.json("POST", f"/session/{phone}/takeover",
                     json={"attendant_id": "ana.souza@empresa.com"})
    await graph.wait_sends(6)
    assert _texts(graph, PHONES[0])[-1] == "Ana está com você agora."
    # Three claims are enough data: the next customer gets an estimate.
    await _ask(r, "5531900000009")
    sent = await eventually(lambda: _texts(graph, "5531900000009"))
    assert sent[0].startswith("Você é o 1º da fila. Tempo estimado: cerca de ")
    assert sent[0].endswith(" minutos.")


async def test_the_rating_is_asked_recorded_and_not_passed_to_the_bot(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        graph: FakeGraph) -> None:
    r = await serve(make_settings(**cloud(graph, handoff_csat=True,
                                          handoff_announce_attendant=False,
                                          handoff_queue_ack=False)))
    phone = "5531999999999"
    await r.json("POST", f"/session/{phone}/takeover", json={"attendant_id": "ana"})
    await r.json("POST", f"/session/{phone}/release", json={"attendant_id": "ana"})
    (question,) = await graph.wait_sends(1)
    assert question.body["type"] == "interactive"
    buttons = question.body["interactive"]["action"]["buttons"]
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in buttons] == [
        ("csat:3", "😀 Ótimo"), ("csat:2", "😐 Regular"), ("csat:1", "🙁 Ruim")]
    tap = meta.envelope(meta.value(contacts=[meta.contact("553199999999", "Maria")],
                                   messages=[meta.message("553199999999", "wamid.RATE1",
                                                          "interactive", {
                                                              "type": "button_reply",
                                                              "button_reply": {
                                                                  "id": "csat:3",
                                                                  "title": "😀 Ótimo"}})]))
    body = json.dumps(tap).encode()
    for _ in range(2):  # Meta delivers it twice: recorded once
        async with r.request("POST", "/webhook/whatsapp", data=body, headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": meta_signature(APP_SECRET, body)}) as resp:
            assert resp.status == 200
    history = await eventually(lambda: _rated(r, phone))
    assert history.count("csat") == 1
    async with r.request("GET", "/metrics") as resp:
        text = await resp.text()
    assert 'handoff_csat_sum{attendant="ana"} 3.0' in text
    assert len(graph.sends) == 1, "the bot never answered the rating"


async def _rated(r: Running, phone: str) -> list[str] | None:
    _, body = await r.json("GET", f"/session/{phone}/history")
    names = [e["event"] for e in body["events"]]
    return names if "csat" in names else None


async def test_through_the_relay_when_that_is_what_is_configured(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        relay: FakeRelay) -> None:
    r = await serve(make_settings(handoff_outbound_url=relay.url,
                                  handoff_outbound_secret="segredo", handoff_queue_ack=True,
                                  handoff_announce_attendant=True, handoff_csat=True))
    phone = "5531999999999"
    await _ask(r, phone)
    await r.json("POST", f"/session/{phone}/takeover", json={"attendant_id": "bia@empresa.com"})
    await r.json("POST", f"/session/{phone}/release", json={"attendant_id": "bia@empresa.com"})
    got = await eventually(lambda: len(relay.accepted) >= 3 and relay.accepted)
    assert [m["message"] for m in got] == [
        "Você é o 1º da fila. Já chamamos alguém da equipe.", "Bia está com você agora.",
        "Como foi seu atendimento?\n1. 😀 Ótimo\n2. 😐 Regular\n3. 🙁 Ruim"]
