"""Contract tests: Schemathesis generates requests from the served `/openapi.json` and sends
them to the live app (a real socket, Redis, the bearer token set); every answer must match it.

Schemathesis runs as its CLI does (its engine: the schema's examples, then coverage of each
parameter's edges, then property-based fuzzing, positive and negative data), bounded by
`MAX_EXAMPLES` per operation. Its checks, on every response: no 5xx, a documented status code,
a documented content type, a body matching the documented schema, documented headers, 401 when
the bearer is removed or wrong, 405 with `Allow` for undeclared methods, and schema-violating
input rejected. Only `positive_data_acceptance` is off: two input rules are stated in words,
not in JSON Schema (a phone has 8 to 15 digits; takeover's `attendant_id` comes from the query
or the body), so schema-valid input can rightly be a 400.

Slack is on (the fake Slack API), so every route is mounted. Slack's and Meta's signed formats
are in the document but not fuzzed here (their own tests sign real payloads): `/slack/events`
is left out, and `POST /webhook/whatsapp` is generated from its simple-JSON form only.
`/media/{token}` is fuzzed with a real signed link among its examples, so its 200 is checked
too. The figures are printed in the test output.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import jsonschema
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from bot.settings import Settings
from bot.web.media import MediaLinks
from bot.web.openapi import OPERATIONS
from tests.conftest import Running
from tests.fakes.slack import FakeSlack

TOKEN = "contract-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "5531999999999"
LINK_SECRET = "contract-relay-secret"
#: Fuzzed examples per operation (the coverage and examples phases add their own).
MAX_EXAMPLES = 50
#: Signed by Slack or Meta: documented, covered by their own tests, not fuzzed.
SIGNED = {("post", "/slack/events")}
#: Every check Schemathesis runs by default, less the one explained in the module docstring.
UNCHECKED = {"positive_data_acceptance"}

pytestmark = pytest.mark.parametrize("store_kind", ["redis"])


@dataclass
class Tally:
    seed: int = 0
    operations: set[str] = field(default_factory=set)
    examples: int = 0
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def line(self) -> str:
        return (f"schemathesis: {len(self.operations)} operations, {self.examples} examples, "
                f"{len(self.failures)} failures (seed {self.seed})")


def fuzzable(doc: dict[str, Any], media_token: str | None = None) -> dict[str, Any]:
    """The document as fuzzed: without Slack's route, the webhook's simple JSON only, and a
    real file link among `/media/{token}`'s examples."""
    doc = copy.deepcopy(doc)
    if media_token and "/media/{token}" in doc["paths"]:
        token = doc["paths"]["/media/{token}"]["get"]["parameters"][0]
        token["schema"]["examples"] = [media_token]
    for method, path in SIGNED:
        doc["paths"].get(path, {}).pop(method, None)
    doc["paths"] = {path: item for path, item in doc["paths"].items() if item}
    body = doc["paths"]["/webhook/whatsapp"]["post"]["requestBody"]["content"]
    body["application/json"]["schema"] = {"$ref": "#/components/schemas/SimpleMessage"}
    return doc


