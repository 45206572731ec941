"""Webhook benchmark: `python bench/webhook.py` from the repo root.

Starts its own redis-server on a free loopback port, then measures three targets one after the
other, each a separate process started and stopped by this script:

* `floor`   - `bench/floor.py`: a bare aiohttp route that reads the JSON body and makes one Redis
              EVALSHA of a trivial script, nothing else;
* `redis`   - the real service (`python -m bot`) with `REDIS_URL` pointing at that Redis;
* `memory`  - the real service with no `REDIS_URL` (in-memory store).

Each target gets customer messages (`POST /webhook/whatsapp`, agent mode, no `AGENT_URL`) spread
over `--phones` phones from `--connections` concurrent workers: a warm-up, then `--seconds` of
timed load. It prints requests/s, p50/p99 latency, errors and the ratio to the floor, plus the
Redis commands each service request cost (INFO commandstats delta / requests).

Everything it starts is stopped on exit, error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/webhook.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402

from tests.redis_server import RedisServer, free_port  # noqa: E402

TEXT = "Quero queijo canastra"
# Settings the service reads that would reach outside loopback or change the agent-mode path.
STRIP_PREFIXES = ("HANDOFF_", "AGENT_", "SLACK_", "WHATSAPP_")
STRIP_NAMES = {"REDIS_URL", "HOST", "PORT"}
CPU_TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the bench itself dies (even by SIGKILL). Linux only."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Target:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    path: str
    ready_path: str | None  # GET this until 200; None: wait for the port to accept
    expect: dict[str, Any]  # fields the JSON answer must carry to count as a success
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.log.parent, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   + self.log_tail())
            if self._ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not become ready:\n" + self.log_tail())

    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                if self.ready_path is None:
                    return True
                s.sendall(f"GET {self.ready_path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
                return s.recv(64).split(b" ", 2)[1:2] == [b"200"]
        except (OSError, IndexError):
            return False

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process, from /proc (0 where unavailable)."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CPU_TICK


# ---------------------------------------------------------------- load


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""
    redis_calls: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000


def bodies(phones: int) -> list[bytes]:
    # 13-digit Brazilian mobiles 55 31 9xxxxxxxx: valid phones, one session each.
    return [json.dumps({"phone": f"55319{n:08d}", "message": TEXT,
                        "sender_type": "customer"}).encode() for n in range(phones)]


async def drive(target: Target, payloads: list[bytes], connections: int, seconds: float,
                result: Result | None) -> None:
    """`connections` workers POST back to back for `seconds`; record into `result` if given."""
    counter = iter(range(1 << 62))
    headers = {"Content-Type": "application/json"}
    url = target.url
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)

    async def worker(session: aiohttp.ClientSession) -> None:
        clock = time.perf_counter
        while clock() < deadline:
            body = payloads[next(counter) % len(payloads)]
            start = clock()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
                elapsed = clock() - start
                answer = json.loads(raw) if status == 200 else None
                good = isinstance(answer, dict) and all(
                    answer.get(k) == v for k, v in target.expect.items())
                problem = "" if good else f"HTTP {status}: {raw[:200]!r}"
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                elapsed, problem = clock() - start, f"{type(exc).__name__}: {exc}"
            if result is None:
                continue
            if problem:
                result.errors += 1
                result.first_error = result.first_error or problem
            else:
                result.ok += 1
                result.latencies.append(elapsed)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        if result is not None:
            result.seconds = time.perf_counter() - started


def commandstats(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def measure(target: Target, payloads: list[bytes], args: argparse.Namespace,
            rds: RedisServer, client: redis.Redis) -> Result:
    result = Result(target.name)
    try:
        target.start()
        asyncio.run(drive(target, payloads, args.connections, args.warmup, None))
        before, cpu_before = commandstats(client), _cpu(target, rds)
        asyncio.run(drive(target, payloads, args.connections, args.seconds, result))
        after, cpu_after = commandstats(client), _cpu(target, rds)
    finally:
        target.stop()
    result.redis_calls = {k: after[k] - before.get(k, 0) for k in after
                          if k != "info" and after[k] != before.get(k, 0)}
    result.cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
    return result


def _cpu(target: Target, rds: RedisServer) -> dict[str, float]:
    return {"server": cpu_seconds(target.proc.pid if target.proc else None),
            "redis": cpu_seconds(rds.proc.pid if rds.proc else None),
            "client": cpu_seconds(os.getpid())}


# ---------------------------------------------------------------- report


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True,
                                   text=True, check=False).stdout.split()
    rv = next((w.split("=", 1)[1] for w in redis_version if w.startswith("v=")), "?")
    rev = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True, check=False).stdout.strip() or "?"
    return (f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, code {rev}, "
            f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
            f"redis-py {redis.__version__}, redis-server {rv}")


def report(results: list[Result], args: argparse.Namespace) -> None:
    floor = next((r for r in results if r.name == "floor"), None)
    print()
    print(f"machine: {machine()}")
    print(f"load: {args.connections} connections, {args.phones} phones, "
          f"{args.warmup:g} s warm-up + {args.seconds:g} s per target, client, server and "
          "redis-server on the same machine")
    print()
    head = f"{'target':<8} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} " \
           f"{'vs floor':>9}"
    print(head)
    print("-" * len(head))
    for r in results:
        ratio = f"{r.rps / floor.rps:.0%}" if floor and floor.rps else "-"
        print(f"{r.name:<8} {r.rps:>11.0f} {r.percentile(50):>8.2f} {r.percentile(99):>8.2f} "
              f"{r.errors:>7} {ratio:>9}")
    print()
    print("Redis commands per request (INFO commandstats delta / requests; commands a Lua")
    print("script runs inside Redis are counted too, under their own names):")
    for r in results:
        done = r.ok + r.errors
        if not r.redis_calls or not done:
            print(f"  {r.name:<8} none")
            continue
        round_trips = sum(v for k, v in r.redis_calls.items() if k in ("evalsha", "eval",
                                                                         "script|load"))
        others = ", ".join(f"{k} {v / done:.2f}" for k, v in
                           sorted(r.redis_calls.items(), key=lambda kv: -kv[1]))
        print(f"  {r.name:<8} EVALSHA+EVAL {round_trips / done:.3f}  ({others})")
    print()
    print("CPU time per request, microseconds (from /proc, during the timed run):")
    for r in results:
        done = r.ok + r.errors
        if done:
            parts = "  ".join(f"{k} {v / done * 1e6:6.0f}" for k, v in r.cpu.items())
            print(f"  {r.name:<8} {parts}")
    for r in results:
        if r.errors:
            print(f"\n{r.name}: first error: {r.first_error}")


# ---------------------------------------------------------------- main


def service_env(redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in STRIP_NAMES and not k.startswith(STRIP_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="timed load per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed load first")
    parser.add_argument("--connections", type=int, default=64, help="concurrent workers")
    parser.add_argument("--phones", type=int, default=10_000, help="distinct customer phones")
    parser.add_argument("--targets", default="floor,redis,memory",
                        help="comma-separated subset of floor,redis,memory")
    args = parser.parse_args(argv)
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not wanted or set(wanted) - {"floor", "redis", "memory"}:
        parser.error("--targets: choose from floor, redis, memory")
    if args.seconds <= 0 or args.connections < 1 or args.phones < 1 or args.warmup < 0:
        parser.error("--seconds, --connections and --phones must be positive")

    def on_term(_signum: int, _frame: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # one path: asyncio.run turns SIGINT into a cancel

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, on_term)
    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-"))  # no stray .env in the cwd
    rds = RedisServer()
    client: redis.Redis | None = None
    results: list[Result] = []
    try:
        rds.start()
        client = redis.Redis.from_url(rds.url, decode_responses=True)
        payloads = bodies(args.phones)
        agent = {"should_respond": True, "reason": "agent_active"}
        for name in wanted:
            port = free_port()
            if name == "floor":
                target = Target(name, [sys.executable, str(ROOT / "bench" / "floor.py"),
                                       "--port", str(port), "--redis-url", rds.url],
                                dict(os.environ), port, "/", None, {"ok": True},
                                workdir / "floor.log")
            else:
                target = Target(name, [sys.executable, "-m", "bot", "--host", "127.0.0.1",
                                       "--port", str(port)],
                                service_env(rds.url if name == "redis" else None), port,
                                "/webhook/whatsapp", "/healthz", agent, workdir / f"{name}.log")
            print(f"{name}: {args.warmup:g} s warm-up, {args.seconds:g} s timed ...",
                  file=sys.stderr, flush=True)
            results.append(measure(target, payloads, args, rds, client))
        report(results, args)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
        rds.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
