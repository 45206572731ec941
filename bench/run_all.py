"""Every benchmark, one after the other: `python -m bench` (or `python bench/run_all.py`).

Runs `webhook`, `slack_ack`, `latency`, `race` and `memory` with defaults chosen so the whole
thing ends in a few minutes on 2 cores, prints each one's report as it finishes, then a summary
with every figure beside its floor and its aim. `--quick` shortens the timed phases (noisier
figures). Each benchmark starts and stops its own processes; one failing doesn't stop the others.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run_all.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from bench import latency, memory, race, slack_ack, webhook  # noqa: E402
from bench.common import handle_signals, machine  # noqa: E402

Main = Callable[[list[str], list[str]], int]


def plan(quick: bool) -> list[tuple[str, Main, list[str]]]:
    seconds = "3" if quick else "8"
    return [
        ("webhook", webhook.main, ["--seconds", seconds, "--warmup", "2"]),
        ("slack_ack", slack_ack.main, ["--seconds", "4" if quick else "6", "--warmup", "2"]),
        ("latency", latency.main, ["--quick"] if quick else ["--seconds", "2"]),
        ("race", race.main, ["--rounds", "3"]),
        ("memory", memory.main, ["--sessions", "100000"]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timed phases")
    parser.add_argument("--only", default="", help="comma-separated subset of "
                        "webhook,slack_ack,latency,race,memory")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    handle_signals()
    summary: list[str] = []
    failed: list[str] = []
    started = time.monotonic()
    for name, run, bench_args in plan(args.quick):
        if only and name not in only:
            continue
        print(f"\n==================== {name}: python bench/{name}.py {' '.join(bench_args)}",
              flush=True)
        try:
            code = run(bench_args, summary)
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        except Exception:
            traceback.print_exc()
            code = 1
        if code == 130:
            return 130
        if code:
            failed.append(f"{name} (exit {code})")
    print("\n==================== summary")
    print(f"machine: {machine()}")
    print(f"took {time.monotonic() - started:.0f} s")
    for line in summary:
        print(f"  {line}")
    if failed:
        print(f"  FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
