"""What every benchmark in `bench/` shares: processes, the webhook load loop, percentiles.

* `Target`: one server process (the service or a floor) started, waited for and stopped;
* `BenchRedis`: `tests/redis_server.py`'s `RedisServer`, but in its own session and killed
  with the benchmark (so Ctrl-C reaches it only through our `finally`);
* `Child`: a Python function run in a separate process (`multiprocessing`, spawn), which gets
  SIGTERM if the benchmark dies and ignores the terminal's Ctrl-C (the parent stops it);
* `drive`: the webhook load (`connections` keep-alive workers POSTing back to back);
* `percentile`, `machine`, `service_env`, `cpu_seconds`, `rss_bytes`, `handle_signals`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402

from tests.redis_server import RedisServer, free_port  # noqa: E402

__all__ = ["ROOT", "BenchRedis", "Child", "Result", "Target", "bodies", "commandstats",
           "cpu_seconds", "drive", "free_port", "handle_signals", "machine", "percentile",
           "rss_bytes", "service_env"]

TEXT = "Quero queijo canastra"
# Settings the service reads that would reach outside loopback or change the agent-mode path.
STRIP_PREFIXES = ("HANDOFF_", "AGENT_", "SLACK_", "WHATSAPP_")
STRIP_NAMES = {"REDIS_URL", "HOST", "PORT"}
CPU_TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- processes


def die_with_parent() -> None:
    """In the child: get SIGTERM if the bench itself dies (even by SIGKILL). Linux only."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def handle_signals() -> None:
    """Ctrl-C and SIGTERM both become KeyboardInterrupt, so every `finally` runs."""

    def on_term(_signum: int, _frame: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # one path: asyncio.run turns SIGINT into a cancel

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, on_term)


class BenchRedis(RedisServer):
    """A redis-server on a free loopback port, in its own session, killed with the bench."""

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--save", "", "--appendonly", "no",
                "--maxclients", "10000"]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.cleanup()
        raise RuntimeError("redis-server did not start")

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
                preexec_fn=die_with_parent if sys.platform == "linux" else None)
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

    def log_lines(self, needle: str) -> list[str]:
        """Lines of the log that contain `needle` (e.g. an error event's name)."""
        try:
            return [ln for ln in self.log.read_text(errors="replace").splitlines()
                    if needle in ln]
        except OSError:
            return []

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


def _child_main(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us on Ctrl-C
    fn(*args)


class Child:
    """`fn(*args)` in a separate Python process (spawn: nothing inherited but the arguments)."""

    ctx = multiprocessing.get_context("spawn")

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.proc = self.ctx.Process(target=_child_main, args=(fn, args), daemon=True)

    def start(self) -> Child:
        self.proc.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self.proc.pid is not None:
            self.proc.join(timeout)

    def stop(self) -> None:
        if self.proc.pid is None:
            return
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)


@contextlib.contextmanager
def children(items: Sequence[Child]) -> Iterator[Sequence[Child]]:
    """Start them all; stop whichever are still running on the way out, whatever happens."""
    try:
        for c in items:
            c.start()
        yield items
    finally:
        for c in items:
            c.stop()


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


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default), from /proc/PID/statm."""
    statm = Path(f"/proc/{pid or 'self'}/statm").read_text().split()
    return int(statm[1]) * PAGE


# ---------------------------------------------------------------- load


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds (nan when there are none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


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
        return percentile(self.latencies, q)


def bodies(phones: int) -> list[bytes]:
    # 13-digit Brazilian mobiles 55 31 9xxxxxxxx: valid phones, one session each.
    return [json.dumps({"phone": f"55319{n:08d}", "message": TEXT,
                        "sender_type": "customer"}).encode() for n in range(phones)]


async def drive(url: str, expect: dict[str, Any], payloads: list[bytes], connections: int,
                seconds: float, result: Result | None) -> None:
    """`connections` workers POST back to back for `seconds`; record into `result` if given."""
    counter = iter(range(1 << 62))
    headers = {"Content-Type": "application/json"}
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
                    answer.get(k) == v for k, v in expect.items())
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


def load_in_child(url: str, expect: dict[str, Any], phones: int, connections: int,
                  warmup: float, seconds: float, timed: Any, out: Any) -> None:
    """The webhook load as a `Child`: warm up, set the `timed` event, run, put a Result."""
    payloads = bodies(phones)
    result = Result("load")
    asyncio.run(drive(url, expect, payloads, connections, warmup, None))
    timed.set()
    cpu = cpu_seconds(os.getpid())
    asyncio.run(drive(url, expect, payloads, connections, seconds, result))
    result.cpu = {"client": cpu_seconds(os.getpid()) - cpu}
    out.put(result)


def commandstats(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


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
    try:
        import hiredis

        parser = f"hiredis {hiredis.__version__}"
    except ImportError:
        parser = "no hiredis"
    return (f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, code {rev}, "
            f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
            f"redis-py {redis.__version__} ({parser}), redis-server {rv}")


def service_env(redis_url: str | None, **extra: str) -> dict[str, str]:
    """The environment for `python -m bot`: none of the caller's service settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in STRIP_NAMES and not k.startswith(STRIP_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def service_target(name: str, redis_url: str | None, workdir: Path, **extra: str) -> Target:
    """The real service on a free loopback port, answering agent-mode webhook calls."""
    port = free_port()
    return Target(name, [sys.executable, "-m", "bot", "--host", "127.0.0.1", "--port", str(port)],
                  service_env(redis_url, **extra), port, "/webhook/whatsapp", "/healthz",
                  {"should_respond": True, "reason": "agent_active"}, workdir / f"{name}.log")


def floor_target(redis_url: str, workdir: Path, *extra_args: str) -> Target:
    """`bench/floor.py`: a bare aiohttp route doing one EVALSHA."""
    port = free_port()
    return Target("floor", [sys.executable, str(ROOT / "bench" / "floor.py"), "--port", str(port),
                            "--redis-url", redis_url, *extra_args],
                  dict(os.environ), port, "/", None, {"ok": True}, workdir / "floor.log")