def run_schemathesis(doc: dict[str, Any], base_url: str, media_token: str | None = None
                     ) -> Tally:
    """Schemathesis's engine over every fuzzable operation; blocking (run it in a thread)."""
    config = SchemathesisConfig.from_dict({
        "base-url": base_url,
        "headers": AUTH,
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
        "phases": {"stateful": {"enabled": False}},
        "checks": {name: {"enabled": False} for name in UNCHECKED},
    })
    schema = schemathesis.openapi.from_dict(fuzzable(doc, media_token), config=config)
    tally = Tally(seed=config.seed)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.status is not Status.SKIP and event.label:
                tally.operations.add(event.label)
            tally.examples += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status is Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        key = (event.recorder.label, check.name, failure.title)
                        tally.failures.setdefault(key, f"{' / '.join(key)}\n{failure.message}\n"
                                                       f"{check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            tally.failures[(event.label, "error", str(event.value))] = repr(event.value)
        elif isinstance(event, events.FatalError):
            tally.failures[("engine", "fatal", str(event.exception))] = repr(event.exception)
    return tally


async def _seed(r: Running) -> None:
    """A conversation with history and messages each way, under the documented example phone,
    so the 200 bodies (session, history, transcript) are checked too."""
    for body in ({"phone": PHONE, "message": "Quero falar com um atendente", "message_id": "m1"},
                 {"phone": PHONE, "message": "Oi, sou a Ana", "sender_type": "human",
                  "attendant_id": "ana@empresa.com"},
                 {"phone": PHONE, "message": "Estou ouvindo", "sender_type": "agent"}):
        status, _ = await r.json("POST", "/webhook/whatsapp", json=body, headers=AUTH)
        assert status == 200
    status, _ = await r.json("POST", f"/session/{PHONE}/transfer",
                             json={"to": "bia@empresa.com"}, headers=AUTH)
    assert status == 200


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


def _settings(make_settings: Callable[..., Settings], fake_slack: FakeSlack) -> Settings:
    """The bearer, Meta's secrets, and Slack on (which mounts `/slack/events` and, with the
    relay's secret, `/media/{token}`): every route there is."""
    return make_settings(handoff_api_token=TOKEN, whatsapp_app_secret="contract-app-secret",
                         whatsapp_verify_token="contract-verify",
                         slack_bot_token=fake_slack.token, slack_signing_secret="contract-slack",
                         slack_api_url=fake_slack.api_url, slack_escalation_channel="C0CONTRATO",
                         handoff_outbound_secret=LINK_SECRET)


def _file_link(fake_slack: FakeSlack) -> str:
    """A link the app would give the relay, to a file hosted by the fake Slack."""
    file = fake_slack.share("F0CONTRATO", "nota.pdf", b"%PDF-1.7 contrato", "application/pdf")
    url = MediaLinks(LINK_SECRET, cast(Any, None), ttl=3600).link(file)["url"]
    return str(url).removeprefix("/media/")


async def test_schemathesis_against_the_live_app(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]) -> None:
    running = await serve(_settings(make_settings, fake_slack))
    await _seed(running)
    token = _file_link(fake_slack)
    async with running.request("GET", f"/media/{token}") as resp:
        assert resp.status == 200  # the example Schemathesis starts from is a working link
    status, doc = await running.json("GET", "/openapi.json")
    assert status == 200
    assert doc["paths"].keys() == {path for _, path in OPERATIONS}  # every route is mounted
    tally = await asyncio.to_thread(run_schemathesis, doc, running.url, token)
    with capsys.disabled():
        print(f"\n{tally.line()}")
    assert len(tally.operations) == sum(len(item) for item in fuzzable(doc)["paths"].values())
    assert tally.examples >= len(tally.operations) * 10
    assert not tally.failures, "\n\n".join(tally.failures.values())


def _protected(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in doc["paths"].items()
            for method, op in item.items() if {"bearerAuth": []} in op.get("security", [])]


#: A valid body for each protected operation that requires one.
BODIES = {"/webhook/whatsapp": {"phone": PHONE, "message": "oi"},
          "/session/{phone}/transfer": {"to": "bia@empresa.com"},
          "/session/{phone}/takeover": {"attendant_id": "ana@empresa.com"}}


async def test_every_protected_operation_answers_401_without_the_bearer(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    running = await serve(_settings(make_settings, fake_slack))
    status, doc = await running.json("GET", "/openapi.json")
    assert status == 200
    protected = _protected(doc)
    assert len(protected) == 10  # metrics, the webhook's POST, and the eight REST operations
    error = doc["components"]["schemas"]["Error"]
    for method, path, op in protected:
        assert "401" in op["responses"], (method, path)
        url = path.replace("{phone}", PHONE)
        body = BODIES.get(path)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                        {"Authorization": f"Basic {TOKEN}"}):
            for payload in (body, None):  # a valid body, and none at all: 401 before 400
                async with running.request(method, url, json=payload, headers=headers) as resp:
                    assert resp.status == 401, (method, path, headers, payload)
                    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
                    jsonschema.validate(await resp.json(), error)
    assert await running.manager.get(PHONE) is None  # nothing refused did anything
    for method, path, _ in protected:
        url = path.replace("{phone}", PHONE)
        async with running.request(method, url, json=BODIES.get(path), headers=AUTH) as resp:
            assert resp.status != 401, (method, path)


