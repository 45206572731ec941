"""Every real request body in `../shared/corpus` through the live app, on a real socket.

The corpus holds what Meta (WhatsApp Cloud API webhooks) and Slack (Events API, slash
commands, interactivity, url_verification, ssl_check) post, as open-source SDKs recorded them
(see its README.md). One app runs with BOTH Slack and the Cloud API on, against the fake Graph
API, the fake Slack API and a fake agent. Each body is signed as Meta or Slack signs it, and
what a test must control is substituted in code, never in the files: the customer's phone and
business-scoped user id (distinct per file), message ids (unique per message), timestamps, the
phone number id; Slack's event_id, trigger_id, response_url, channel and thread.

What a real deployment must do with them:

* WhatsApp: every body answered 200 `{"status": "ok", ...}`; every new customer message ends
  up in its session as readable text (the customer's own words, or a pt-BR placeholder such as
  "[imagem] legenda"), never raw JSON, "None" or an empty string; the bot (agent mode) answers
  each new customer message exactly once, and nothing else (statuses, edits, revokes,
  reactions, calls, account and template updates, preferences, echoes) makes it answer.
* Slack: url_verification answered with its challenge, ssl_check with a 2xx, every other
  correctly signed request acknowledged with a 2xx (a request the app does not use is not an
  invalid one), none answered 5xx; a slash command gets its ephemeral answer; nothing Slack
  sends makes the bot write to a customer.

Problems are collected per file and asserted at the end, so one run lists every failing body.
`pytest -s` prints a one-line summary per test.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.settings import Settings
from bot.slack import SLACK
from bot.web.keys import BACKEND
from bot.whatsapp.keys import INBOX
from bot.whatsapp.texts import WA_LABELS
from handoff.inbox import MemoryInbox
from handoff.store.redis_inbox import RedisInbox
from tests.bot.slack.conftest import CHANNEL, SECRET, SUPERVISOR
from tests.bot.whatsapp.conftest import APP_SECRET, FakeAgent, cloud_settings
from tests.bot.whatsapp.meta import BUSINESS_NUMBER, PHONE_NUMBER_ID, WABA_ID
from tests.conftest import Running
from tests.fakes.graph import FakeGraph, Sent, meta_signature
from tests.fakes.slack import FakeSlack, signed_headers

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

#: How long the workers, the outbox and Slack's background get to finish (a guard only).
SETTLE_WITHIN = 20.0

#: `messages[].type` values that are not a new message from the customer.
NOT_NEW = {
    "reaction": "a reaction (or its removal)",
    "system": "a system notice (number or identity changed)",
    "edit": "an edit of an earlier message",
    "revoke": "the deletion of an earlier message",
    "request_welcome": "a request for the welcome message",
    "ephemeral": "a disappearing-message notice",
}
#: `interactive.type` values that are not a message: the answer to a call permission request.
NOT_NEW_INTERACTIVE = {"call_permission_reply": "an answer to a call permission request"}

_MEDIA = ("image", "video", "document", "sticker", "audio")
#: Raw JSON, a Python repr or a JSON literal where a person's text should be.
_UNREADABLE = re.compile(r"[{}]|\bNone\b|\bnull\b|\bundefined\b|\\u[0-9a-fA-F]{4}|^\s|\s$")


def corpus_files(kind: str) -> list[Path]:
    """The payload files of `kind` (whatsapp or slack), each exactly once, sorted."""
    assert CORPUS.is_dir(), f"the corpus is missing: {CORPUS}"
    files = sorted(p for p in (CORPUS / kind).rglob("*") if p.is_file())
    indexed = set(re.findall(r"^\| `([^`]+)` \|", (CORPUS / "README.md").read_text(),
                             re.MULTILINE))
    listed = {str(p.relative_to(CORPUS)) for p in files}
    wanted = {name for name in indexed if name.startswith(f"{kind}/")}
    assert listed == wanted, (f"corpus files and the README's index disagree: "
                              f"{sorted(listed ^ wanted)}")
    return files


def _now() -> int:
    return int(time.time())


def _same_type(old: Any, value: int) -> Any:
    """A timestamp written the way the file wrote its own (Meta mixes strings and numbers)."""
    return str(value) if isinstance(old, str) else value


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# --------------------------------------------------------------------------- WhatsApp


@dataclass
class Expected:
    """One new customer message: where it must land and how it must read."""

    wamid: str
    key: str
    address: str
    type: str
    exact: str | None = None
    words: list[str] = field(default_factory=list)
    label: str | None = None

    def problems(self, rendered: str | None) -> list[str]:
        """Why `rendered` is not a readable rendering of this message (empty if it is)."""
        if rendered is None or not rendered.strip():
            return [f"{self.type} message {self.wamid} reads as {rendered!r}"]
        out = []
        if _UNREADABLE.search(rendered):
            out.append(f"{self.type} message {self.wamid} is not readable text: {rendered!r}")
        if self.exact is not None and rendered != self.exact:
            out.append(f"{self.type} message {self.wamid} reads {rendered!r}, "
                       f"the customer wrote {self.exact!r}")
        if self.label is not None and not rendered.startswith(self.label):
            out.append(f"{self.type} message {self.wamid} reads {rendered!r}, "
                       f"without its label {self.label!r}")
        lost = [w for w in self.words if w not in rendered]
        if lost:
            out.append(f"{self.type} message {self.wamid} reads {rendered!r}: the customer's "
                       f"{lost!r} is lost")
        return out


def expectation(raw: dict[str, Any], wamid: str, key: str, address: str) -> Expected:
    """How a new customer message must read: the words the customer typed or chose must
    survive, and a non-text message carries its pt-BR label ("[imagem]", "[localização]"…)."""
    kind = str(raw.get("type"))
    body = _obj(raw.get(kind))
    out = Expected(wamid, key, address, kind)
    if kind == "text":
        out.exact = _text(body.get("body"))
    elif kind == "button":
        out.words = [w for w in [_text(body.get("text")) or _text(body.get("payload"))] if w]
    elif kind == "interactive":
        sub = str(body.get("type"))
        reply = _obj(body.get(sub))
        if sub in ("button_reply", "list_reply"):
            out.words = [w for w in [_text(reply.get("title"))] if w]
        elif sub == "nfm_reply":
            out.label = WA_LABELS["form"]
        else:
            out.label = WA_LABELS["unsupported"]
    elif kind in _MEDIA:
        voice = kind == "audio" and body.get("voice") is True
        out.label = WA_LABELS["voice" if voice else kind]
        note = _text(body.get("caption")) or (
            _text(body.get("filename")) if kind == "document" else None)
        out.words = [note] if note else []
    elif kind == "location":
        out.label = WA_LABELS["location"]
        out.words = [str(body[k]) for k in ("name", "address", "latitude", "longitude")
                     if _text(str(body.get(k) or ""))]
    elif kind == "contacts":
        out.label = WA_LABELS["contacts"]
        out.words = [n for c in raw.get("contacts") or []
                     if (n := _text(_obj(c.get("name")).get("formatted_name")))]
    elif kind == "order":
        out.label = WA_LABELS["order"]
        out.words = [w for w in [_text(body.get("text"))] if w]
    else:  # unknown, unsupported: Meta could not give us the content
        out.label = WA_LABELS["unsupported"]
    return out


@dataclass
class WaFile:
    """One corpus file, made ours: its signed bytes and what it must lead to."""

    index: int
    name: str
    payload: dict[str, Any]
    phone: str
    bsuid: str
    messages: list[Expected] = field(default_factory=list)
    #: What else it carries, for the summary ("status read", "echo text", "account_update"…).
    other: list[str] = field(default_factory=list)
    #: The business's own new texts (echoes of what it wrote in its WhatsApp app): (key, text).
    echo_lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        """Compact JSON bytes, as Meta posts them."""
        return json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False).encode()


def whatsapp_file(path: Path, index: int) -> WaFile:
    """The file's body with our customer, ids, timestamps and phone number id in it."""
    payload = copy.deepcopy(json.loads(path.read_text()))
    f = WaFile(index, str(path.relative_to(CORPUS)), payload,
               phone=f"5511987{index:06d}", bsuid=f"BR.corpus{index:03d}")
    now, ids = _now(), itertools.count(1)

    def new_id(prefix: str = "wamid") -> str:
        return f"{prefix}.corpus{index:03d}x{next(ids)}"

    for entry in payload.get("entry") or []:
        entry["id"] = WABA_ID
        if "time" in entry:
            entry["time"] = _same_type(entry["time"], now)
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages":
                f.other.append(str(change.get("field")))
            metadata = value.get("metadata")
            if isinstance(metadata, dict):
                metadata["phone_number_id"] = PHONE_NUMBER_ID
                metadata["display_phone_number"] = BUSINESS_NUMBER
            contacts = value.get("contacts") or []
            for contact in contacts:
                if "wa_id" in contact:
                    contact["wa_id"] = f.phone
                if "user_id" in contact:
                    contact["user_id"] = f.bsuid
            for m in value.get("messages") or []:
                _customer_message(f, change, m, contacts, new_id(), now)
            for m in value.get("message_echoes") or []:
                m.update(id=new_id(), to=f.phone, **{"from": BUSINESS_NUMBER})
                if "to_user_id" in m:
                    m["to_user_id"] = f.bsuid
                if "timestamp" in m:
                    m["timestamp"] = _same_type(m["timestamp"], now)
                f.other.append(f"echo {m.get('type')}")
                text = (m.get("text") or {}).get("body") if m.get("type") == "text" else None
                if isinstance(text, str) and text.strip():
                    f.echo_lines.append((f.phone, text))
            for s in value.get("statuses") or []:
                s["id"] = new_id("wacid" if s.get("type") == "call" else "wamid")
                if s.get("recipient_type") != "group":
                    s["recipient_id"] = f.phone
                for k in ("recipient_user_id", "recipient_participant_user_id"):
                    if k in s:
                        s[k] = f.bsuid
                if "recipient_participant_id" in s:
                    s["recipient_participant_id"] = f.phone
                if "timestamp" in s:
                    s["timestamp"] = _same_type(s["timestamp"], now)
                f.other.append(f"status {s.get('status')}")
            for call in value.get("calls") or []:
                call["id"] = new_id("wacid")
                user_first = call.get("direction") == "USER_INITIATED"
                call["from"] = f.phone if user_first else BUSINESS_NUMBER
                call["to"] = BUSINESS_NUMBER if user_first else f.phone
                if "timestamp" in call:
                    call["timestamp"] = _same_type(call["timestamp"], now)
            for pref in value.get("user_preferences") or []:
                pref["wa_id"] = f.phone
                if "timestamp" in pref:
                    pref["timestamp"] = _same_type(pref["timestamp"], now)
    return f


