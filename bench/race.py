"""Takeover race benchmark: `python bench/race.py` from the repo root.

The contract: exactly one of any number of concurrent takeovers wins, across processes sharing
Redis. This starts its own redis-server and `--processes` (4) separate OS processes, each with its
own `RedisStore` and `SessionManager`. Each process opens its connections, runs one warm-up
takeover (so the script is loaded), then waits at a barrier; released together, each fires
`--per-process` (250) concurrent `manager.takeover(phone, attendant)` calls spread over the same
`--phones` (100) phones, every call under a different attendant. The winners (outcome CHANGED)
must be exactly one per phone: 100. Checked afterwards in Redis too: each phone's holder is
its winner, and its history holds exactly one takeover.

Floor: the same processes, released the same way, each fire as many concurrent `EVALSHA`s of a
trivial script (`return ARGV[1]`) through the same client library: what 1,000 concurrent round
trips cost here, so the takeovers' time has something to stand beside.

`--rounds` (3) repeats it with fresh phones. Everything it starts is stopped on exit, error,
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/race.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench.common import BenchRedis, Child, children, handle_signals, machine  # noqa: E402

TRIVIAL = "return ARGV[1]"


@dataclass
class Run:
    """What one process saw in one phase."""

    index: int
    start: float = 0.0  # time.monotonic(): CLOCK_MONOTONIC, the same clock in every process
    end: float = 0.0
    winners: list[tuple[str, str]] = field(default_factory=list)  # (phone, attendant)
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def racer(redis_url: str, index: int, phones: list[str], per_process: int, pool: int | None,
          barrier: Any, out: Any) -> None:
    """One process: floor burst, then takeover burst, each released by the shared barrier.

    `pool`: the client's connection pool size; None: the store exactly as the service builds it.
    """
    import redis.asyncio as aioredis

    from handoff.machine import Outcome
    from handoff.manager import SessionManager
    from handoff.store.redis import RedisStore
    from handoff.store.redis_claims import RedisClaims

    async def race() -> None:
        client = None if pool is None else aioredis.Redis.from_url(
            redis_url, decode_responses=True, socket_timeout=5, socket_connect_timeout=3,
            max_connections=pool)  # the service's options, with a pool this size
        store = RedisStore(redis_url, client=client)
        manager = SessionManager(store, RedisClaims(store.redis))
        trivial = store.redis.register_script(TRIVIAL)
        loop = asyncio.get_running_loop()
        try:
            # Open the connections now (one per concurrent call), load both scripts.
            await asyncio.gather(*(store.redis.ping() for _ in range(per_process)),
                                 return_exceptions=True)  # beyond the pool's size: refused
            await trivial(keys=[], args=["warm"])
            await manager.takeover(f"55317{index:08d}", "warmup@empresa.com")

            # The floor: as many concurrent trivial EVALSHAs, released together.
            await loop.run_in_executor(None, barrier.wait)
            run = Run(index, start=time.monotonic())
            floor = await asyncio.gather(*(trivial(keys=[], args=[str(i)])
                                           for i in range(per_process)),
                                         return_exceptions=True)
            run.end = time.monotonic()
            run.errors = [repr(x) for x in floor if isinstance(x, BaseException)]
            out.put(("floor", run))

            # The race.
            await loop.run_in_executor(None, barrier.wait)
            run = Run(index, start=time.monotonic())
            attendants = [f"atendente-{index}-{i}@empresa.com" for i in range(per_process)]
            calls = [manager.takeover(phones[i % len(phones)], attendants[i], source="rest")
                     for i in range(per_process)]
            results = await asyncio.gather(*calls, return_exceptions=True)
            run.end = time.monotonic()
            for i, r in enumerate(results):
                if isinstance(r, BaseException):
                    run.errors.append(repr(r))
                    continue
                run.outcomes[r.outcome.value] = run.outcomes.get(r.outcome.value, 0) + 1
                if r.outcome is Outcome.CHANGED:
                    run.winners.append((phones[i % len(phones)], attendants[i]))
            out.put(("race", run))
        finally:
            await store.close()

    asyncio.run(race())


@dataclass
class Round:
    number: int
    phones: list[str]
    pool: int | None
    floor: list[Run] = field(default_factory=list)
    race: list[Run] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @staticmethod
    def wall(runs: list[Run]) -> float:
        return max(r.end for r in runs) - min(r.start for r in runs)

    @staticmethod
    def skew(runs: list[Run]) -> float:
        return max(r.start for r in runs) - min(r.start for r in runs)

    @property
    def winners(self) -> list[tuple[str, str]]:
        return [w for r in self.race for w in r.winners]

    @property
    def errors(self) -> list[str]:
        return [e for r in self.race for e in r.errors]

    @property
    def floor_errors(self) -> list[str]:
        return [e for r in self.floor for e in r.errors]

    def outcomes(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for r in self.race:
            for k, v in r.outcomes.items():
                total[k] = total.get(k, 0) + v
        return total


def run_round(number: int, args: argparse.Namespace, url: str, client: redis.Redis,
              pool: int | None) -> Round:
    phones = [f"5531{number:03d}{n:06d}" for n in range(args.phones)]
    rnd = Round(number, phones, pool)
    barrier = Child.ctx.Barrier(args.processes)
    out = Child.ctx.Queue()
    procs = [Child(racer, url, i, phones, args.per_process, pool, barrier, out)
             for i in range(args.processes)]
    with children(procs):
        deadline = time.monotonic() + 120
        while len(rnd.floor) + len(rnd.race) < 2 * args.processes:
            try:
                phase, run = out.get(timeout=1)
            except queue.Empty:
                if time.monotonic() > deadline or any(
                        p.proc.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("a racing process failed or hung") from None
                continue
            (rnd.floor if phase == "floor" else rnd.race).append(run)
        for p in procs:
            p.join(10)
    verify(rnd, client)
    return rnd


def verify(rnd: Round, client: redis.Redis) -> None:
    """Exactly one winner per phone; Redis agrees on the holder and on the history."""
    by_phone: dict[str, list[str]] = {}
    for phone, attendant in rnd.winners:
        by_phone.setdefault(phone, []).append(attendant)
    several = [p for p, w in by_phone.items() if len(w) > 1]
    none = [p for p in rnd.phones if p not in by_phone]
    pipe = client.pipeline(transaction=False)
    for phone in rnd.phones:
        pipe.hget(f"handoff:s:{phone}", "h")
        pipe.lrange(f"handoff:e:{phone}", 0, -1)
    raw = pipe.execute()
    wrong_holder = [p for p, holder in zip(rnd.phones, raw[::2], strict=True)
                    if by_phone.get(p, [None])[0] != holder]
    wrong_history = [p for p, events in zip(rnd.phones, raw[1::2], strict=True)
                     if [e for e in events if '"event":"takeover"' in e] != events
                     or len(events) != 1]
    for label, bad in (("phones with more than one winner", several),
                       ("phones with no winner", none),
                       ("phones whose holder in Redis is not the winner", wrong_holder),
                       ("phones whose history is not exactly one takeover", wrong_history)):
        if bad:
            rnd.checks.append(f"{label}: {len(bad)} (e.g. {bad[0]})")


def clean(r: Round, args: argparse.Namespace) -> bool:
    return len(r.winners) == args.phones and not r.checks and not r.errors


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    total = args.processes * args.per_process
    print()
    print(f"machine: {machine()}")
    print(f"race: {args.processes} processes x {args.per_process} concurrent takeovers = {total} "
          f"per round, over the same {args.phones} phones; each process has its own "
          "RedisStore + SessionManager")
    print()
    head = (f"{'round':>5} {'pool':>8} {'winners':>8} {'expected':>9} {'conflict':>9} "
            f"{'errors':>7} {'race ms':>8} {'floor ms':>9} {'start skew ms':>14}")
    print(head)
    print("-" * len(head))
    for r in rounds:
        o = r.outcomes()
        pool = "service" if r.pool is None else str(r.pool)
        print(f"{r.number:>5} {pool:>8} {len(r.winners):>8} {args.phones:>9} "
              f"{o.get('conflict', 0):>9} {len(r.errors):>7} {Round.wall(r.race) * 1000:>8.1f} "
              f"{Round.wall(r.floor) * 1000:>9.1f} {Round.skew(r.race) * 1000:>14.1f}")
    print()
    print("pool: the Redis connection pool of each process: sized for every call to be in "
          "flight at once,\n  or 'service': the store exactly as the service builds it "
          "(redis-py's default pool).")
    print(f"race ms: from the first process leaving the barrier to the last takeover answered "
          f"({total} takeovers);\n  floor ms: the same for {total} trivial EVALSHAs "
          "from the same processes and pools.")
    sized = [r for r in rounds if r.pool is not None]
    good = bool(sized) and all(clean(r, args) for r in sized)
    print(f"Exactly {args.phones} winners every round, one per phone, Redis agreeing, no errors: "
          f"{'yes' if good else 'NO'}")
    for r in rounds:
        for line in r.checks:
            print(f"  round {r.number}: {line}")
        if r.errors:
            print(f"  round {r.number}: {len(r.errors)} takeovers failed, first: {r.errors[0]}")
        if r.floor_errors:
            print(f"  round {r.number}: {len(r.floor_errors)} floor EVALSHAs failed, first: "
                  f"{r.floor_errors[0]}")


def summarize(rounds: list[Round], args: argparse.Namespace) -> list[str]:
    total = args.processes * args.per_process
    sized = [r for r in rounds if r.pool is not None]
    lines = []
    if sized:
        winners = ", ".join(str(len(r.winners)) for r in sized)
        ok = all(clean(r, args) for r in sized)
        race = sorted(Round.wall(r.race) * 1000 for r in sized)
        floor = sorted(Round.wall(r.floor) * 1000 for r in sized)
        lines.append(
            f"takeover race  winners {winners} (must be {args.phones}: "
            f"{'met' if ok else 'NOT met'}); {total} takeovers in {race[len(race) // 2]:.0f} ms "
            f"(floor: {total} trivial EVALSHAs in {floor[len(floor) // 2]:.0f} ms)")
    for r in rounds:
        if r.pool is None:
            lines.append(f"takeover race, service's default Redis pool: winners {len(r.winners)}, "
                         f"{len(r.errors)} of {total} takeovers failed"
                         + (f" ({r.errors[0][:80]})" if r.errors else ""))
    return lines


def main(argv: list[str] | None = None, summary: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--per-process", type=int, default=250, help="concurrent takeovers each")
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds with a pool as large as --per-process")
    parser.add_argument("--service-pool-rounds", type=int, default=1,
                        help="then rounds with the store exactly as the service builds it")
    args = parser.parse_args(argv)
    if min(args.processes, args.per_process, args.phones, args.rounds) < 1 or \
            args.service_pool_rounds < 0:
        parser.error("every count must be positive")
    if args.phones > 1_000_000 or args.rounds + args.service_pool_rounds > 999:
        parser.error("--phones at most 1000000, at most 999 rounds")

    handle_signals()
    rds = BenchRedis()
    client: redis.Redis | None = None
    rounds: list[Round] = []
    plan = [args.per_process] * args.rounds + [None] * args.service_pool_rounds
    try:
        rds.start()
        client = redis.Redis.from_url(rds.url, decode_responses=True)
        for n, pool in enumerate(plan, 1):
            print(f"race round {n}/{len(plan)} ...", file=sys.stderr, flush=True)
            rounds.append(run_round(n, args, rds.url, client, pool))
        report(rounds, args)
        if summary is not None:
            summary.extend(summarize(rounds, args))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
        rds.cleanup()
    return 0 if all(clean(r, args) for r in rounds if r.pool is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
