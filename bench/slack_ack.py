"""Slack ack latency benchmark: `python bench/slack_ack.py` from the repo root.

Slack gives an app 3 s to answer a slash command or a button click (the "ack"); the aim here is
under 100 ms at p99 while the webhook carries `bench/webhook.py`'s load (64 connections).

Starts its own redis-server and a fake Slack Web API (`tests/fakes/slack.py`, in a process of
its own, on loopback), then for each target, one after the other:

* `floor`  - `bench/floor.py --signing-secret`: its `POST /slack/events` checks Slack's signature
             and makes one Redis round trip (a `SET NX`, like the service's delivery claim);
* `redis`  - the real service with Slack on (`SLACK_API_URL` at the fake) and `REDIS_URL`;
* `memory` - the same without `REDIS_URL`.

Each target is measured twice: with no other traffic ("idle"), then while a separate process
sends the webhook load. In both, signed `/status <phone>` slash commands and `Assumir`/`Liberar`
button clicks arrive at `--rate` per second each, on a fixed schedule (a slow answer doesn't
delay the next request), from this process. The figure is the time from sending the request to
reading the answer, seen by this client.

Everything it starts is stopped on exit, error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import queue
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/slack_ack.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402

from bench.common import (  # noqa: E402
    BenchRedis,
    Child,
    Result,
    Target,
    floor_target,
    handle_signals,
    load_in_child,
    machine,
    percentile,
    service_target,
)
from bot.slack.cards import RELEASE, TAKE  # noqa: E402
from tests.fakes.slack import (  # noqa: E402
    FakeSlack,
    action_payload,
    command_body,
    form_payload,
    signed_headers,
)

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
USER = "U0BENCH"
CHANNEL = "C0BENCH"
AIM_MS = 100.0
KINDS = ("command", "click")


# ---------------------------------------------------------------- the fake Slack, in a child


def fake_slack_child(conn: Any) -> None:
    """Serve a FakeSlack: its URL goes out on `conn`; "stats" gets call counts, "stop" ends."""

    async def serve() -> None:
        fake = await FakeSlack(token=TOKEN, users={USER: "bench@empresa.com"}).start()
        conn.send(fake.url)
        try:
            while True:
                if conn.poll():
                    what = conn.recv()
                    if what == "stop":
                        return
                    conn.send({m: len(c) for m, c in fake.calls.items()})
                await asyncio.sleep(0.05)
        finally:
            await fake.close()

    with contextlib.suppress(EOFError, BrokenPipeError):
        asyncio.run(serve())


class SlackProcess:
    def __init__(self) -> None:
        self.conn, child_conn = Child.ctx.Pipe()
        self.child = Child(fake_slack_child, child_conn)
        self.url = ""

    def start(self) -> None:
        self.child.start()
        try:
            if not self.conn.poll(30):
                raise RuntimeError("fake Slack did not start")
            self.url = self.conn.recv()
        except EOFError:
            raise RuntimeError(f"fake Slack exited with {self.child.proc.exitcode}") from None

    def stats(self) -> dict[str, int]:
        self.conn.send("stats")
        if not self.conn.poll(10):
            raise RuntimeError("fake Slack did not answer")
        return dict(self.conn.recv())

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.child.join(5)
        self.child.stop()


# ---------------------------------------------------------------- probes


@dataclass
class Probes:
    target: str
    load: str
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    first_error: str = ""
    webhook: Result | None = None

    def sent(self, kind: str) -> int:
        return len(self.latencies[kind]) + self.errors[kind]


class Requests:
    """Signed Slack requests, each with a trigger id never used before."""

    def __init__(self, response_url: str, phones: int) -> None:
        self.response_url = response_url
        self.phones = phones
        self.run = f"{os.getpid()}-{time.time_ns()}"
        self.n = {k: 0 for k in KINDS}

    def next(self, kind: str) -> bytes:
        i = self.n[kind]
        self.n[kind] += 1
        trigger = f"{self.run}-{kind}-{i}.trigger"
        if kind == "command":  # an existing session of the webhook load, once it has run
            phone = f"55319{i % self.phones:08d}"
            return command_body("/status", phone, user=USER, response_url=self.response_url,
                                channel=CHANNEL, trigger_id=trigger)
        # Click pairs: Assumir then Liberar on a phone of their own (not the webhook's).
        phone = f"55318{(i // 2) % 100_000_000:08d}"
        action = TAKE if i % 2 == 0 else RELEASE
        return form_payload(action_payload(action, phone, user=USER, channel=CHANNEL,
                                           message_ts="1767225600.000100",
                                           response_url=self.response_url,
                                           trigger_id=trigger))


async def probe(url: str, requests: Requests, rate: float, seconds: float,
                probes: Probes) -> None:
    """Send a command and a click `rate` times a second each, on a fixed schedule."""
    interval = 1.0 / (2 * rate)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=10)

    async def one(session: aiohttp.ClientSession, kind: str) -> None:
        body = requests.next(kind)
        headers = signed_headers(SECRET, body)
        start = time.perf_counter()
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
            elapsed = time.perf_counter() - start
            problem = "" if status == 200 else f"{kind}: HTTP {status}: {raw[:200]!r}"
        except (TimeoutError, aiohttp.ClientError) as exc:
            elapsed, problem = 0.0, f"{kind}: {type(exc).__name__}: {exc}"
        if problem:
            probes.errors[kind] += 1
            probes.first_error = probes.first_error or problem
        else:
            probes.latencies[kind].append(elapsed)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # Open a few connections first, so the first probes don't pay for the TCP handshake.
        await asyncio.gather(*(session.get(url.rsplit("/", 2)[0] + "/healthz")
                               for _ in range(4)), return_exceptions=True)
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[None]] = []
        begin = loop.time()
        n = 0
        while (at := begin + n * interval) < begin + seconds:
            await asyncio.sleep(max(0.0, at - loop.time()))
            tasks.append(asyncio.create_task(one(session, KINDS[n % 2])))
            n += 1
        await asyncio.gather(*tasks)


# ---------------------------------------------------------------- one target


def run_load(target: Target, args: argparse.Namespace, probes: Probes,
             requests: Requests) -> None:
    """Probe while a separate process sends the webhook load to the same target."""
    timed, out = Child.ctx.Event(), Child.ctx.Queue()
    load = Child(load_in_child, target.url, target.expect, args.phones, args.connections,
                 args.warmup, args.seconds + 1.0, timed, out)
    try:
        load.start()
        if not timed.wait(60):
            raise RuntimeError("the webhook load did not start")
        time.sleep(0.5)  # probe inside the timed load, not at its edges
        asyncio.run(probe(slack_url(target), requests, args.rate, args.seconds, probes))
        deadline = time.monotonic() + 60
        while probes.webhook is None:
            try:
                probes.webhook = out.get(timeout=1)
            except queue.Empty:
                if not load.proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the webhook load ended without a result") from None
    finally:
        load.stop()


def slack_url(target: Target) -> str:
    return f"http://127.0.0.1:{target.port}/slack/events"


def measure(target: Target, args: argparse.Namespace, fake: SlackProcess,
            client: redis.Redis) -> tuple[Probes, Probes, str]:
    """Idle, then under load; plus a line on the work done after the acks (service only)."""
    idle, loaded = Probes(target.name, "idle"), Probes(target.name, "webhook")
    requests = Requests(fake.url + "/response/bench", args.phones)
    client.flushall()
    before = fake.stats()
    try:
        target.start()
        time.sleep(0.3)  # let the service's start-up auth.test go by
        asyncio.run(probe(slack_url(target), requests, args.rate, args.seconds, idle))
        run_load(target, args, loaded, requests)
        background = ""
        if target.name != "floor":
            background = after_acks(target, fake, before, requests)
    finally:
        target.stop()
    return idle, loaded, background


def after_acks(target: Target, fake: SlackProcess, before: dict[str, int],
               requests: Requests) -> str:
    """Did the work behind the acks happen? Answers to commands, cards for clicks."""
    commands = requests.n["command"]
    deadline = time.monotonic() + 15
    while True:
        now = fake.stats()
        got = {m: now.get(m, 0) - before.get(m, 0) for m in now}
        if got.get("response_url", 0) >= commands or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    failures = sum(len(target.log_lines(f'"{name}"')) for name in (
        "slack_command_failed", "slack_click_failed", "slack_card_failed",
        "slack_answer_failed", "store_unavailable"))
    cards = got.get("chat.postMessage", 0) + got.get("chat.update", 0)
    return (f"{got.get('response_url', 0)}/{commands} command answers posted to response_url, "
            f"{requests.n['click']} clicks -> {cards} card posts/updates, "
            f"{got.get('chat.postEphemeral', 0)} ephemeral answers, "
            f"{failures} failures logged")


# ---------------------------------------------------------------- report


def report(results: list[tuple[Probes, Probes, str]], args: argparse.Namespace) -> None:
    print()
    print(f"machine: {machine()}")
    print(f"probes: /status commands and Assumir/Liberar clicks, {args.rate:g}/s each, "
          f"{args.seconds:g} s per phase; load: {args.connections} connections on the webhook "
          f"from another process; everything on the same machine")
    print()
    head = (f"{'target':<7} {'webhook load':<21} {'kind':<8} {'sent':>5} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    print(head)
    print("-" * len(head))
    for idle, loaded, _ in results:
        for p in (idle, loaded):
            w = p.webhook
            load = (f"{w.rps:5.0f} req/s p99 {w.percentile(99):4.0f}" if w else "none")
            for kind in KINDS:
                lat = p.latencies[kind]
                print(f"{p.target:<7} {load:<21} {kind:<8} {p.sent(kind):>5} "
                      f"{percentile(lat, 50):>8.2f} {percentile(lat, 99):>8.2f} "
                      f"{max(lat, default=float('nan')) * 1000:>8.2f} {p.errors[kind]:>7}")
    print()
    print(f"Aim: p99 under {AIM_MS:g} ms with the webhook under load (Slack's limit is 3000 ms).")
    floor = next((loaded for _, loaded, _ in results if loaded.target == "floor"), None)
    for idle, loaded, background in results:
        if loaded.target == "floor":
            continue
        for kind in KINDS:
            p99 = percentile(loaded.latencies[kind], 99)
            base = f"floor {percentile(floor.latencies[kind], 99):.1f} ms, " if floor else ""
            verdict = "met" if p99 < AIM_MS and not loaded.errors[kind] else "NOT met"
            print(f"  {loaded.target:<7} {kind:<8} p99 {p99:7.1f} ms under load  ({base}"
                  f"idle {percentile(idle.latencies[kind], 99):.1f} ms): {verdict}")
        if background:
            print(f"  {loaded.target:<7} after the acks: {background}")
    for idle, loaded, _ in results:
        for p in (idle, loaded):
            if p.first_error:
                print(f"\n{p.target} ({p.load}): first error: {p.first_error}")
            if p.webhook and p.webhook.errors:
                print(f"\n{p.target} webhook load: {p.webhook.errors} errors, first: "
                      f"{p.webhook.first_error}")


def summarize(results: list[tuple[Probes, Probes, str]]) -> list[str]:
    floor = next((loaded for _, loaded, _ in results if loaded.target == "floor"), None)
    lines = []
    for idle, loaded, _ in results:
        if loaded.target == "floor":
            continue
        for kind in KINDS:
            lat = loaded.latencies[kind]
            fl = f"floor p99 {percentile(floor.latencies[kind], 99):.1f} ms, " if floor else ""
            lines.append(
                f"slack ack {loaded.target:<6} {kind:<7} under load p50 "
                f"{percentile(lat, 50):6.1f} ms, p99 {percentile(lat, 99):6.1f} ms, "
                f"{loaded.errors[kind]} errors  ({fl}idle p99 "
                f"{percentile(idle.latencies[kind], 99):.1f} ms; aim < {AIM_MS:g} ms)")
    return lines


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None, summary: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="probing per phase")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="commands per second, and as many clicks")
    parser.add_argument("--warmup", type=float, default=2.0, help="webhook load before probing")
    parser.add_argument("--connections", type=int, default=64, help="webhook load workers")
    parser.add_argument("--phones", type=int, default=10_000, help="webhook load phones")
    parser.add_argument("--targets", default="floor,redis,memory",
                        help="comma-separated subset of floor,redis,memory")
    args = parser.parse_args(argv)
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not wanted or set(wanted) - {"floor", "redis", "memory"}:
        parser.error("--targets: choose from floor, redis, memory")
    if args.seconds <= 0 or args.rate <= 0 or args.connections < 1 or args.phones < 1:
        parser.error("--seconds, --rate, --connections and --phones must be positive")

    handle_signals()
    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    rds = BenchRedis()
    fake = SlackProcess()
    client: redis.Redis | None = None
    results: list[tuple[Probes, Probes, str]] = []
    try:
        rds.start()
        fake.start()
        client = redis.Redis.from_url(rds.url, decode_responses=True)
        slack_env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                     "SLACK_API_URL": fake.url + "/api/", "SLACK_ESCALATION_CHANNEL": CHANNEL}
        for name in wanted:
            if name == "floor":
                target = floor_target(rds.url, workdir, "--signing-secret", SECRET)
            else:
                target = service_target(name, rds.url if name == "redis" else None, workdir,
                                        **slack_env)
            print(f"{name}: {args.seconds:g} s idle, {args.warmup:g} s load warm-up, "
                  f"{args.seconds:g} s under load ...", file=sys.stderr, flush=True)
            results.append(measure(target, args, fake, client))
        report(results, args)
        if summary is not None:
            summary.extend(summarize(results))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
        fake.stop()
        rds.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