def _customer_message(f: WaFile, change: dict[str, Any], m: dict[str, Any],
                      contacts: list[dict[str, Any]], wamid: str, now: int) -> None:
    """Substitute one `messages[]` item and decide whether it is a new customer message."""
    m["id"] = wamid
    if "timestamp" in m:
        m["timestamp"] = _same_type(m["timestamp"], now)
    if "from" in m:
        m["from"] = f.phone
    if "from_user_id" in m:
        m["from_user_id"] = f.bsuid
    context = m.get("context")
    if isinstance(context, dict) and "from" in context:
        context["from"] = BUSINESS_NUMBER
    kind = str(m.get("type"))
    interactive = _obj(m.get("interactive"))
    why_not = NOT_NEW.get(kind) or (
        NOT_NEW_INTERACTIVE.get(str(interactive.get("type"))) if kind == "interactive"
        else None)
    if change.get("field") != "messages" or why_not:
        f.other.append(f"message {kind}{'/' + str(interactive.get('type')) if interactive else ''}")
        return
    # Who wrote it: `from`, else `from_user_id`, else the one contact of the change.
    if "from" in m:
        key = address = f.phone
    elif "from_user_id" in m or any("user_id" in c for c in contacts):
        key = address = f.bsuid
    else:
        key = address = f.phone
    f.messages.append(expectation(m, wamid, key, address))


