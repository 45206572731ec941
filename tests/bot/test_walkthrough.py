"""The seed's curl walk-through (section 7), step by step, on a real socket."""

from __future__ import annotations

from tests.conftest import Running

PHONE = "5531999999999"


async def test_curl_walkthrough(running: Running) -> None:
    def customer(text: str) -> dict[str, str]:
        return {"phone": PHONE, "message": text, "sender_type": "customer"}

    status, body = await running.json("POST", "/webhook/whatsapp",
                                      json=customer("Quero queijo canastra"))
    assert status == 200
    assert body["should_respond"] is True and body["reason"] == "agent_active"
    assert body["session_mode"] == "agent" and isinstance(body["response"], str)

    status, body = await running.json(
        "POST", f"/session/{PHONE}/takeover?attendant_id=teste@email.com")
    assert status == 200 and body["success"] is True
    assert body["session"]["mode"] == "human"
    assert body["session"]["human_attendant"] == "teste@email.com"

    status, body = await running.json("POST", "/webhook/whatsapp", json=customer("Quanto custa?"))
    assert (status, body["should_respond"], body["reason"]) == (200, False, "human_active")
    assert body["response"] is None

    status, body = await running.json("GET", f"/session/{PHONE}/status")
    assert status == 200 and body["mode"] == "human" and body["phone"] == PHONE
    assert body["last_customer_text"] == "Quanto custa?"

    status, body = await running.json("POST", f"/session/{PHONE}/release")
    assert status == 200 and body["success"] is True and body["session"]["mode"] == "agent"

    status, body = await running.json("POST", "/webhook/whatsapp", json=customer("Ainda tem?"))
    assert (status, body["should_respond"], body["reason"]) == (200, True, "agent_active")
