"""Run the benchmarks and print (and save) the table.

    python -m tests.benchmarks                 # the full run, about 15 minutes
    python -m tests.benchmarks --smoke         # tiny sizes, seconds (run by the tests)
    python -m tests.benchmarks --only W1,W5 --out results.json

The peers of W1 (python-statemachine, SpiffWorkflow) come with the ``bench``
extra (``pip install -e '.[dev,bench]'``); without them those rows are skipped.
PostgreSQL workloads (W4) run when CSWORK_TEST_PG_DSN (or CSWORK_BENCH_PG_DSN)
names a server.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from . import (
    concurrency,
    console,
    counters,
    flatness,
    profile,
    report_workload,
    validation,
)
from . import workloads as w


class Sizes:
    """The sizes of this run (full or smoke), remembering which were used."""

    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.runs = 1 if smoke else 3
        self.used: dict[str, int] = {"runs": self.runs}

    def __call__(self, name: str, full: int, smoke: int) -> int:
        """The size called ``name``: ``full`` in a full run, ``smoke`` in a smoke run."""
        self.used[name] = smoke if self.smoke else full
        return self.used[name]


Runner = Callable[[Sizes], list[w.Row]]


def _w4(z: Sizes) -> list[w.Row]:
    dsn = os.environ.get("CSWORK_BENCH_PG_DSN") or os.environ.get("CSWORK_TEST_PG_DSN")
    if not dsn:
        print("W4 skipped: set CSWORK_TEST_PG_DSN to a PostgreSQL server",
              file=sys.stderr)  # fmt: skip
        return []
    from . import pg_workloads

    return pg_workloads.w4(dsn, z("W4", 400, 10), z("W4_timers", 20_000, 300), z.runs)


def _w6_sizes(largest: int) -> list[int]:
    """Four definition sizes up to ``largest``, to show validation grows linearly."""
    return sorted({largest // 10, largest // 5, largest * 2 // 5, largest})


def _w8(z: Sizes) -> list[w.Row]:
    alone = z("W8_alone", 1_000, 40)
    sizes = {
        "threads": z("W8_threads", 20, 4),
        "requests": z("W8_requests", 200, 10),
        "alone": alone,
        "preload": alone // 2,
        "idle": alone,
    }
    return concurrency.w8(sizes, w.WORKFLOWS)


#: The workloads in running order: (name for --only, runner). One line each;
#: a runner asks ``z(name, full size, smoke size)`` for its sizes.
WORKLOADS: list[tuple[str, Runner]] = [
    ("W1", lambda z: w.w1(z("W1", 2_000, 20), z.runs, z("W1_serialised", 200, 2))),
    ("W2", lambda z: w.w2(z("W2", 400, 10), z.runs)),
    ("counters", lambda z: counters.w2_counters(z("counters", 200, 3))),
    ("profile", lambda z: profile.profile(z("profile", 500, 5))),
    ("flat", lambda z: flatness.flat(z("flat_age", 1_000, 20), z("flat_steps", 200, 8), z.runs)),
    ("membatch", lambda z: flatness.memory_batch(z("membatch", 1_000, 20), z.runs)),
    ("W3", lambda z: w.w3(z("W3", 1_000_000, 2_000), z("W3_fire", 100_000, 500), z.runs)),
    ("W4", _w4),
    ("W5", lambda z: w.w5(z("W5", 100, 5), z.runs)),
    ("memory", lambda z: w.memory_per_case(z("memory", 2_000, 50))),
    ("W6", lambda z: validation.w6(_w6_sizes(z("W6", 10_000, 300)), z.runs)),
    ("W7", lambda z: report_workload.w7(z("W7", 100_000, 300), z("W7_small", 10_000, 100), z.runs)),
    ("W8", _w8),
    ("W9", lambda z: console.w9(z("W9", 10_000, 300), z.runs)),
]  # fmt: skip


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }


def run(sizes: Sizes, only: set[str]) -> list[w.Row]:
    """Run the selected workloads (all when ``only`` is empty), in order."""
    unknown = only - {name for name, _ in WORKLOADS}
    if unknown:
        raise SystemExit(f"unknown workloads: {', '.join(sorted(unknown))}")
    rows: list[w.Row] = []
    for name, runner in WORKLOADS:
        if not only or name in only:
            began = time.perf_counter()
            rows += runner(sizes)
            print(f"{name}: {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return rows


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def table(rows: list[w.Row]) -> Table:
    """The results as a rich table."""
    t = Table(title="cswork benchmarks")
    for col in ("workload", "metric", "value", "floor", "ratio", "target", "met"):
        t.add_column(
            col, justify="right" if col in ("value", "floor", "ratio") else "left"
        )
    for r in rows:
        value = f"{r.value:,.3f}" if r.unit == "s" else _num(r.value)
        t.add_row(
            r.workload,
            r.metric,
            value,
            "" if r.floor is None else _num(r.floor),
            "" if r.ratio is None else f"{r.ratio:.2f}×",
            r.target,
            "" if r.ok is None else ("yes" if r.ok else "NO"),
        )
    return t


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    names = ",".join(name for name, _ in WORKLOADS)
    parser.add_argument("--only", default="", help=f"comma-separated: {names}")
    parser.add_argument(
        "--out", default="benchmark-results.json", help="JSON output file"
    )
    args = parser.parse_args()
    sizes = Sizes(args.smoke)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    rows = run(sizes, only)
    Console(width=180).print(table(rows))
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "machine": machine(),
                "sizes": sizes.used,
                "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
            },
            f,
            indent=2,
        )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