# --------------------------------------------------------------------------- Slack


@dataclass
class SlackRequest:
    """One corpus file as Slack would post it to us: bytes, content type, what it is."""

    index: int
    name: str
    kind: str
    body: bytes
    content_type: str
    challenge: str | None = None
    response_key: str | None = None


def slack_request(path: Path, index: int, fake: FakeSlack) -> SlackRequest:
    """Events and url_verification are JSON; slash commands and ssl_check are the form as
    Slack posts it; every interactivity payload goes in a form's `payload` field."""
    name = str(path.relative_to(CORPUS))
    key = f"corpus{index:03d}"
    now = _now()
    form = "application/x-www-form-urlencoded"
    if path.suffix == ".form":
        raw = path.read_bytes()
        fields = parse_qsl(raw.decode(), keep_blank_values=True)
        values = dict(fields)
        if "command" not in values:
            kind = "ssl_check" if values.get("ssl_check") == "1" else "form"
            return SlackRequest(index, name, kind, raw, form)
        ours = {"trigger_id": f"{now}.{index}.corpus", "response_url": fake.response_url(key),
                "channel_id": CHANNEL}
        body = urlencode([(k, ours.get(k, v)) for k, v in fields]).encode()
        return SlackRequest(index, name, f"command {values['command']}", body, form,
                            response_key=key)
    data = json.loads(path.read_text())
    kind = str(data.get("type"))
    if kind == "url_verification":
        return SlackRequest(index, name, kind, json.dumps(data).encode(), "application/json",
                            challenge=str(data["challenge"]))
    if kind == "event_callback":
        data["event_id"] = f"Ev{key.upper()}"
        data["event_time"] = now
        event = data.get("event") or {}
        thread = f"{now}.{index:06d}"
        for holder in (event, event.get("item"), event.get("message"), event.get("root")):
            if isinstance(holder, dict):
                if isinstance(holder.get("channel"), str) and holder["channel"][:1] in "CG":
                    holder["channel"] = CHANNEL
                if "thread_ts" in holder:
                    holder["thread_ts"] = thread
        subtype = f"/{event['subtype']}" if event.get("subtype") else ""
        return SlackRequest(index, name, f"event {event.get('type')}{subtype}",
                            json.dumps(data).encode(), "application/json")
    if "trigger_id" in data:
        data["trigger_id"] = f"{now}.{index}.corpus"
    if "response_url" in data:
        data["response_url"] = fake.response_url(key)
    for holder in (data.get("channel"), data.get("container")):
        if isinstance(holder, dict):
            for k in ("id", "channel_id"):
                if k in holder:
                    holder[k] = CHANNEL
    return SlackRequest(index, name, f"interactivity {kind}",
                        urlencode({"payload": json.dumps(data)}).encode(), form)