#: Inputs Schemathesis's generators rarely produce, found by probing by hand: each was a 500
#: (or, for `NaN`, a stored value that no JSON client could read back). Now a documented 400.
EDGE_INPUTS = [
    ("GET", f"/session/{PHONE}/messages?limit=%C2%B2", None),  # "²": isdigit() but not int()
    ("GET", f"/session/{PHONE}/messages?before=%C2%B9", None),
    ("POST", "/webhook/whatsapp", b'{"phone": "5531999999998", "message": "\\ud800"}'),
    ("POST", "/webhook/whatsapp",
     b'{"phone": "5531999999998", "message": "x", "metadata": {"\\udfff": 1}}'),
    ("POST", "/webhook/whatsapp",
     b'{"phone": "5531999999998", "message": "x", "metadata": {"a": NaN}}'),
    ("POST", "/webhook/whatsapp",
     b'{"phone": "5531999999998", "message": "x", "metadata": {"a": -Infinity}}'),
    ("POST", "/webhook/whatsapp", b"[" * 100_000 + b"]" * 100_000),
    ("POST", "/webhook/whatsapp", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("POST", f"/session/{PHONE}/takeover", b'{"attendant_id": "\\ud800"}'),
    ("POST", f"/session/{PHONE}/transfer", b'{"to": "\\udc00"}'),
]


async def test_edge_inputs_are_documented_400s(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        fake_slack: FakeSlack) -> None:
    running = await serve(_settings(make_settings, fake_slack))
    await _seed(running)
    status, doc = await running.json("GET", "/openapi.json")
    assert status == 200
    error = {**doc["components"]["schemas"]["Error"], "components": doc["components"]}
    for method, path, body in EDGE_INPUTS:
        headers = {**AUTH, "Content-Type": "application/json"}
        async with running.request(method, path, data=body, headers=headers) as resp:
            assert resp.status == 400, (method, path, body and body[:60])
            jsonschema.validate(await resp.json(), error)
    assert await running.manager.get("5531999999998") is None


#: Credentials that are not ASCII, or not even UTF-8 (aiohttp keeps such header bytes as
#: surrogates): each must be refused with its documented 4xx, like any wrong credential.
#: `hmac.compare_digest` raises on non-ASCII `str` and `.encode()` on surrogates, so a
#: comparison that is not done on bytes made each of these a 500.
ODD_CREDENTIALS = {
    "bearer": (b"GET /sessions/active", b"Authorization: Bearer \xff\xfe\r\n", 401),
    "meta-signature": (b"POST /webhook/whatsapp", b"X-Hub-Signature-256: sha256=\xff\r\n", 401),
    "slack-signature": (b"POST /slack/events",
                        b"X-Slack-Request-Timestamp: {now}\r\nX-Slack-Signature: v0=\xc3\xa1\r\n",
                        401),
    "media-token": (b"GET /media/%18%F0%A9%88%89.%C3%A1B", b"", 404),
}


@pytest.mark.parametrize("case", list(ODD_CREDENTIALS))
async def test_odd_credentials_are_refused_not_a_500(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        fake_slack: FakeSlack, case: str) -> None:
    running = await serve(_settings(make_settings, fake_slack))
    line, headers, expected = ODD_CREDENTIALS[case]
    headers = headers.replace(b"{now}", str(int(time.time())).encode())
    host, port = running.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(line + b" HTTP/1.1\r\nHost: x\r\n" + headers
                 + b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                 + b"Connection: close\r\n\r\n{}")
    answer = await reader.read()
    writer.close()
    status = int(answer.split(b" ", 2)[1])
    assert status == expected, answer[:300]
