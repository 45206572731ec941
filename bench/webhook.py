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
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/webhook.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench.common import (  # noqa: E402
    BenchRedis,
    Result,
    Target,
    bodies,
    commandstats,
    cpu_seconds,
    drive,
    floor_target,
    handle_signals,
    machine,
    service_target,
)


def measure(target: Target, payloads: list[bytes], args: argparse.Namespace,
            rds: BenchRedis, client: redis.Redis) -> Result:
    result = Result(target.name)
    try:
        target.start()
        url, expect = target.url, target.expect
        asyncio.run(drive(url, expect, payloads, args.connections, args.warmup, None))
        before, cpu_before = commandstats(client), _cpu(target, rds)
        asyncio.run(drive(url, expect, payloads, args.connections, args.seconds, result))
        after, cpu_after = commandstats(client), _cpu(target, rds)
    finally:
        target.stop()
    result.redis_calls = {k: after[k] - before.get(k, 0) for k in after
                          if k != "info" and after[k] != before.get(k, 0)}
    result.cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
    return result


def _cpu(target: Target, rds: BenchRedis) -> dict[str, float]:
    return {"server": cpu_seconds(target.proc.pid if target.proc else None),
            "redis": cpu_seconds(rds.proc.pid if rds.proc else None),
            "client": cpu_seconds(os.getpid())}


# ---------------------------------------------------------------- report


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


def summarize(results: list[Result]) -> list[str]:
    """One line per target for `python -m bench`'s summary."""
    floor = next((r for r in results if r.name == "floor"), None)
    lines = []
    for r in results:
        if r.name == "floor":
            continue
        ratio = f"{r.rps / floor.rps:.0%} of floor" if floor and floor.rps else "no floor"
        lines.append(f"webhook {r.name:<7} {r.rps:6.0f} req/s, p50 {r.percentile(50):6.2f} ms, "
                     f"p99 {r.percentile(99):6.2f} ms, {r.errors} errors  ({ratio}; aim 80%)")
    if floor:
        lines.append(f"webhook floor   {floor.rps:6.0f} req/s, p50 {floor.percentile(50):6.2f} ms, "
                     f"p99 {floor.percentile(99):6.2f} ms, {floor.errors} errors")
    return lines


def main(argv: list[str] | None = None, summary: list[str] | None = None) -> int:
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

    handle_signals()
    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-"))  # no stray .env in the cwd
    rds = BenchRedis()
    client: redis.Redis | None = None
    results: list[Result] = []
    try:
        rds.start()
        client = redis.Redis.from_url(rds.url, decode_responses=True)
        payloads = bodies(args.phones)
        for name in wanted:
            if name == "floor":
                target = floor_target(rds.url, workdir)
            else:
                target = service_target(name, rds.url if name == "redis" else None, workdir)
            print(f"{name}: {args.warmup:g} s warm-up, {args.seconds:g} s timed ...",
                  file=sys.stderr, flush=True)
            results.append(measure(target, payloads, args, rds, client))
        report(results, args)
        if summary is not None:
            summary.extend(summarize(results))
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
