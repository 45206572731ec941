"""Every bad input the contract names gets its 4xx and changes nothing; auth; body limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.settings import Settings
from tests.conftest import Running

PHONE = "5531999999999"


async def _snapshot(r: Running) -> Any:
    status, active = await r.json("GET", "/sessions/active")
    return status, active


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'"texto"', b"", b"{}",
    b'{"message": "oi"}',
    b'{"phone": "5531999999999"}',
    b'{"phone": 5531999999999.5, "message": "oi"}',
    b'{"phone": true, "message": "oi"}',
    b'{"phone": "5531999999999", "message": 42}',
    b'{"phone": "5531999999999", "message": "oi", "sender_type": "robot"}',
    b'{"phone": "5531999999999", "message": "oi", "sender_type": 1}',
    b'{"phone": "5531999999999", "message": "oi", "metadata": [1]}',
    b'{"phone": "5531999999999", "message": "oi", "attendant_id": 7}',
    b'{"phone": "5531999999999", "message": "oi", "message_id": {"a": 1}}',
    b'{"phone": "123", "message": "oi"}',
    b'{"phone": "55319999999999999", "message": "oi"}',
    b'{"phone": "../../etc", "message": "oi"}',
    b'\xff\xfe{"phone"',
])
async def test_bad_webhook_bodies_are_400_and_change_nothing(running: Running,
                                                             body: bytes) -> None:
    before = await _snapshot(running)
    async with running.request("POST", "/webhook/whatsapp", data=body,
                               headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        assert isinstance((await resp.json())["error"], str)
    assert await _snapshot(running) == before
    assert await running.manager.get(PHONE) is None


async def test_webhook_accepts_from_and_text_aliases(running: Running) -> None:
    status, body = await running.json("POST", "/webhook/whatsapp",
                                      json={"from": "553199999999", "text": "oi"})
    assert status == 200 and body["reason"] == "agent_active"
    assert (await running.manager.get(PHONE)) is not None


async def test_webhook_table_over_http(running: Running) -> None:
    async def post(**body: Any) -> dict[str, Any]:
        status, answer = await running.json("POST", "/webhook/whatsapp",
                                            json={"phone": PHONE, **body})
        assert status == 200
        assert set(answer) == {"should_respond", "response", "reason", "session_mode",
                               "metadata"}
        return dict(answer)

    a = await post(message="Quero falar com um atendente", message_id="w1")
    assert (a["should_respond"], a["reason"], a["session_mode"]) == (
        False, "escalation_requested", "paused")
    assert a["metadata"] == {"escalation_requested": True}
    a = await post(message="Quero falar com um atendente", message_id="w1")
    assert (a["reason"], a["session_mode"]) == ("duplicate", "paused")
    a = await post(message="alô", sender_type="customer")
    assert (a["should_respond"], a["reason"]) == (False, "waiting_human")
    a = await post(message="Estou te ouvindo", sender_type="agent")
    assert (a["reason"], a["session_mode"]) == ("recorded", "paused")
    a = await post(message="/status", sender_type="human", attendant_id="ana@empresa.com")
    assert a["reason"] == "command" and a["should_respond"] is False
    assert "aguardando" in a["response"]
    a = await post(message="Oi, sou a Ana", sender_type="human", attendant_id="ana@empresa.com")
    assert (a["reason"], a["session_mode"]) == ("recorded", "human")
    a = await post(message="Oi", sender_type="human", attendant_id="bia@empresa.com")
    assert (a["reason"], a["session_mode"]) == ("recorded", "human")
    _, s = await running.json("GET", f"/session/{PHONE}/status")
    assert s["human_attendant"] == "ana@empresa.com"
    a = await post(message="/liberar", sender_type="human", attendant_id="ana@empresa.com")
    assert (a["reason"], a["session_mode"]) == ("command", "agent")
    a = await post(message="/liberar 5531999999999")
    assert (a["should_respond"], a["reason"]) == (True, "agent_active")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/session/123/status"),
    ("GET", "/session/abc/history"),
    ("POST", "/session/12345678901234567/takeover?attendant_id=x"),
    ("POST", "/session/%2E%2E%2Fetc/release"),
    ("GET", "/sessions/active?mode=robot"),
])
async def test_bad_rest_input_is_400(running: Running, method: str, path: str) -> None:
    status, body = await running.json(method, path)
    assert status == 400 and "error" in body
    assert (await running.json("GET", "/sessions/active"))[1] == {"sessions": []}


@pytest.mark.parametrize("body", [b"[]", b"{oops", b'{"attendant_id": 5}',
                                  b'{"attendant_id": "a", "force": "yes"}'])
async def test_bad_takeover_bodies_are_400(running: Running, body: bytes) -> None:
    async with running.request("POST", f"/session/{PHONE}/takeover", data=body) as resp:
        assert resp.status == 400
    assert await running.manager.get(PHONE) is None


async def test_takeover_needs_an_attendant(running: Running) -> None:
    status, body = await running.json("POST", f"/session/{PHONE}/takeover")
    assert status == 400 and "attendant_id" in body["error"]
    assert await running.manager.get(PHONE) is None


async def test_unknown_phone_is_404_for_status_history_release(running: Running) -> None:
    for method, path in [("GET", "status"), ("GET", "history"), ("POST", "release")]:
        status, body = await running.json(method, f"/session/{PHONE}/{path}")
        assert status == 404, path
        assert "error" in body
    status, body = await running.json("POST", f"/session/{PHONE}/release")
    assert body["success"] is False and body["session"] is None


async def test_takeover_conflict_release_forbidden_and_force(running: Running) -> None:
    status, body = await running.json("POST", f"/session/{PHONE}/takeover",
                                      json={"attendant_id": "joao@empresa.com"})
    assert status == 200 and body["success"] is True
    status, body = await running.json("POST", f"/session/{PHONE}/takeover",
                                      json={"attendant_id": "maria@empresa.com"})
    assert status == 409 and body["success"] is False
    assert "joao@empresa.com" in body["message"]
    assert body["session"]["human_attendant"] == "joao@empresa.com"
    status, body = await running.json("POST", f"/session/{PHONE}/release",
                                      json={"attendant_id": "maria@empresa.com"})
    assert status == 403 and body["success"] is False
    assert body["session"]["mode"] == "human"
    status, body = await running.json(
        "POST", f"/session/{PHONE}/release?attendant_id=maria@empresa.com&force=true")
    assert status == 200 and body["session"]["mode"] == "agent"
    status, body = await running.json("POST", f"/session/{PHONE}/takeover",
                                      json={"attendant_id": "joao@empresa.com"})
    status, body = await running.json("POST", f"/session/{PHONE}/takeover",
                                      json={"attendant_id": "maria@empresa.com", "force": True})
    assert status == 200 and body["session"]["human_attendant"] == "maria@empresa.com"
    status, body = await running.json("POST", f"/session/{PHONE}/release")
    assert status == 200 and body["success"] is True
    status, body = await running.json("POST", f"/session/{PHONE}/release")
    assert status == 200 and body["success"] is True, "already with the bot: success, no change"
    _, hist = await running.json("GET", f"/session/{PHONE}/history")
    assert [e["event"] for e in hist["events"]] == ["takeover", "release", "takeover",
                                                    "takeover", "release"]
    assert {e["source"] for e in hist["events"]} == {"rest"}


async def test_body_over_1_mib_is_413(running: Running) -> None:
    big = b'{"phone": "5531999999999", "message": "' + b"a" * (1024 * 1024) + b'"}'
    async with running.request("POST", "/webhook/whatsapp", data=big) as resp:
        assert resp.status == 413
        assert "error" in await resp.json()
    assert await running.manager.get(PHONE) is None


async def test_unknown_route_and_method_are_json(running: Running) -> None:
    status, body = await running.json("GET", "/nope")
    assert status == 404 and "error" in body
    status, body = await running.json("DELETE", "/sessions/active")
    assert status == 405 and "error" in body


async def test_healthz(running: Running, store_kind: str) -> None:
    status, body = await running.json("GET", "/healthz")
    assert (status, body) == (200, {"status": "ok", "store": store_kind})


async def test_bearer_token(serve: Callable[..., Awaitable[Running]],
                            make_settings: Callable[..., Settings]) -> None:
    r = await serve(make_settings(handoff_api_token="s3cret"))
    good = {"Authorization": "Bearer s3cret"}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "s3cret"},
                    {"Authorization": "Basic s3cret"}):
        for method, path, body in [
            ("GET", "/sessions/active", None),
            ("GET", f"/session/{PHONE}/status", None),
            ("POST", f"/session/{PHONE}/takeover", {"attendant_id": "x"}),
            ("POST", f"/session/{PHONE}/release", None),
            ("GET", f"/session/{PHONE}/history", None),
            ("POST", "/webhook/whatsapp", {"phone": PHONE, "message": "oi"}),
        ]:
            status, answer = await r.json(method, path, json=body, headers=headers)
            assert status == 401, (headers, path)
            assert "error" in answer
    assert await r.manager.get(PHONE) is None
    assert (await r.json("GET", "/healthz"))[0] == 200
    status, _ = await r.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi"},
                             headers=good)
    assert status == 200
    assert (await r.json("GET", "/sessions/active", headers=good))[0] == 200


async def test_meta_verification_handshake(serve: Callable[..., Awaitable[Running]],
                                           make_settings: Callable[..., Settings]) -> None:
    r = await serve(make_settings(whatsapp_verify_token="GOOD", handoff_api_token="t"))
    q = "/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="
    async with r.request("GET", q + "GOOD") as resp:
        assert resp.status == 200 and await resp.text() == "1158201444"
    for bad in (q + "BAD", q.replace("subscribe", "unsubscribe") + "GOOD"):
        async with r.request("GET", bad) as resp:
            assert resp.status == 403
