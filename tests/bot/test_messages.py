"""`GET /session/{phone}/messages` on both stores: the transcript, newest last, paginated."""

from __future__ import annotations

from tests.conftest import Running

PHONE = "5531999999999"


async def _say(r: Running, text: str, sender: str = "customer", **extra: str) -> None:
    status, _ = await r.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": text, "sender_type": sender, **extra})
    assert status == 200


async def test_the_conversation_so_far_newest_last(running: Running) -> None:
    await _say(running, "oi")
    await _say(running, "Olá! Como posso ajudar?", "agent")
    await _say(running, "quero um atendente")
    await running.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    await _say(running, "Oi, sou a Ana", "human", attendant_id="ana")
    status, body = await running.json("GET", f"/session/{PHONE}/messages")
    assert status == 200 and body["phone"] == PHONE and body["next_before"] is None
    assert [(m["id"], m["sender"], m["attendant"], m["text"]) for m in body["messages"]] == [
        (1, "customer", None, "oi"), (2, "agent", None, "Olá! Como posso ajudar?"),
        (3, "customer", None, "quero um atendente"), (4, "human", "ana", "Oi, sou a Ana")]
    assert body["messages"][0]["at"].startswith("20")
    status, page = await running.json("GET", f"/session/{PHONE}/messages?limit=2")
    assert [m["id"] for m in page["messages"]] == [3, 4] and page["next_before"] == 3
    status, older = await running.json("GET", f"/session/{PHONE}/messages?limit=2&before=3")
    assert [m["id"] for m in older["messages"]] == [1, 2] and older["next_before"] is None


async def test_bad_queries_and_unknown_phones(running: Running) -> None:
    status, body = await running.json("GET", f"/session/{PHONE}/messages")
    assert status == 404 and body["error"]
    await _say(running, "oi")
    for query in ("limit=0", "limit=-1", "limit=abc", "before=x", "before=0", "limit=1.5"):
        status, body = await running.json("GET", f"/session/{PHONE}/messages?{query}")
        assert status == 400 and body["error"], query
    status, body = await running.json("GET", f"/session/{PHONE}/messages?limit=100000")
    assert status == 200 and len(body["messages"]) == 1
    async with running.request("GET", "/session/abc/messages") as resp:
        assert resp.status == 400