# --------------------------------------------------------------------------- the rig


@pytest.fixture
async def both(serve: Callable[..., Awaitable[Running]],
               make_settings: Callable[..., Settings], graph: FakeGraph,
               agent: FakeAgent, fake_slack: FakeSlack) -> Running:
    """One app with Slack and the Cloud API on, on the store under test."""
    running = await serve(make_settings(
        **cloud_settings(graph, agent),
        slack_bot_token=fake_slack.token, slack_signing_secret=SECRET,
        slack_api_url=fake_slack.api_url, slack_escalation_channel=CHANNEL,
        slack_supervisors=[SUPERVISOR]))
    await fake_slack.wait_for("auth.test")
    return running


async def _inbox_left(running: Running) -> int:
    """Webhook items queued or in a worker's hands (acknowledged ones are deleted)."""
    inbox = running.app[INBOX]
    if isinstance(inbox, MemoryInbox):
        return len(inbox)
    assert isinstance(inbox, RedisInbox)
    return int(await inbox.redis.xlen(inbox.stream))


async def settle(running: Running) -> list[str]:
    """Wait until the workers, every outbox group and Slack's background are done; what is
    still not done after `SETTLE_WITHIN` seconds is returned as problems."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_WITHIN
    while True:
        left = await _inbox_left(running)
        stats = await running.app[BACKEND].outbox.stats()
        lagging = {g: (s.lag, s.pending) for g, s in stats.groups.items()
                   if s.lag or s.pending}
        busy = len(running.app[SLACK].background)
        if not left and not lagging and not busy:
            return []
        if loop.time() > deadline:
            return [f"not settled after {SETTLE_WITHIN}s: {left} webhook items unfinished, "
                    f"outbox groups behind {lagging}, {busy} Slack background tasks"]
        await asyncio.sleep(0.05)


async def check_conversation(running: Running, f: WaFile, key: str, sends: list[Sent],
                             agent: FakeAgent) -> list[str]:
    """What one file left in the conversation `key` (its customer's phone or user id): a
    readable line per new customer message and nothing else of the customer's, the business's
    own texts (echoes) as attendant lines, one bot answer per new customer message and none
    otherwise, and the session's `last_customer_text`."""
    mine = [m for m in f.messages if m.key == key]
    echoes = [text for k, text in f.echo_lines if k == key]
    status, page = await running.json("GET", f"/session/{key}/messages?limit=200")
    lines = page.get("messages", []) if status == 200 else []
    said = [str(line.get("text")) for line in lines if line.get("sender") == "customer"]
    human = [str(line.get("text")) for line in lines if line.get("sender") == "human"]
    answers = [str(s.text) for s in sends if s.to == key]
    asked = [str(c.get("message")) for c in agent.calls if c.get("phone") == key]
    where = f"{f.name} ({', '.join(f.other) or 'messages'})"
    out: list[str] = []
    if len(said) != len(mine):
        out.append(f"{where}: the transcript of {key} has the customer lines {said!r}; "
                   f"the body carries {len(mine)} new customer message(s)")
    for m, line in zip(mine, said, strict=False):
        out += [f"{where}: transcript: {p}" for p in m.problems(line)]
    if human != echoes:
        mode = None
        if human:
            _, session = await running.json("GET", f"/session/{key}/status")
            mode = session.get("mode")
        out.append(f"{where}: the transcript of {key} has the attendant lines {human!r} "
                   f"(session mode {mode}); the business wrote {echoes!r}")
    wanted = [f"Resposta: {line}" for line in said[:len(mine)]]
    if sorted(answers) != sorted(wanted) or len(asked) != len(mine):
        out.append(f"{where}: the bot sent {answers!r} to {key} after {len(asked)} agent "
                   f"call(s) {asked!r}; expected {len(mine)}, one per new customer message: "
                   f"{wanted!r}")
    if mine:
        status, session = await running.json("GET", f"/session/{key}/status")
        if status != 200:
            out.append(f"{where}: no session for {key} ({status} {session})")
        else:
            out += [f"{where}: last_customer_text: {p}"
                    for p in mine[-1].problems(session.get("last_customer_text"))]
    return out


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every log record that carries an exception: something crashed in the app."""
    return [f"log {r.name} {r.levelname} {r.getMessage()}: "
            f"{type(r.exc_info[1]).__name__}: {r.exc_info[1]}"
            for r in caplog.records if r.exc_info and r.exc_info[1] is not None]


def report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------- the tests


async def test_every_whatsapp_body(both: Running, graph: FakeGraph, agent: FakeAgent,
                                   store_kind: str, caplog: pytest.LogCaptureFixture) -> None:
    started = time.monotonic()
    files = [whatsapp_file(p, i) for i, p in enumerate(corpus_files("whatsapp"), start=1)]
    problems: list[str] = []

    for f in files:
        body = f.body
        async with both.request("POST", "/webhook/whatsapp", data=body, headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": meta_signature(APP_SECRET, body)}) as resp:
            status, text = resp.status, await resp.text()
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if status != 200 or not isinstance(answer, dict) or answer.get("status") != "ok":
            problems.append(f"{f.name}: answered {status} {text[:200]!r}")

    problems += await settle(both)
    ledger = both.app[BACKEND].ledger
    sends = graph.sends
    for f in files:
        for m in f.messages:
            if await ledger.get(f"wa:answered:{m.wamid}") is None:
                problems.append(f"{f.name}: {m.type} message {m.wamid} was never handled by "
                                f"a worker (not queued, or it failed)")
        for key in (f.phone, f.bsuid):
            problems += await check_conversation(both, f, key, sends, agent)
    expected_sends = sum(len(f.messages) for f in files)
    if len(sends) != expected_sends:
        problems.append(f"the bot sent {len(sends)} messages in all; {expected_sends} new "
                        f"customer messages should have been answered once each")
    refused = [r for r in graph.requests if not r.accepted]
    if refused:
        problems.append(f"{len(refused)} sends refused by the fake Graph API")
    problems += tracebacks(caplog)

    genuine = sum(len(f.messages) for f in files)
    kinds = Counter(m.type for f in files for m in f.messages)
    others = Counter(o.split(" ")[0] for f in files for o in f.other)
    print(f"\ncorpus whatsapp [{store_kind}]: {len(files)} bodies, {genuine} new customer "
          f"messages in {sum(1 for f in files if f.messages)} bodies "
          f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); other items: "
          f"{', '.join(f'{k} {n}' for k, n in sorted(others.items()))}; {len(sends)} bot "
          f"sends; {len(problems)} problems; {time.monotonic() - started:.1f}s")
    assert not problems, report(problems)


async def test_every_slack_body(both: Running, fake_slack: FakeSlack, graph: FakeGraph,
                                agent: FakeAgent, store_kind: str,
                                caplog: pytest.LogCaptureFixture) -> None:
    started = time.monotonic()
    requests = [slack_request(p, i, fake_slack)
                for i, p in enumerate(corpus_files("slack"), start=1)]
    problems: list[str] = []

    for r in requests:
        headers = signed_headers(SECRET, r.body, content_type=r.content_type)
        async with both.request("POST", "/slack/events", data=r.body,
                                headers=headers) as resp:
            status, text = resp.status, await resp.text()
        if r.challenge is not None:
            try:
                echoed = json.loads(text).get("challenge") if text.startswith("{") else text
            except ValueError:
                echoed = None
            if status != 200 or echoed not in (r.challenge, f"challenge={r.challenge}"):
                problems.append(f"{r.name} ({r.kind}): answered {status} {text[:200]!r}, "
                                f"not the challenge")
        elif not 200 <= status < 300:
            problems.append(f"{r.name} ({r.kind}): answered {status} {text[:200]!r}")

    problems += await settle(both)
    for r in requests:
        if r.response_key is None:
            continue
        replies = fake_slack.responses.get(r.response_key) or []
        if len(replies) != 1 or replies[0].get("response_type") != "ephemeral" or not str(
                replies[0].get("text") or "").strip():
            problems.append(f"{r.name} ({r.kind}): answered at its response_url with "
                            f"{replies!r}, expected one ephemeral answer")
    if graph.requests:
        problems.append(f"Slack requests made the bot write to customers: "
                        f"{[(s.to, s.text) for s in graph.requests]!r}")
    if agent.calls:
        problems.append(f"Slack requests reached the agent: {agent.calls!r}")
    status, active = await both.json("GET", "/sessions/active")
    if status != 200 or active.get("sessions"):
        problems.append(f"Slack requests opened conversations: {status} {active!r}")
    problems += tracebacks(caplog)

    kinds = Counter(r.kind.split(" ")[0] for r in requests)
    print(f"\ncorpus slack [{store_kind}]: {len(requests)} bodies "
          f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
          f"{len(problems)} problems; {time.monotonic() - started:.1f}s")
    assert not problems, report(problems)
