"""What reaches `/slack/events`: only Slack's signed requests act; nothing makes a 5xx."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest

from handoff.model import Mode
from tests.bot.slack.conftest import ANA, PHONE, SECRET, SlackRig
from tests.fakes.slack import (
    action_payload,
    command_body,
    event_body,
    form_payload,
    signature,
    signed_headers,
)


def test_signature_matches_slacks_documented_example() -> None:
    body = b"token=x&team_id=T0001&command=%2Fstatus&text=hello"
    assert signature("test_signing_secret", 1700000000, body) == (
        "v0=2e64b63a1ccffc15cb687e220ddf9ab3f2e18409cd00293f3eed62a25e5e1ad4")


def _takeover(slack: SlackRig) -> bytes:
    return command_body("/assumir", PHONE, user=ANA, response_url=slack.fake.response_url())


async def _nothing_changed(slack: SlackRig) -> None:
    await slack.settled()
    assert await slack.manager.get(PHONE) is None
    assert not slack.fake.calls["users.info"] and not slack.fake.calls["response_url"]


async def test_a_bad_signature_is_401_and_changes_nothing(slack: SlackRig) -> None:
    body = _takeover(slack)
    headers = signed_headers("not-the-secret", body)
    status, text = await slack.post(body, headers)
    assert status == 401 and "Assinatura" in json.loads(text)["error"]
    await _nothing_changed(slack)


@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
    {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": ""},
])
async def test_missing_or_garbled_signature_headers_are_401(slack: SlackRig,
                                                           headers: dict[str, str]) -> None:
    status, _ = await slack.post(_takeover(slack), {
        "Content-Type": "application/x-www-form-urlencoded", **headers})
    assert status == 401
    await _nothing_changed(slack)


async def test_a_stale_timestamp_is_401_and_changes_nothing(slack: SlackRig) -> None:
    body = _takeover(slack)
    status, _ = await slack.post(body, signed_headers(SECRET, body,
                                                      timestamp=int(time.time()) - 301))
    assert status == 401
    await _nothing_changed(slack)


async def test_a_body_changed_after_signing_is_401(slack: SlackRig) -> None:
    body = _takeover(slack)
    headers = signed_headers(SECRET, body)
    status, _ = await slack.post(body.replace(b"assumir", b"liberar"), headers)
    assert status == 401
    await _nothing_changed(slack)


MALFORMED = [
    b"",
    b"garbage",
    b"payload=%7Bnot+json",
    b"payload=%5B1%2C2%5D",
    b"payload=" + urlencode({"x": json.dumps({"no": "type"})}).encode(),
    b"{\"type\": ",
    b"[1, 2, 3]",
    b"\"just a string\"",
    b"{\"type\": 5}",
    form_payload({"type": "block_actions"}),
    form_payload({"type": "block_actions", "actions": "nope", "user": "U0ANA"}),
    form_payload({"type": "block_actions", "actions": [{"action_id": "handoff_assumir"}]}),
    form_payload({"type": "something_new"}),
    urlencode({"command": "/assumir"}).encode(),
    json.dumps({"type": "event_callback"}).encode(),
    json.dumps({"type": "event_callback", "event": "x", "event_id": 3}).encode(),
]


@pytest.mark.parametrize("body", MALFORMED)
async def test_malformed_signed_bodies_are_4xx_never_5xx(slack: SlackRig, body: bytes) -> None:
    status, _ = await slack.post(body, signed_headers(SECRET, body))
    assert 200 <= status < 500 and status != 401
    await slack.settled()
    assert await slack.manager.get(PHONE) is None


async def test_a_body_that_is_not_utf8_is_refused(slack: SlackRig) -> None:
    """Slack signs UTF-8 text; these bytes cannot be a request it signed."""
    body = b"command=%2Fassumir&text=\xff\xfe"
    status, _ = await slack.post(body, signed_headers(SECRET, body))
    assert status in (400, 401)
    await _nothing_changed(slack)


@pytest.mark.parametrize("body", [b"garbage", b"payload=%7Bnot+json", b"[1, 2, 3]"])
async def test_unreadable_bodies_are_400(slack: SlackRig, body: bytes) -> None:
    status, text = await slack.post(body, signed_headers(SECRET, body))
    assert status == 400 and "error" in json.loads(text)


async def test_a_request_the_app_does_not_use_is_acknowledged(
        slack: SlackRig, caplog: pytest.LogCaptureFixture) -> None:
    """Slack may send kinds of requests the app has no use for: never called invalid, and
    logged as one info line (not Bolt's warning with a code sample)."""
    caplog.set_level(logging.INFO)
    for payload in ({"type": "something_new"}, {"type": "shortcut", "callback_id": "x"}):
        body = form_payload(payload)
        status, _ = await slack.post(body, signed_headers(SECRET, body))
        assert status == 200
    unhandled = [r for r in caplog.records if r.getMessage() == "slack_unhandled"]
    assert len(unhandled) == 2 and all(r.levelno == logging.INFO for r in unhandled)
    assert not [r for r in caplog.records if "Unhandled request" in r.getMessage()]
    body = form_payload({"type": "block_suggestion", "action_id": "x", "value": "a"})
    status, text = await slack.post(body, signed_headers(SECRET, body))
    assert status == 200 and json.loads(text) == {"options": []}
    await _nothing_changed(slack)


async def test_a_button_with_a_bad_phone_is_answered_not_acted(slack: SlackRig) -> None:
    payload = action_payload("handoff_assumir", "not-a-phone", user=ANA, channel="C1",
                             message_ts="1.2", response_url=slack.fake.response_url())
    status, _ = await slack.signed(form_payload(payload))
    assert status == 200
    (ephemeral,) = await slack.fake.wait_for("chat.postEphemeral")
    assert "válida" in ephemeral.params["text"]
    assert await slack.manager.list_active() == []


async def test_slacks_ssl_check_probe_is_answered_signed_or_not(slack: SlackRig) -> None:
    body = b"ssl_check=1&token=legacy"
    status, _ = await slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert (await slack.signed(body))[0] == 200
    unsigned_command = b"ssl_check=1&command=%2Fassumir&text=5531999999999&user_id=U0ANA"
    status, _ = await slack.post(unsigned_command,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    await _nothing_changed(slack)


async def test_url_verification_echoes_the_challenge(slack: SlackRig) -> None:
    body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"})
    status, text = await slack.signed(body.encode(), json_body=True)
    assert status == 200 and "abc123" in text


async def test_an_event_nobody_listens_to_is_acked(slack: SlackRig) -> None:
    status, _ = await slack.event({"type": "reaction_added", "user": ANA, "reaction": "eyes"})
    assert status == 200


async def test_losing_access_is_logged_once_per_event(slack: SlackRig,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    body = event_body({"type": "app_uninstalled"}, event_id="Ev0GONE")
    assert (await slack.signed(body, json_body=True))[0] == 200
    assert (await slack.signed(body, json_body=True, retry=1))[0] == 200
    revoked = event_body({"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}})
    assert (await slack.signed(revoked, json_body=True))[0] == 200

    def lost() -> int:
        return [r.msg for r in caplog.records].count("slack_access_lost")

    await slack.fake.until(lambda: lost() >= 2)
    assert lost() == 2


async def test_a_signed_click_acts(slack: SlackRig) -> None:
    """The control for the tests above: the same request, correctly signed, does act."""
    status, _ = await slack.signed(_takeover(slack))
    assert status == 200
    await slack.fake.wait_for("response_url")
    assert (await slack.session()).mode is Mode.HUMAN
