"""`POST /session/{phone}/transfer` on both stores: who may, what is refused, one winner."""

from __future__ import annotations

import asyncio

from tests.conftest import Running

PHONE = "5531999999999"


async def _held_by(r: Running, attendant: str) -> None:
    status, _ = await r.json("POST", f"/session/{PHONE}/takeover",
                             json={"attendant_id": attendant})
    assert status == 200


async def test_transfer_moves_the_conversation(running: Running) -> None:
    await _held_by(running, "ana@empresa.com")
    status, body = await running.json("POST", f"/session/{PHONE}/transfer",
                                      json={"to": "bia@empresa.com", "from": "ana@empresa.com"})
    assert status == 200 and body["success"]
    assert body["session"]["human_attendant"] == "bia@empresa.com"
    assert body["message"] == f"🔁 Conversa {PHONE} transferida para bia@empresa.com."
    _, history = await running.json("GET", f"/session/{PHONE}/history")
    last = history["events"][-1]
    assert (last["event"], last["actor"], last["to"], last["source"]) == (
        "transfer", "ana@empresa.com", "bia@empresa.com", "rest")
    status, body = await running.json("POST", f"/session/{PHONE}/transfer",
                                      json={"to": "carla@empresa.com"})
    assert status == 200 and body["session"]["human_attendant"] == "carla@empresa.com"


async def test_refusals_say_why_and_change_nothing(running: Running) -> None:
    status, body = await running.json("POST", f"/session/{PHONE}/transfer",
                                      json={"to": "bia@empresa.com"})
    assert status == 404 and not body["success"]
    await running.json("POST", "/webhook/whatsapp", json={"phone": PHONE,
                                                         "message": "atendente"})
    status, body = await running.json("POST", f"/session/{PHONE}/transfer",
                                      json={"to": "bia@empresa.com"})
    assert status == 409 and "não está com ninguém" in body["error"]
    await _held_by(running, "ana@empresa.com")
    status, body = await running.json("POST", f"/session/{PHONE}/transfer",
                                      json={"to": "bia@empresa.com", "from": "carla@empresa.com"})
    assert status == 409 and "ana@empresa.com" in body["error"]
    status, body = await running.json("POST", f"/session/{PHONE}/transfer",
                                      json={"to": "ana@empresa.com"})
    assert status == 409 and "Escolha outra pessoa" in body["error"]
    for bad in ({}, {"to": ""}, {"to": 5}, {"to": "bia", "from": ["x"]}):
        status, body = await running.json("POST", f"/session/{PHONE}/transfer", json=bad)
        assert status == 400 and body["error"], bad
    async with running.request("POST", f"/session/{PHONE}/transfer", data=b"{") as resp:
        assert resp.status == 400
    async with running.request("POST", "/session/abc/transfer", json={"to": "bia"}) as resp:
        assert resp.status == 400
    _, session = await running.json("GET", f"/session/{PHONE}/status")
    assert session["human_attendant"] == "ana@empresa.com"


async def test_two_concurrent_transfers_one_wins(running: Running) -> None:
    await _held_by(running, "ana@empresa.com")
    answers = await asyncio.gather(*(
        running.json("POST", f"/session/{PHONE}/transfer",
                      json={"to": to, "from": "ana@empresa.com"})
        for to in ("bia@empresa.com", "carla@empresa.com", "diego@empresa.com")))
    won = [body for status, body in answers if status == 200]
    lost = [body for status, body in answers if status == 409]
    assert len(won) == 1 and len(lost) == 2
    holder = won[0]["session"]["human_attendant"]
    assert all(holder in body["error"] for body in lost), "the others are told who holds it"
