"""End-to-end latency, the speed people feel: `python bench/latency.py` (or
`python -m bench.latency`) from the repo root.

Three paths, each timed from the moment this client sends the inbound request to the moment the
service's outgoing call arrives at a fake Web API (a timestamp taken by the fake, on the
system-wide monotonic clock, which every process on the machine shares):

* `a` - a signed Meta webhook (a customer's text, agent mode) -> the Graph API send of the bot's
        reply; the agent is a local aiohttp server answering `{"reply": ...}` at once
        (`AGENT_URL`, `AGENT_KIND=json`);
* `b` - a signed Meta webhook in human mode -> the `chat.postMessage` of the customer's message
        in the card's thread (`thread_ts` = the card's ts, the text in it);
* `c` - a signed Slack `message` event, the holder's reply in the card's thread -> the Graph API
        send of that reply to the customer.

Each at 1, 50 and 200 concurrent conversations (one message in flight per conversation, the
next sent as soon as the previous one's outgoing call arrived), with one service process and
with two sharing Redis (requests sent alternately to each). Beside each figure, the floor: a
bare request to the same fake (Graph for `a` and `c`, Slack for `b`) from this client at the same
concurrency, measured in the same run. Beside that, the cost per message: Redis commands
(`INFO commandstats` delta over the cell / messages), CPU time of each process (/proc), and the
fake APIs' calls. Then, with one process and MONITOR on for a few untimed messages per path,
the Redis round trips each message costs (a pipeline or MULTI/EXEC counted once) apart from the
commands its Lua scripts run inside Redis. `--profile-dir DIR` runs the services under cProfile
instead (see `bench/hotspots.py`).

Starts its own redis-server, one process for the fakes (FakeGraph and FakeSlack from
`tests/fakes/`, plus the agent), and the service processes; everything is stopped on exit,
error, Ctrl-C or SIGTERM. Nothing asserts on the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/latency.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from aiohttp import web  # noqa: E402
from redis.exceptions import ResponseError  # noqa: E402

from bench.common import (  # noqa: E402
    BenchRedis,
    Child,
    Target,
    cpu_seconds,
    handle_signals,
    machine,
    percentile,
    service_target,
)
from bench.hotspots import profiled_argv  # noqa: E402
from tests.fakes.graph import FakeGraph, meta_signature  # noqa: E402
from tests.fakes.slack import FakeSlack, event_body, signed_headers  # noqa: E402

APP_SECRET = "bench-app-secret"
ACCESS_TOKEN = "EAAG-bench"
PHONE_NUMBER_ID = "770000000000002"
WABA_ID = "880000000000001"
BUSINESS_NUMBER = "5511930000000"
SLACK_TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret"
CHANNEL = "C0BENCH"
USER = "U0ANA"
ATTENDANT = "ana@empresa.com"
PREFIX = "handoff:"
SHARDS = 4  # the service's default HANDOFF_OUTBOX_SHARDS
GROUPS = ("slack", "customer", "metrics")
#: Every measured message carries `BM<n>`; the fakes report the calls whose body has one.
TOKEN = re.compile(r"\bBM(\d+)\b")
WAIT = 30.0  # at most this long for one message's outgoing call (then it counts as an error)

PATHS = {
    "a": "Meta webhook -> Graph send (agent mode)",
    "b": "Meta webhook -> thread post (human mode)",
    "c": "Slack thread reply -> Graph send",
}
FLOOR_OF = {"a": "graph", "b": "slack", "c": "graph"}
FLOORS = {"graph": "bare POST to the fake Graph /messages",
          "slack": "bare POST to the fake Slack chat.postMessage"}


# ---------------------------------------------------------------- the fakes, in a child


class Feed:
    """WebSockets to the bench: one JSON `[kind, token, arrived, target]` per timed call."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []

    async def push(self, kind: str, text: str, arrived: float, target: str) -> None:
        found = TOKEN.search(text)
        if found is None or not self.sockets:
            return
        data = json.dumps([kind, int(found.group(1)), arrived, target])
        for ws in list(self.sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(data)


class TimedGraph(FakeGraph):
    """FakeGraph that stamps each send on arrival and keeps only counts, not every request."""

    def __init__(self, feed: Feed) -> None:
        super().__init__()
        self.feed = feed
        self.count = 0

    async def _messages(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        self.count += 1
        body = await request.json()  # aiohttp keeps the bytes: the fake's own read reuses them
        text = body.get("text") if isinstance(body, dict) else None
        if isinstance(text, dict):
            await self.feed.push("graph", str(text.get("body", "")), arrived,
                                 str(body.get("to") or body.get("recipient") or ""))
        answer = await super()._messages(request)
        if len(self.requests) > 2000:
            self.requests.clear()
        return answer


class TimedSlack(FakeSlack):
    """FakeSlack that stamps each `chat.postMessage` in a thread and counts calls per method."""

    def __init__(self, feed: Feed, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed = feed
        self.counts: Counter[str] = Counter()

    async def _api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        self.counts[method] += 1
        if method == "chat.postMessage":
            params = await self._params(request)  # the body is cached for the fake's own read
            thread = params.get("thread_ts")
            if thread:
                await self.feed.push("slack", str(params.get("text", "")), arrived, str(thread))
        answer = await super()._api(request)
        self._prune()
        return answer

    def _prune(self) -> None:
        """Keep memory flat over a long run: cards stay (they get `chat.update`), the rest go."""
        if len(self.requests) < 2000:
            return
        self.requests.clear()
        for calls in self.calls.values():
            calls.clear()
        for key in [k for k, m in self.messages.items() if m.thread_ts is not None]:
            del self.messages[key]
        self.homes.clear()


def fakes_child(conn: Any) -> None:
    """FakeGraph, FakeSlack, the agent and the feed; URLs go out on `conn`, "stop" ends."""

    async def serve() -> None:
        feed = Feed()
        graph = TimedGraph(feed)
        await graph.start()
        slack = TimedSlack(feed, token=SLACK_TOKEN, users={USER: ATTENDANT})
        await slack.start()
        agent_calls = 0

        async def agent(request: web.Request) -> web.Response:
            nonlocal agent_calls
            agent_calls += 1
            data = await request.json()
            return web.json_response({"reply": f"Certo, anotei: {data.get('message', '')}"})

        async def feed_socket(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse(heartbeat=None)
            await ws.prepare(request)
            feed.sockets.append(ws)
            async for _ in ws:
                pass
            feed.sockets.remove(ws)
            return ws

        async def stats(_request: web.Request) -> web.Response:
            return web.json_response({"graph.send": graph.count, "agent": agent_calls,
                                      **{f"slack.{m}": n for m, n in slack.counts.items()}})

        app = web.Application()
        app.router.add_post("/agent", agent)
        app.router.add_get("/feed", feed_socket)
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        conn.send({"graph": graph.url, "slack": slack.url, "agent": base + "/agent",
                   "feed": base + "/feed", "stats": base + "/stats"})
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_reader(conn.fileno(), stop.set)  # "stop", or the pipe closing
        try:
            await stop.wait()
        finally:
            loop.remove_reader(conn.fileno())
            for ws in list(feed.sockets):
                await ws.close()
            await runner.cleanup()
            await slack.close()
            await graph.stop()

    with contextlib.suppress(EOFError, BrokenPipeError):
        asyncio.run(serve())


class FakesProcess:
    def __init__(self) -> None:
        self.conn, child_conn = Child.ctx.Pipe()
        self.child = Child(fakes_child, child_conn)
        self.urls: dict[str, str] = {}

    def start(self) -> None:
        self.child.start()
        try:
            if not self.conn.poll(30):
                raise RuntimeError("the fakes did not start")
            self.urls = self.conn.recv()
        except EOFError:
            raise RuntimeError(f"the fakes exited with {self.child.proc.exitcode}") from None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.child.join(5)
        self.child.stop()


# ---------------------------------------------------------------- what a cell measured


@dataclass
class Cell:
    path: str
    procs: int
    conversations: int
    seconds: float = 0.0          # the timed part
    latencies: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)  # the inbound request's HTTP answer
    cpu: dict[str, float] = field(default_factory=dict)    # CPU seconds by process kind
    messages: int = 0             # every message answered 2xx, warm-up included
    errors: int = 0
    first_error: str = ""
    redis: dict[str, int] = field(default_factory=dict)    # commandstats delta
    calls: dict[str, int] = field(default_factory=dict)    # fake API calls delta

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def cpu_per_message(self, kind: str) -> float:
        """Microseconds of CPU per message (warm-up and drain included)."""
        return self.cpu.get(kind, 0.0) / self.messages * 1e6 if self.messages else float("nan")

    def redis_per_message(self) -> float:
        return sum(self.redis.values()) / self.messages if self.messages else float("nan")


@dataclass
class Floor:
    kind: str
    conversations: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass
class Monitored:
    """One path's Redis traffic seen through MONITOR: client round trips vs. script work."""

    path: str
    messages: int = 0
    errors: int = 0
    sent: Counter[str] = field(default_factory=Counter)         # commands the service sent
    round_trips: Counter[str] = field(default_factory=Counter)  # by what each one carried
    in_scripts: Counter[str] = field(default_factory=Counter)   # run by Lua inside Redis


@dataclass
class Round:
    """One service set-up (1 or 2 processes): its cells and what was seen around them."""

    procs: int
    cells: list[Cell] = field(default_factory=list)
    idle_per_second: dict[str, float] = field(default_factory=dict)
    leases: dict[str, list[int]] = field(default_factory=dict)  # group -> process of each shard
    setup_seconds: float = 0.0
    monitored: list[Monitored] = field(default_factory=list)
    logged: Counter[str] = field(default_factory=Counter)  # warnings and errors, by event


# ---------------------------------------------------------------- requests


def meta_body(phone: str, wamid: str, text: str) -> bytes:
    """A customer's text as Meta posts it (one entry, one change, contact and message)."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": WABA_ID, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": BUSINESS_NUMBER,
                         "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Cliente Bench"}, "wa_id": phone}],
            "messages": [{"from": phone, "id": wamid, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text}}]}}]}]}).encode()


def thread_reply(text: str, card_ts: str, ts: str) -> dict[str, Any]:
    """The holder's message in a card's thread, as Slack's `message` event carries it."""
    return {"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": USER,
            "text": text, "ts": ts, "thread_ts": card_ts, "event_ts": ts}


class Rig:
    """The client side: the services, the feed of arrivals, Redis and the fakes' counters."""

    def __init__(self, fakes: dict[str, str], redis_url: str) -> None:
        self.urls = fakes
        self.redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.listener: asyncio.Task[None] | None = None
        self.pending: dict[int, tuple[str, asyncio.Future[tuple[float, str]]]] = {}
        self.services: list[Target] = []
        self.cards: dict[str, str] = {}
        self.tokens = itertools.count(1)
        self.turn = itertools.count()
        self.run_id = f"{int(time.time())}"
        self.own: Counter[str] = Counter()  # commands this bench sent to Redis (not counted)
        self.pids: dict[str, int | None] = {}

    async def open(self) -> None:
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                          timeout=aiohttp.ClientTimeout(total=WAIT))
        self.ws = await self.http.ws_connect(self.urls["feed"], heartbeat=None)
        self.listener = asyncio.create_task(self._listen())

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()
        await self.redis.aclose()

    async def _listen(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            kind, token, arrived, target = json.loads(msg.data)
            entry = self.pending.get(token)
            if entry is not None and entry[0] == kind and not entry[1].done():
                entry[1].set_result((arrived, target))

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: the services (together), redis-server, the fakes, this client."""
        return {"service": sum(cpu_seconds(t.proc.pid if t.proc else None)
                               for t in self.services),
                "redis": cpu_seconds(self.pids.get("redis")),
                "fakes": cpu_seconds(self.pids.get("fakes")),
                "client": cpu_seconds(os.getpid())}

    def service(self) -> Target:
        """The services in turn: one request to each, alternately."""
        return self.services[next(self.turn) % len(self.services)]

    def base(self, target: Target) -> str:
        return f"http://127.0.0.1:{target.port}"

    # ---- one message, each path

    async def message(self, path: str, phone: str, text: str
                      ) -> tuple[float, float, float] | str:
        """Send one message on `path`; (sent, answered, arrived) on the monotonic clock (the
        service's HTTP answer read here, the outgoing call at the fake), or a problem."""
        assert self.http is not None
        token = next(self.tokens)
        text = f"{text} BM{token}"
        kind, expect = ("slack", self.cards.get(phone, "?")) if path == "b" else ("graph", phone)
        future: asyncio.Future[tuple[float, str]] = asyncio.get_running_loop().create_future()
        self.pending[token] = (kind, future)
        target = self.service()
        try:
            if path == "c":
                ts = f"{1800000000 + token // 1_000_000}.{token % 1_000_000:06d}"
                body = event_body(thread_reply(text, self.cards[phone], ts),
                                  event_id=f"EvB{self.run_id}{token}")
                headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
                url = self.base(target) + "/slack/events"
            else:
                body = meta_body(phone, f"wamid.BENCH{self.run_id}{token}", text)
                headers = {"Content-Type": "application/json",
                           "X-Hub-Signature-256": meta_signature(APP_SECRET, body)}
                url = self.base(target) + "/webhook/whatsapp"
            sent = time.monotonic()
            try:
                async with self.http.post(url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    if resp.status != 200:
                        return f"{path}: HTTP {resp.status} from {url}: {raw[:200]!r}"
                    if path != "c" and json.loads(raw).get("queued") != 1:
                        return f"{path}: not queued: {raw[:200]!r}"
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                return f"{path}: {type(exc).__name__}: {exc}"
            answered = time.monotonic()
            try:
                arrived, where = await asyncio.wait_for(future, WAIT)
            except TimeoutError:
                return f"{path}: no outgoing {kind} call for BM{token} within {WAIT:g} s"
            if where != expect:
                return f"{path}: BM{token} went to {where!r}, not {expect!r}"
            return sent, answered, arrived
        finally:
            self.pending.pop(token, None)

    # ---- Redis and the fakes' counters

    async def commandstats(self) -> dict[str, int]:
        stats = await self.redis.info("commandstats")
        self.own["info"] += 1
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}

    def delta(self, before: dict[str, int], after: dict[str, int],
              own: Counter[str]) -> dict[str, int]:
        out = {}
        for name, calls in after.items():
            n = calls - before.get(name, 0) - own.get(name, 0)
            if n > 0:
                out[name] = n
        return out

    async def fake_stats(self) -> dict[str, int]:
        assert self.http is not None
        async with self.http.get(self.urls["stats"]) as resp:
            return dict(await resp.json())

    async def settle(self, within: float = 60.0) -> bool:
        """Wait until every queue is drained: the WhatsApp inbox empty (acknowledged entries
        are deleted) and every outbox group handed and acknowledged every entry."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if await self._drained():
                await asyncio.sleep(0.1)  # the last done-marks and acks after the last call
                return True
            await asyncio.sleep(0.05)
        return False

    async def _drained(self) -> bool:
        self.own["xlen"] += 1
        if await self.redis.xlen(f"{PREFIX}wa:inbox"):
            return False
        for shard in range(SHARDS):
            stream = f"{PREFIX}ob:{shard}"
            try:
                self.own["xinfo|stream"] += 1
                last = (await self.redis.xinfo_stream(stream))["last-generated-id"]
                self.own["xinfo|groups"] += 1
                groups = await self.redis.xinfo_groups(stream)
            except ResponseError:
                continue  # no such stream yet: nothing written to this shard
            for g in groups:
                if g["pending"] or g["last-delivered-id"] != last:
                    return False
        return True

    async def leases(self, pids: list[int | None]) -> dict[str, list[int]]:
        """Which process (1, 2; 0 = none) reads each shard of each outbox group."""
        out: dict[str, list[int]] = {}
        for group in GROUPS:
            row = []
            for shard in range(SHARDS):
                self.own["get"] += 1
                owner = str(await self.redis.get(f"{PREFIX}c:outbox:{group}:{shard}") or "")
                pid = int(owner.rsplit("-", 2)[-2]) if owner.count("-") >= 2 else None
                row.append(pids.index(pid) + 1 if pid in pids else 0)
            out[group] = row
        return out


async def limited(n: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run the jobs, at most `n` at a time."""
    gate = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


# ---------------------------------------------------------------- set-up of one round


async def setup_conversations(rig: Rig, agent_phones: list[str], human_phones: list[str]
                              ) -> None:
    """Agent-mode conversations: one message each, answered by the bot. Human-mode ones: the
    customer asks for a person (the card is posted), then the attendant takes over (REST)."""
    assert rig.http is not None
    http = rig.http

    async def first(phone: str) -> None:
        got = await rig.message("a", phone, "Oi, bom dia, qual o prazo de entrega?")
        if isinstance(got, str):
            raise RuntimeError(f"set-up, agent conversation {phone}: {got}")

    async def escalate(phone: str) -> None:
        body = meta_body(phone, f"wamid.BENCHSETUP{rig.run_id}{phone}",
                         "quero falar com um atendente")
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": meta_signature(APP_SECRET, body)}
        async with http.post(rig.base(rig.service()) + "/webhook/whatsapp", data=body,
                             headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"set-up, escalation {phone}: HTTP {resp.status}: "
                                   f"{await resp.text()}")

    async def card(phone: str) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            async with http.get(rig.base(rig.service()) + f"/session/{phone}/status") as resp:
                if resp.status == 200:
                    data = await resp.json()
                    found = (data.get("metadata") or {}).get("slack_card") or {}
                    if data.get("mode") == "paused" and found.get("ts"):
                        rig.cards[phone] = str(found["ts"])
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"set-up: no card for {phone} within {WAIT:g} s")

    async def take(phone: str) -> None:
        async with http.post(rig.base(rig.service()) + f"/session/{phone}/takeover",
                             json={"attendant_id": ATTENDANT}) as resp:
            data = await resp.json(content_type=None)
            if resp.status != 200 or data.get("session", {}).get("mode") != "human":
                raise RuntimeError(f"set-up, takeover {phone}: HTTP {resp.status}: {data}")

    for step, phones in ((first, agent_phones), (escalate, human_phones), (card, human_phones),
                         (take, human_phones)):
        await limited(50, [partial(step, p) for p in phones])
    if not await rig.settle():
        raise RuntimeError("set-up: the queues did not drain within 60 s")


# ---------------------------------------------------------------- one cell


async def run_cell(rig: Rig, path: str, phones: list[str], procs: int, seconds: float,
                   warmup: float) -> Cell:
    cell = Cell(path, procs, len(phones))
    await rig.settle()
    rig.own.clear()
    redis_before, fakes_before = await rig.commandstats(), await rig.fake_stats()
    cpu_before = rig.cpu()
    texts = {"a": "Qual o prazo do pedido", "b": "Ainda estou esperando o pedido",
             "c": "Seu pedido sai hoje, ok?"}
    clock = time.monotonic
    start = clock()
    # Timed from the later of the warm-up's end and the moment every conversation had its first
    # message through (so the opening burst, all conversations at once, is never timed).
    window: list[float] = []
    untimed = len(phones)
    samples: list[tuple[float, float, float]] = []

    async def conversation(phone: str) -> None:
        nonlocal untimed
        first = True
        while not window or clock() < window[1]:
            got = await rig.message(path, phone, texts[path])
            if first:
                first, untimed = False, untimed - 1
                if untimed == 0:
                    begin = max(start + warmup, clock())
                    window.extend([begin, begin + seconds])
            if isinstance(got, str):
                cell.errors += 1
                cell.first_error = cell.first_error or got
                continue
            cell.messages += 1
            samples.append(got)

    await asyncio.gather(*(conversation(p) for p in phones))
    timed_from, until = window
    cell.seconds = until - timed_from
    for sent, answered, arrived in samples:
        if timed_from <= sent < until:
            cell.latencies.append(arrived - sent)
            cell.answers.append(answered - sent)
    if not await rig.settle():
        cell.first_error = cell.first_error or "the queues did not drain within 60 s"
    cell.cpu = {k: v - cpu_before.get(k, 0.0) for k, v in rig.cpu().items()}
    own = Counter(rig.own)
    cell.redis = rig.delta(redis_before, await rig.commandstats(), own)
    after = await rig.fake_stats()
    cell.calls = {k: v - fakes_before.get(k, 0) for k, v in after.items()
                  if v != fakes_before.get(k, 0)}
    return cell


#: Commands this bench sends itself (the service's trim also runs XINFO GROUPS, every 5 s).
OWN_COMMANDS = {"info", "xlen", "xinfo|stream", "xinfo|groups", "monitor"}
#: Commands of one client closer together than this came in one write: a pipeline (or a
#: MULTI/EXEC block), one round trip. A separate round trip from Python takes far longer.
SAME_TRIP = 25e-6
MONITOR_LINE = re.compile(r'^(\d+\.\d+) \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?')


def monitor_line(line: str) -> tuple[float, str, str] | None:
    """(time, client or `lua`, the command as commandstats names it) of one MONITOR line."""
    found = MONITOR_LINE.match(line)
    if found is None:
        return None
    at, who, name, sub = found.groups()
    name = name.lower()
    if name in ("xinfo", "client", "script", "config", "object", "memory") and sub:
        name = f"{name}|{sub.lower()}"
    return float(at), who, name


def round_trips(lines: list[str], seen: Monitored) -> None:
    """Group MONITOR lines into round trips: a client's commands that arrived together."""
    last: tuple[float, str] | None = None
    trip: list[str] = []

    def close() -> None:
        if trip:
            seen.round_trips["+".join(trip)] += 1
            trip.clear()

    for line in lines:
        found = monitor_line(line)
        if found is None or found[2] in OWN_COMMANDS:
            continue
        at, who, name = found
        if who == "lua":
            seen.in_scripts[name] += 1
            continue
        seen.sent[name] += 1
        if last is None or who != last[1] or at - last[0] > SAME_TRIP:
            close()
        trip.append(name)
        last = (at, who)
    close()


async def run_monitored(rig: Rig, redis_url: str, path: str, phones: list[str],
                        per_conversation: int) -> Monitored:
    """`per_conversation` messages on each of `phones` with MONITOR on (not timed): which
    commands the service sends (round trips) and which its Lua scripts run inside Redis."""
    seen = Monitored(path)
    await rig.settle()
    spy = aioredis.Redis.from_url(redis_url, decode_responses=True)
    lines: list[str] = []
    try:
        async with spy.monitor() as monitor:
            connection = monitor.connection
            assert connection is not None

            async def read() -> None:
                while True:
                    lines.append(str(await connection.read_response()))

            reader = asyncio.create_task(read())
            texts = {"a": "Qual o prazo do pedido", "b": "Ainda estou esperando o pedido",
                     "c": "Seu pedido sai hoje, ok?"}

            async def conversation(phone: str) -> None:
                for _ in range(per_conversation):
                    got = await rig.message(path, phone, texts[path])
                    if isinstance(got, str):
                        seen.errors += 1
                    else:
                        seen.messages += 1

            try:
                await asyncio.gather(*(conversation(p) for p in phones))
                await rig.settle()
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
    finally:
        await spy.aclose()
    round_trips(lines, seen)
    return seen


async def run_floor(rig: Rig, kind: str, conversations: int, seconds: float) -> Floor:
    """A bare request to the fake, back to back from `conversations` workers."""
    assert rig.http is not None
    http = rig.http
    floor = Floor(kind, conversations)
    if kind == "graph":
        url = f"{rig.urls['graph']}/{PHONE_NUMBER_ID}/messages"
        headers = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    else:
        url = f"{rig.urls['slack']}/api/chat.postMessage"
        headers = {"Authorization": f"Bearer {SLACK_TOKEN}"}
    clock = time.monotonic
    until = clock() + seconds

    async def worker(i: int) -> None:
        phone = f"55319{i:08d}"
        if kind == "graph":
            body = {"messaging_product": "whatsapp", "recipient_type": "individual",
                    "type": "text", "to": phone,
                    "text": {"body": "Certo, anotei", "preview_url": False}}
        else:
            body = {"channel": CHANNEL, "thread_ts": "1767225601.000100",
                    "text": f"💬 *Cliente Bench ({phone}):* Ainda estou esperando"}
        while clock() < until:
            sent = clock()
            try:
                async with http.post(url, json=body, headers=headers) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except (TimeoutError, aiohttp.ClientError):
                ok = False
            if ok:
                floor.latencies.append(clock() - sent)
            else:
                floor.errors += 1

    await asyncio.gather(*(worker(i) for i in range(conversations)))
    return floor


# ---------------------------------------------------------------- the whole run


def phones_for(kind: int, round_no: int, count: int) -> list[str]:
    """Valid Brazilian mobiles, 13 digits, distinct per kind (agent/human) and round."""
    return [f"55319{kind}{round_no}{i:06d}" for i in range(count)]


async def run(args: argparse.Namespace, rds: BenchRedis, fakes: FakesProcess,
              workdir: Path) -> tuple[list[Round], list[Floor]]:
    rig = Rig(fakes.urls, rds.url)
    rig.pids = {"redis": rds.proc.pid if rds.proc else None, "fakes": fakes.child.proc.pid}
    rounds: list[Round] = []
    floors: list[Floor] = []
    env = {"WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
           "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_URL": fakes.urls["graph"],
           "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": fakes.urls["slack"] + "/api/", "SLACK_ESCALATION_CHANNEL": CHANNEL,
           "AGENT_URL": fakes.urls["agent"], "AGENT_KIND": "json"}
    most = max(args.conversations)
    await rig.open()
    try:
        for kind in sorted({FLOOR_OF[p] for p in args.paths}):
            for n in args.conversations:
                note(f"floor {kind}, {n} concurrent: {args.floor_seconds:g} s")
                floors.append(await run_floor(rig, kind, n, args.floor_seconds))
        for round_no, procs in enumerate(args.processes, 1):
            rnd = Round(procs)
            rounds.append(rnd)
            await rig.redis.flushall()
            rig.services = [service_target(f"service-{procs}p-{k + 1}", rds.url, workdir, **env)
                            for k in range(procs)]
            if args.profile_dir:
                for target in rig.services:
                    target.argv = profiled_argv(
                        target.argv, args.profile_dir.resolve() / f"{target.name}.prof")
            try:
                for target in rig.services:
                    await asyncio.to_thread(target.start)
                agent_phones = phones_for(7, round_no, most)
                human_phones = phones_for(8, round_no, most)
                note(f"{procs} process(es): setting up {most} agent-mode and {most} "
                     "human-mode conversations")
                began = time.monotonic()
                await setup_conversations(rig, agent_phones if "a" in args.paths else [],
                                          human_phones if {"b", "c"} & set(args.paths) else [])
                rnd.setup_seconds = time.monotonic() - began
                rnd.leases = await rig.leases([t.proc.pid if t.proc else None
                                               for t in rig.services])
                rnd.idle_per_second = await idle(rig, args.idle_seconds)
                for path in args.paths:
                    phones = agent_phones if path == "a" else human_phones
                    for n in args.conversations:
                        note(f"{procs} process(es), path {path}, {n} concurrent: "
                             f"{args.warmup:g} s warm-up + {args.seconds:g} s")
                        rnd.cells.append(await run_cell(rig, path, phones[:n], procs,
                                                        args.seconds, args.warmup))
                if round_no == 1 and args.monitor_messages > 0:
                    for path in args.paths:
                        phones = (agent_phones if path == "a" else human_phones)[:10]
                        per = max(1, args.monitor_messages // len(phones))
                        note(f"{procs} process(es), path {path}: {per * len(phones)} messages "
                             "with MONITOR on (round trips vs. script work; not timed)")
                        rnd.monitored.append(await run_monitored(rig, rds.url, path, phones,
                                                                 per))
                for target in rig.services:
                    rnd.logged.update(warnings(target))
            finally:
                for target in rig.services:
                    await asyncio.to_thread(target.stop)
    finally:
        await rig.close()
    return rounds, floors


async def idle(rig: Rig, seconds: float) -> dict[str, float]:
    """Redis commands per second with no traffic at all (leases, blocking reads, monitor)."""
    await rig.settle()
    rig.own.clear()
    before = await rig.commandstats()
    began = time.monotonic()
    await asyncio.sleep(seconds)
    spent = time.monotonic() - began
    own = Counter(rig.own)
    return {k: v / spent for k, v in rig.delta(before, await rig.commandstats(), own).items()}


def warnings(target: Target) -> Counter[str]:
    """The service's warnings and errors, by event name (`level msg`)."""
    found: Counter[str] = Counter()
    for line in target.log_lines('"level": "'):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") in ("warning", "error", "critical"):
            found[f"{record['level']} {record.get('msg')}"] += 1
    return found


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- report


def floor_for(floors: list[Floor], path: str, n: int) -> Floor | None:
    return next((f for f in floors if f.kind == FLOOR_OF[path] and f.conversations == n), None)


def pq(values: list[float]) -> str:
    return f"{percentile(values, 50):7.2f} {percentile(values, 99):7.2f}"


def breakdown(counts: dict[str, int], messages: int, top: int = 12) -> str:
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{k} {v / messages:.2f}" for k, v in items[:top])
    rest = sum(v for _, v in items[top:])
    return shown + (f", others {rest / messages:.2f}" if rest else "")


def report(rounds: list[Round], floors: list[Floor], args: argparse.Namespace) -> None:
    print()
    print(f"machine: {machine()}")
    print(f"cells: {args.warmup:g} s warm-up + {args.seconds:g} s timed; each conversation one "
          "message in flight, the next sent when the previous one's outgoing call arrived; "
          "client, fakes, service(s) and redis-server on the same machine")
    print()
    print("latency = the fake's arrival timestamp - the client's send timestamp (both "
          "time.monotonic, one clock machine-wide); floor = round trip of a bare request to the "
          "same fake from this client at the same concurrency")
    head = (f"{'path':<42} {'procs':>5} {'conv':>5} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'errors':>6}   {'floor p50':>9} {'p99':>7}   {'redis/msg':>9} {'answer p50':>10} "
            f"{'svc CPU':>7}")
    print(head)
    print("-" * len(head))
    for rnd in rounds:
        for c in rnd.cells:
            f = floor_for(floors, c.path, c.conversations)
            fl = pq(f.latencies) if f else "      -       -"
            print(f"{c.path} {PATHS[c.path]:<40} {c.procs:>5} {c.conversations:>5} "
                  f"{c.rate:>7.0f} {pq(c.latencies)} {c.errors:>6}   {fl:>17}   "
                  f"{c.redis_per_message():>9.1f} {percentile(c.answers, 50):>10.2f} "
                  f"{c.cpu_per_message('service'):>7.0f}")
    print()
    print("answer p50 = the inbound request's own HTTP answer (ms); svc CPU = the service "
          "processes' CPU per message (µs). CPU per message, µs (service / redis-server / "
          "fakes / this client; /proc, over each cell):")
    for rnd in rounds:
        for c in rnd.cells:
            print(f"  {c.path} {c.procs}p {c.conversations:>4} conv  " + " / ".join(
                f"{c.cpu_per_message(k):5.0f}" for k in ("service", "redis", "fakes", "client")))
    print()
    print("floors (round trip, ms):")
    for f in floors:
        print(f"  {f.kind:<5} {f.conversations:>4} concurrent  p50/p99 {pq(f.latencies)}  "
              f"({len(f.latencies)} requests, {f.errors} errors; {FLOORS[f.kind]})")
    print()
    print("Redis commands per message, by command (INFO commandstats delta over the path's "
          "cells, warm-up and drain included, / messages; this bench's own INFO/XINFO/XLEN "
          "left out; commands a Lua script runs inside Redis are counted too, under their own "
          "names, and the idle background below is in it):")
    for rnd in rounds:
        for path in PATHS:
            cells = [c for c in rnd.cells if c.path == path]
            if not cells:
                continue
            total: Counter[str] = Counter()
            for c in cells:
                total.update(c.redis)
            msgs = sum(c.messages for c in cells)
            if msgs:
                print(f"  {path} {rnd.procs}p  {sum(total.values()) / msgs:5.1f}/msg: "
                      f"{breakdown(total, msgs)}")
    print()
    for rnd in rounds:
        if not rnd.monitored:
            continue
        print(f"Redis round trips per message, by what each carried ({rnd.procs} process(es); "
              "MONITOR on for a few untimed messages; a pipeline or MULTI/EXEC is one round "
              "trip, `a+b`; the idle background is in it):")
        for m in rnd.monitored:
            if not m.messages:
                print(f"  {m.path}  no messages ({m.errors} errors)")
                continue
            trips = sum(m.round_trips.values()) / m.messages
            sent = sum(m.sent.values()) / m.messages
            inside = sum(m.in_scripts.values()) / m.messages
            print(f"  {m.path}  {trips:5.1f} round trips/msg ({sent:.1f} commands sent, "
                  f"{inside:.1f} more run inside scripts; {m.messages} messages): "
                  f"{breakdown(m.round_trips, m.messages, top=16)}")
            print(f"         inside scripts: {breakdown(m.in_scripts, m.messages, top=10)}")
        print()
    print("Calls to the fakes per message (same cells):")
    for rnd in rounds:
        for path in PATHS:
            cells = [c for c in rnd.cells if c.path == path]
            calls: Counter[str] = Counter()
            for c in cells:
                calls.update(c.calls)
            msgs = sum(c.messages for c in cells)
            if msgs:
                print(f"  {path} {rnd.procs}p  {breakdown(calls, msgs)}")
    print()
    for rnd in rounds:
        idle_total = sum(rnd.idle_per_second.values())
        top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(rnd.idle_per_second.items(),
                                                             key=lambda kv: -kv[1])[:6])
        leases = "; ".join(f"{g} {'/'.join(map(str, row))}" for g, row in rnd.leases.items())
        print(f"{rnd.procs} process(es): set-up {rnd.setup_seconds:.1f} s; idle background "
              f"{idle_total:.1f} Redis commands/s ({top}); outbox shards read by process "
              f"[{leases}]")
        if rnd.logged:
            print("  the service logged: " + ", ".join(
                f"{name} x{n}" for name, n in rnd.logged.most_common(8)))
    for rnd in rounds:
        for c in rnd.cells:
            if c.first_error:
                print(f"\n{c.path} {c.procs}p {c.conversations} conv: {c.errors} errors, first: "
                      f"{c.first_error}")


def summarize(rounds: list[Round], floors: list[Floor]) -> list[str]:
    lines = []
    for rnd in rounds:
        for path in PATHS:
            cells = [c for c in rnd.cells if c.path == path]
            if not cells:
                continue
            parts = []
            for c in cells:
                f = floor_for(floors, path, c.conversations)
                fl = (f" (floor {percentile(f.latencies, 50):.1f}/"
                      f"{percentile(f.latencies, 99):.1f})") if f else ""
                parts.append(f"{c.conversations} conv {percentile(c.latencies, 50):.1f}/"
                             f"{percentile(c.latencies, 99):.1f}{fl}")
            msgs = sum(c.messages for c in cells)
            cmds = sum(sum(c.redis.values()) for c in cells) / msgs if msgs else float("nan")
            errors = sum(c.errors for c in cells)
            lines.append(f"latency {path} {rnd.procs}p p50/p99 ms: " + ", ".join(parts)
                         + f"; {cmds:.1f} Redis cmds/msg, {errors} errors  [{PATHS[path]}]")
    return lines


# ---------------------------------------------------------------- main


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None, summary: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="timed part of each cell")
    parser.add_argument("--warmup", type=float, default=0.5, help="untimed start of each cell")
    parser.add_argument("--floor-seconds", type=float, default=1.0,
                        help="each floor measurement")
    parser.add_argument("--idle-seconds", type=float, default=2.0,
                        help="no traffic, to count Redis's background commands")
    parser.add_argument("--conversations", type=ints, default=[1, 50, 200],
                        help="concurrent conversations, comma-separated")
    parser.add_argument("--processes", type=ints, default=[1, 2],
                        help="service processes sharing Redis, comma-separated")
    parser.add_argument("--paths", default="a,b,c", help="comma-separated subset of a,b,c")
    parser.add_argument("--monitor-messages", type=int, default=60,
                        help="messages per path with MONITOR on, to split round trips from "
                        "script work (1 process, untimed; 0 skips it)")
    parser.add_argument("--profile-dir", type=Path,
                        help="run the services under cProfile and write DIR/service-*.prof "
                        "(the figures are then the profiler's, not the service's; read them "
                        "with `python bench/hotspots.py --show FILE`)")
    parser.add_argument("--quick", action="store_true",
                        help="1 s cells, shorter floors and idle count (noisier)")
    args = parser.parse_args(argv)
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    if not args.paths or set(args.paths) - set(PATHS):
        parser.error("--paths: choose from a, b, c")
    if args.quick:
        args.seconds, args.warmup = min(args.seconds, 1.0), min(args.warmup, 0.3)
        args.floor_seconds, args.idle_seconds = min(args.floor_seconds, 0.5), min(
            args.idle_seconds, 1.0)
    if (args.seconds <= 0 or args.warmup < 0 or not args.conversations
            or min(args.conversations) < 1 or not args.processes or min(args.processes) < 1):
        parser.error("--seconds, --conversations and --processes must be positive")

    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    handle_signals()
    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    rds = BenchRedis()
    fakes = FakesProcess()
    started = time.monotonic()
    try:
        rds.start()
        fakes.start()
        load_before = os.getloadavg()[0]
        rounds, floors = asyncio.run(run(args, rds, fakes, workdir))
        report(rounds, floors, args)
        print(f"\ntook {time.monotonic() - started:.0f} s; 1-minute load average "
              f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (this run's own "
              "processes count too: anything well above 2 means other work shared the cores)")
        if summary is not None:
            summary.extend(summarize(rounds, floors))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        fakes.stop()
        rds.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
