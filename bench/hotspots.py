"""Where the service's time goes: `python bench/hotspots.py` from the repo root.

Starts its own redis-server and one `python -m bot` process under cProfile
(`python -m cProfile -o FILE -m bot ...`, the service otherwise exactly as `bench/webhook.py`
runs it: Redis store, agent mode, no `AGENT_URL`), sends `bench/webhook.py`'s load (customer
messages on `POST /webhook/whatsapp`, `--connections` workers back to back) for `--seconds`,
stops it with SIGTERM (so cProfile writes its file) and prints:

* the busy time by where the code lives (this repo's `bot/` and `handoff/`, aiohttp, redis-py,
  logging, json, asyncio, ...), as a share of the time not spent waiting in `epoll`;
* the functions with the most own time (`tottime`), and this repo's functions with the most
  cumulative time.

cProfile slows every Python call down (by about half here), so read shares, not absolute
figures. `--show FILE` prints a saved profile instead (for example one written by
`python bench/latency.py --profile-dir DIR`); `--keep FILE` keeps this run's.

`--py-spy` samples the service with py-spy (`pip install py-spy`) instead: the service runs at
full speed and C calls are not overstated, but time in C shows under the Python function that
called it. It prints the same three tables from the samples (`--keep` keeps them, in py-spy's
`raw` collapsed-stack format with full file names; `--show` reads such a file too).
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/hotspots.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    BenchRedis,
    Result,
    bodies,
    drive,
    handle_signals,
    machine,
    service_target,
)


def waiting(name: str) -> bool:
    """The event loop waiting for something to happen (not work)."""
    return "of 'select.epoll' objects" in name or "of 'select.poll' objects" in name


def profiled_argv(argv: list[str], out: Path) -> list[str]:
    """`python -m bot ...` → `python -m cProfile -o out -m bot ...`."""
    assert argv[1:3] == ["-m", "bot"], argv
    return [argv[0], "-m", "cProfile", "-o", str(out), *argv[1:]]


def area(filename: str) -> str:
    """Where a function's code lives, coarsely."""
    if filename == "~":
        return "builtins (C)"
    path = filename.replace("\\", "/")
    root = str(ROOT).replace("\\", "/") + "/"
    if path.startswith(root):
        return path[len(root):].split("/", 1)[0] + "/ (this repo)"
    for name in ("aiohttp", "redis", "slack_bolt", "slack_sdk", "pydantic", "prometheus_client",
                 "multidict", "yarl", "hiredis"):
        if f"/{name}/" in path:
            return name
    stdlib = path.rsplit("/", 1)[-1].removesuffix(".py")
    if "/asyncio/" in path:
        return "asyncio"
    if "/logging/" in path:
        return "logging"
    if "/json/" in path:
        return "json"
    return f"stdlib/other ({stdlib})" if "python3" in path else "other"


def show(profile: Path, top: int) -> None:
    stats = pstats.Stats(str(profile))
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    idle = sum(v[2] for k, v in raw.items() if waiting(k[2]))
    busy = total - idle
    print(f"profile: {profile}")
    print(f"profiled time {total:.2f} s, of which waiting in epoll {idle:.2f} s; busy "
          f"{busy:.2f} s (the shares below are of the busy time)")
    print()
    print("busy time by where the code lives (own time, tottime):")
    by_area: Counter[str] = Counter()
    for (filename, _line, name), v in raw.items():
        if waiting(name):
            continue
        key = area(filename)
        if key == "builtins (C)":  # attribute C calls to what they are
            key = ("json (C)" if "json" in name or "scanner" in name
                   else "sockets/ssl (C)" if any(w in name for w in ("send", "recv", "sock"))
                   else "builtins (C)")
        by_area[key] += v[2]
    for key, t in by_area.most_common(14):
        print(f"  {t / busy:6.1%}  {key}")
    print()
    print(f"top {top} functions by own time (tottime):")
    rows = sorted(((v[2], v[3], v[1], k) for k, v in raw.items() if not waiting(k[2])),
                  reverse=True)[:top]
    for tottime, cumtime, calls, (filename, line, name) in rows:
        where = filename.replace(str(ROOT) + "/", "")
        where = where.split("site-packages/", 1)[-1]
        print(f"  {tottime / busy:6.1%} own {cumtime / busy:6.1%} cum {calls:>9}  "
              f"{name}  ({where}:{line})")
    print()
    print(f"top {top} of this repo's functions by cumulative time (share of busy time; "
          "nested calls counted in each caller):")
    mine = [(v[3], v[2], v[1], k) for k, v in raw.items()
            if k[0].startswith(str(ROOT)) and "/bench/" not in k[0]]
    for cumtime, tottime, calls, (filename, line, name) in sorted(mine, reverse=True)[:top]:
        where = filename.replace(str(ROOT) + "/", "")
        print(f"  {cumtime / busy:6.1%} cum {tottime / busy:6.1%} own {calls:>8}  "
              f"{name}  ({where}:{line})")


