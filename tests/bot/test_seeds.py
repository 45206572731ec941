"""The documented clients in seed-examples.md, replayed against the live server."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import Running

PHONE = "5531999999999"


async def test_react_dashboard_calls(running: Running) -> None:
    """Section 2: poll /sessions/active, takeover with a JSON body, release with no body."""
    await running.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi"})
    _, data = await running.json("GET", "/sessions/active")
    sessions = data["sessions"]
    assert [s["phone"] for s in sessions] == [PHONE] and sessions[0]["mode"] == "agent"
    assert {"phone", "mode", "human_attendant", "last_customer_message"} <= set(sessions[0])
    status, _ = await running.json("POST", f"/session/{PHONE}/takeover",
                                   json={"attendant_id": "joao@empresa.com"})
    assert status == 200
    _, data = await running.json("GET", "/sessions/active")
    assert data["sessions"][0]["human_attendant"] == "joao@empresa.com"
    async with running.request("POST", f"/session/{PHONE}/release") as resp:
        assert resp.status == 200
    _, data = await running.json("GET", "/sessions/active")
    assert data["sessions"][0]["mode"] == "agent"


async def test_n8n_node(running: Running) -> None:
    """Section 4: the body the n8n node posts and the fields it reads back."""
    body = {"phone": PHONE, "message": "Quero falar com um atendente", "sender_type": "customer",
            "metadata": {"n8n_execution_id": "1234", "received_at": "2026-11-25T10:00:00.000Z"}}
    status, answer = await running.json("POST", "/webhook/whatsapp", json=body)
    assert status == 200
    assert answer["should_respond"] is False
    assert answer["reason"] == "escalation_requested"
    assert answer["session_mode"] == "paused"
    _, session = await running.json("GET", f"/session/{PHONE}/status")
    assert session["metadata"] == body["metadata"]


async def test_monitor_script_reads_naive_utc_times(running: Running) -> None:
    """Section 5: `datetime.fromisoformat(...)` compared with `datetime.utcnow()`."""
    await running.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await running.json("POST", "/webhook/whatsapp",
                       json={"phone": "5531988887777", "message": "oi"})
    await running.json("POST", "/webhook/whatsapp",
                       json={"phone": "5531988887777", "message": "Olá", "sender_type": "human",
                             "attendant_id": "ana@empresa.com"})
    _, data = await running.json("GET", "/sessions/active")
    by_mode = {s["mode"]: s for s in data["sessions"]}
    now = datetime.utcnow()  # the documented script's own call
    paused_at = datetime.fromisoformat(by_mode["paused"]["paused_at"])
    last_human = datetime.fromisoformat(by_mode["human"]["last_human_message"])
    for moment in (paused_at, last_human):
        assert moment.tzinfo is None
        assert timedelta(0) <= now - moment < timedelta(minutes=1)
