"""Hostile input against the running service: no 5xx, and a rejected request changes nothing."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.graph import meta_signature
from tests.fakes.slack import signature
from tests.live_service import LiveService
from tests.redis_server import RedisServer, free_port

TOKEN = "hostile-token"
APP_SECRET = "hostile-app-secret"
SLACK_SECRET = "hostile-signing-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture(scope="module", params=["memory", "redis"])
def service(request: pytest.FixtureRequest,
            redis_server: RedisServer) -> Iterator[tuple[LiveService, redis.Redis | None]]:
    env = {"HANDOFF_API_TOKEN": TOKEN, "WHATSAPP_APP_SECRET": APP_SECRET,
           "SLACK_BOT_TOKEN": "xoxb-hostile", "SLACK_SIGNING_SECRET": SLACK_SECRET,
           "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}
    client = None
    if request.param == "redis":
        env["REDIS_URL"] = redis_server.url.replace("/0", "/3")
        client = redis.Redis.from_url(env["REDIS_URL"])
        client.flushdb()
    svc = LiveService(**env)
    svc.start()
    yield svc, client
    svc.stop()


def snapshot(svc: LiveService, client: redis.Redis | None) -> Any:
    """Everything a request could have changed. The outbox streams are read and trimmed in
    the background, so of them only what was ever written counts (the last id given)."""
    if client is not None:
        out = []
        for k in client.keys("*"):
            if k.startswith(b"handoff:ob:"):
                out.append((k, client.xinfo_stream(k)["last-generated-id"]))
            elif not k.startswith(b"handoff:c:"):
                out.append((k, client.dump(k)))
        return sorted(out)
    return svc.request("GET", "/sessions/active", headers=AUTH)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=10)

phones = st.one_of(st.text(max_size=40), st.integers(), st.just("5531999999999"),
                   st.from_regex(r"\+?[0-9 ()-]{0,20}", fullmatch=True))
bodies = st.fixed_dictionaries({}, optional={
    "phone": phones | json_values, "from": phones, "message": st.text(max_size=50) | json_values,
    "text": json_values, "sender_type": st.sampled_from(["customer", "human", "agent", "bot", ""])
    | json_values, "message_id": json_values, "attendant_id": json_values,
    "metadata": json_values})

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(body=bodies)
def test_simple_webhook(service: tuple[LiveService, redis.Redis | None],
                        body: dict[str, Any]) -> None:
    svc, client = service
    before = snapshot(svc, client)
    status, answer = svc.request("POST", "/webhook/whatsapp", json.dumps(body).encode(), AUTH)
    assert status < 500, answer
    if status >= 400:
        assert isinstance(answer, dict) and isinstance(answer.get("error"), str)
        assert snapshot(svc, client) == before


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_webhook_raw_bytes(service: tuple[LiveService, redis.Redis | None], raw: bytes) -> None:
    svc, client = service
    before = snapshot(svc, client)
    status, _ = svc.request("POST", "/webhook/whatsapp", raw, AUTH)
    assert status < 500
    if status >= 400:
        assert snapshot(svc, client) == before


@SETTINGS
@given(segment=st.text(min_size=1, max_size=300),
       action=st.sampled_from(["status", "history", "takeover", "release"]),
       query=st.dictionaries(st.sampled_from(["attendant_id", "force", "source", "mode"]),
                             st.text(max_size=20), max_size=3),
       body=st.none() | json_values)
def test_rest_routes(service: tuple[LiveService, redis.Redis | None], segment: str, action: str,
                     query: dict[str, str], body: Any) -> None:
    svc, client = service
    before = snapshot(svc, client)
    path = f"/session/{urllib.parse.quote(segment, safe='')}/{action}"
    if query:
        path += "?" + urllib.parse.urlencode(query)
    method = "GET" if action in ("status", "history") else "POST"
    data = json.dumps(body).encode() if body is not None else None
    status, answer = svc.request(method, path, data, AUTH)
    assert status < 500, answer
    if status >= 400:
        assert snapshot(svc, client) == before


@pytest.mark.parametrize("segment", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", "5531%00999999999",
                                     "٥٥٣١٩٩٩٩٩٩٩٩٩", "9" * 5000, "%F0%9F%A7%80" * 20])
def test_phone_segments_are_rejected_cleanly(service: tuple[LiveService, redis.Redis | None],
                                             segment: str) -> None:
    svc, client = service
    before = snapshot(svc, client)
    for method, action in [("GET", "status"), ("POST", "takeover?attendant_id=x"),
                           ("POST", "release"), ("GET", "history")]:
        quoted = urllib.parse.quote(segment, safe="%")
        status, _ = svc.request(method, f"/session/{quoted}/{action}", None, AUTH)
        assert 400 <= status < 500, (segment, action, status)
    assert snapshot(svc, client) == before


@SETTINGS
@given(headers=st.dictionaries(
    st.sampled_from(["Authorization", "Content-Type", "Content-Length", "X-Hub-Signature-256"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    max_size=3))
def test_odd_headers(service: tuple[LiveService, redis.Redis | None],
                     headers: dict[str, str]) -> None:
    svc, client = service
    headers.pop("Content-Length", None)
    before = snapshot(svc, client)
    status, _ = svc.request("POST", "/webhook/whatsapp",
                            b'{"phone": "5531999999999", "message": "oi"}', headers)
    assert status < 500
    if status >= 400:
        assert snapshot(svc, client) == before


meta_values = st.fixed_dictionaries({}, optional={
    "messaging_product": json_values, "metadata": json_values,
    "contacts": st.lists(st.fixed_dictionaries({}, optional={
        "wa_id": phones, "profile": json_values, "user_id": json_values}), max_size=2)
    | json_values,
    "messages": st.lists(st.fixed_dictionaries({}, optional={
        "from": phones, "id": json_values, "type": st.sampled_from(
            ["text", "image", "interactive", "location", "audio", "sticker", "x"]) | json_values,
        "text": json_values, "image": json_values, "interactive": json_values,
        "timestamp": json_values}), max_size=3) | json_values,
    "statuses": st.lists(json_values, max_size=2) | json_values,
    "errors": json_values})
meta_bodies = st.fixed_dictionaries({"object": st.just("whatsapp_business_account")}, optional={
    "entry": st.lists(st.fixed_dictionaries({}, optional={
        "id": json_values, "changes": st.lists(st.fixed_dictionaries({}, optional={
            "field": st.sampled_from(["messages", "smb_message_echoes"]) | json_values,
            "value": meta_values | json_values}), max_size=2) | json_values}), max_size=2)
    | json_values})


@SETTINGS
@given(body=meta_bodies, sign=st.booleans())
def test_meta_payloads(service: tuple[LiveService, redis.Redis | None], body: dict[str, Any],
                       sign: bool) -> None:
    svc, client = service
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json",
               "X-Hub-Signature-256": meta_signature(APP_SECRET if sign else "wrong", raw)}
    before = snapshot(svc, client)
    status, answer = svc.request("POST", "/webhook/whatsapp", raw, headers)
    assert status < 500, answer
    if not sign:
        assert status == 401
    if status >= 400:
        assert snapshot(svc, client) == before


form_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=40)


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(
           ["command", "text", "user_id", "channel_id", "response_url", "trigger_id",
            "payload", "type", "team_id", "token", "ssl_check"]), form_values, max_size=6),
       skew=st.integers(min_value=-1000, max_value=1000), sign=st.booleans(),
       as_json=st.booleans())
def test_slack_endpoint(service: tuple[LiveService, redis.Redis | None],
                        fields: dict[str, str], skew: int, sign: bool, as_json: bool) -> None:
    svc, client = service
    if as_json:
        raw = json.dumps(fields).encode()
        ctype = "application/json"
    else:
        raw = urllib.parse.urlencode(fields).encode()
        ctype = "application/x-www-form-urlencoded"
    ts = str(int(time.time()) + skew)
    headers = {"Content-Type": ctype, "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": signature(SLACK_SECRET if sign else "nope", ts, raw)}
    before = snapshot(svc, client)
    status, answer = svc.request("POST", "/slack/events", raw, headers)
    assert status < 500, answer
    if not sign or abs(skew) > 300:
        assert status == 401
        assert snapshot(svc, client) == before