def _is_collapsed(path: Path) -> bool:
    """py-spy's raw format is text (`frame;frame;... count` lines); cProfile's is marshal."""
    with path.open("rb") as f:
        head = f.read(4096)
    try:
        first = head.decode().splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return False
    return first.rpartition(" ")[2].isdigit()


def _function(frame: str) -> tuple[str, str]:
    """`name (path/file.py:12)` -> (`name`, `path/file.py`): a function's lines counted together."""
    name, _, where = frame.rpartition(" (")
    return name, re.sub(r":\d+\)$", "", where).removesuffix(")")


def show_samples(samples: Path, top: int) -> None:
    """The tables of `show`, from py-spy's collapsed stacks (idle samples are not recorded)."""
    own: Counter[tuple[str, str]] = Counter()
    within: Counter[tuple[str, str]] = Counter()
    total = 0
    for line in samples.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_function(f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            within[frame] += int(count)
    if not total:
        print(f"{samples}: no samples")
        return
    print(f"samples: {samples}, {total} while busy")
    print()
    print("busy time by where the code lives (own samples):")
    by_area: Counter[str] = Counter()
    for (_name, where), n in own.items():
        by_area[area(where)] += n
    for key, n in by_area.most_common(14):
        print(f"  {n / total:6.1%}  {key}")
    print()
    print(f"top {top} functions by own samples (C calls count for the function calling them):")
    for (name, where), n in own.most_common(top):
        print(f"  {n / total:6.1%} own {within[(name, where)] / total:6.1%} in  {name}  "
              f"({_short(where)})")
    print()
    print(f"top {top} of this repo's functions by samples with them on the stack:")
    mine = [(n, name, where) for (name, where), n in within.items()
            if where.startswith(str(ROOT)) and "/bench/" not in where]
    for n, name, where in sorted(mine, reverse=True)[:top]:
        print(f"  {n / total:6.1%} in  {name}  ({_short(where)})")


def _short(path: str) -> str:
    return path.replace(str(ROOT) + "/", "").split("site-packages/", 1)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="timed load")
    parser.add_argument("--warmup", type=float, default=1.0, help="load before the timed run")
    parser.add_argument("--connections", type=int, default=64, help="concurrent workers")
    parser.add_argument("--phones", type=int, default=10_000, help="distinct customer phones")
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    parser.add_argument("--show", type=Path, help="print this saved profile and stop")
    parser.add_argument("--keep", type=Path, help="also save this run's profile here")
    parser.add_argument("--py-spy", action="store_true",
                        help="sample with py-spy instead of running under cProfile")
    args = parser.parse_args(argv)
    if args.show:
        (show_samples if _is_collapsed(args.show) else show)(args.show, args.top)
        return 0
    if args.py_spy and shutil.which("py-spy") is None:
        parser.error("--py-spy: py-spy is not on the PATH (pip install py-spy)")

    handle_signals()
    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    rds = BenchRedis()
    out = workdir / ("service.txt" if args.py_spy else "service.prof")
    try:
        rds.start()
        target = service_target("profiled", rds.url, workdir)
        if not args.py_spy:
            target.argv = profiled_argv(target.argv, out)
        result = Result("profiled")
        sampler = None
        try:
            target.start()
            payloads = bodies(args.phones)
            asyncio.run(drive(target.url, target.expect, payloads, args.connections,
                              args.warmup, None))
            if args.py_spy:
                assert target.proc is not None
                sampler = subprocess.Popen(
                    ["py-spy", "record", "--pid", str(target.proc.pid), "--duration",
                     str(max(1, round(args.seconds))), "--rate", "250", "--format", "raw",
                     "--nonblocking", "--full-filenames", "--output", str(out)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE)
            asyncio.run(drive(target.url, target.expect, payloads, args.connections,
                              args.seconds, result))
            if sampler is not None:
                _, err = sampler.communicate(timeout=30)
                if sampler.returncode:
                    print("py-spy failed:\n" + err.decode(errors="replace"), file=sys.stderr)
                    return 1
        finally:
            if sampler is not None and sampler.poll() is None:
                sampler.kill()
                sampler.wait()
            target.stop()
        deadline = time.monotonic() + 10
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not out.exists():
            print("the service wrote no profile:\n" + target.log_tail(), file=sys.stderr)
            return 1
        print(f"machine: {machine()}")
        how = "sampled by py-spy" if args.py_spy else "under cProfile"
        print(f"load: bench/webhook.py's, {args.connections} connections, {args.warmup:g} s + "
              f"{args.seconds:g} s: {result.rps:.0f} req/s {how}, p50 "
              f"{result.percentile(50):.2f} ms, {result.errors} errors"
              + (f" (first: {result.first_error})" if result.errors else ""))
        print()
        (show_samples if args.py_spy else show)(out, args.top)
        if args.keep:
            shutil.copy(out, args.keep)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        rds.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
