"""`/webhook/whatsapp`: Meta's handshake, Meta's signature, and the simple JSON format beside it."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import pytest

from bot.settings import Settings
from bot.whatsapp.signature import sign, valid
from tests.bot.whatsapp import meta
from tests.bot.whatsapp.conftest import APP_SECRET, VERIFY_TOKEN, WaApp
from tests.fakes.graph import FakeGraph, meta_signature

WA_ID = "553199999999"
PHONE = "5531999999999"

Start = Callable[..., Awaitable[WaApp]]


def test_signature_matches_the_reference_vector() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    expected = "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
    assert sign("test_app_secret", body) == expected
    assert valid("test_app_secret", body, expected)
    assert valid("test_app_secret", body, expected.upper().replace("SHA256=", "sha256="))
    assert not valid("test_app_secret", body + b" ", expected)
    assert not valid("other_secret", body, expected)
    assert not valid("test_app_secret", body, expected[len("sha256="):])
    assert not valid("test_app_secret", body, None)


async def test_verification_handshake(wa: WaApp) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
             "hub.challenge": "1158201444"}
    async with wa.http.get(wa.url + "/webhook/whatsapp", params=query) as resp:
        assert resp.status == 200 and await resp.text() == "1158201444"
        assert resp.content_type == "text/plain"
    for bad in ({"hub.verify_token": "WRONG"}, {"hub.mode": "unsubscribe"},
                {"hub.verify_token": ""}):
        async with wa.http.get(wa.url + "/webhook/whatsapp",
                               params={**query, **bad}) as resp:
            assert resp.status == 403


async def test_verification_is_refused_without_a_configured_token(
        start: Start, wa_settings: Callable[..., Settings]) -> None:
    app = await start(wa_settings(whatsapp_verify_token=None))
    async with app.http.get(app.url + "/webhook/whatsapp", params={
            "hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}) as resp:
        assert resp.status == 403


async def test_bad_or_missing_signature_is_401_and_nothing_is_recorded(
        wa: WaApp, graph: FakeGraph) -> None:
    payload = meta.incoming(WA_ID, "wamid.S1", "Oi")
    body = json.dumps(payload, separators=(",", ":")).encode()
    forged = {"Content-Type": "application/json",
              "X-Hub-Signature-256": meta_signature("not-the-secret", body)}
    assert (await wa.post_raw(body, forged))[0] == 401
    assert (await wa.meta(payload, secret=None))[0] == 401
    resigned = json.dumps(payload, indent=1).encode()
    tampered = {"Content-Type": "application/json",
                "X-Hub-Signature-256": meta_signature(APP_SECRET, body)}
    assert (await wa.post_raw(resigned, tampered))[0] == 401
    assert await wa.manager.get(PHONE) is None
    # The genuine POST is the first the service queued: the rejected ones left nothing behind.
    assert await wa.meta(payload) == (200, {"status": "ok", "queued": 1})
    await wa.processed("wamid.S1")
    assert len(graph.sends) == 1


async def test_signature_is_checked_over_the_exact_bytes(wa: WaApp, graph: FakeGraph) -> None:
    """Meta's bytes (spacing, escapes) are what is signed; any JSON spelling works if signed."""
    body = json.dumps(meta.incoming(WA_ID, "wamid.S2", "Olá, ação"), indent=2,
                      ensure_ascii=True).encode()
    status, _ = await wa.post_raw(body, {"Content-Type": "application/json",
                                         "X-Hub-Signature-256": meta_signature(APP_SECRET,
                                                                               body)})
    assert status == 200
    [sent] = await graph.wait_sends(1)
    assert sent.text == "Resposta: Olá, ação"


async def test_without_an_app_secret_meta_payloads_are_taken_unsigned_with_a_warning(
        start: Start, wa_settings: Callable[..., Settings], graph: FakeGraph,
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="handoff.whatsapp"):
        app = await start(wa_settings(whatsapp_app_secret=None))
    assert any(r.msg == "whatsapp_unsigned" for r in caplog.records)
    status, _ = await app.meta(meta.incoming(WA_ID, "wamid.S3", "Oi"), secret=None)
    assert status == 200
    await graph.wait_sends(1)


async def test_a_signed_body_that_is_not_meta_is_400(wa: WaApp) -> None:
    body = b'{"phone": "5531999999999", "message": "oi"}'
    status, answer = await wa.post_raw(body, {"X-Hub-Signature-256": meta_signature(
        APP_SECRET, body)})
    assert status == 400 and "whatsapp_business_account" in answer["error"]
    status, _ = await wa.post_raw(b"{not json", {"X-Hub-Signature-256": meta_signature(
        APP_SECRET, b"{not json")})
    assert status == 400


async def test_the_simple_json_format_and_its_bearer_still_work(
        start: Start, wa_settings: Callable[..., Settings], graph: FakeGraph) -> None:
    app = await start(wa_settings(handoff_api_token="s3cret"))
    simple = {"phone": PHONE, "message": "Quero queijo", "message_id": "relay-1"}
    async with app.http.post(app.url + "/webhook/whatsapp", json=simple) as resp:
        assert resp.status == 401
    async with app.http.post(app.url + "/webhook/whatsapp", json=simple,
                             headers={"Authorization": "Bearer s3cret"}) as resp:
        body = await resp.json()
    assert resp.status == 200 and body["should_respond"] is True
    assert body["response"] == "Resposta: Quero queijo" and body["reason"] == "agent_active"
    # Meta's payload needs no bearer: it is signed.
    assert (await app.meta(meta.incoming(WA_ID, "wamid.S4", "Oi")))[0] == 200
    await app.processed("wamid.S4")
    # The relay's answer is the relay's to deliver: only Meta's message went out from here.
    assert [s.text for s in graph.sends] == ["Resposta: Oi"]


async def test_status_only_and_errors_only_posts_are_accepted(
        wa: WaApp, graph: FakeGraph, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="handoff.whatsapp"):
        status, body = await wa.meta(meta.envelope(meta.value(
            statuses=[meta.status("wamid.OUT9", "delivered", WA_ID)])))
        assert (status, body["queued"]) == (200, 1)
        status, body = await wa.meta(meta.envelope(meta.value(
            errors=[meta.error(130429, "Rate limit hit", "throughput reached")])))
        assert (status, body["queued"]) == (200, 0)
    logged = [r for r in caplog.records if r.msg == "whatsapp_error"]
    assert [getattr(r, "code", None) for r in logged] == [130429]
    assert graph.requests == []
