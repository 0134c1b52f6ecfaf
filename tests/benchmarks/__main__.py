"""Run the benchmarks and print (and save) the table.

    python -m tests.benchmarks                 # the full run, several minutes
    python -m tests.benchmarks --smoke         # tiny sizes, seconds (run by the tests)
    python -m tests.benchmarks --only W1,W5 --out results.json

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
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from . import console, report_workload, validation
from . import workloads as w

FULL = {
    "W1": 10_000,
    "W2": 2_000,
    "W3": 1_000_000,
    "W3_fire": 100_000,
    "W5": 100,
    "memory": 2_000,
    "W4": 1_000,
    "W4_timers": 50_000,
    "W6": 10_000,
    "W7": 100_000,
    "W7_small": 10_000,
    "W9": 10_000,
    "runs": 3,
}
SMOKE = {
    "W1": 30,
    "W2": 10,
    "W3": 2_000,
    "W3_fire": 500,
    "W5": 5,
    "memory": 50,
    "W4": 10,
    "W4_timers": 300,
    "W6": 300,
    "W7": 300,
    "W7_small": 100,
    "W9": 300,
    "runs": 1,
}


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }


def run(sizes: dict[str, int], only: set[str]) -> list[w.Row]:
    """Run the selected workloads."""
    runs = sizes["runs"]
    rows: list[w.Row] = []
    wanted = lambda name: not only or name in only
    if wanted("W1"):
        rows += w.w1(sizes["W1"], runs)
    if wanted("W2"):
        rows += w.w2(sizes["W2"], runs)
    if wanted("W3"):
        rows += w.w3(sizes["W3"], sizes["W3_fire"], runs)
    if wanted("W4"):
        dsn = os.environ.get("CSWORK_BENCH_PG_DSN") or os.environ.get(
            "CSWORK_TEST_PG_DSN"
        )
        if dsn:
            from . import pg_workloads

            rows += pg_workloads.w4(dsn, sizes["W4"], sizes["W4_timers"], runs)
        else:
            print(
                "W4 skipped: set CSWORK_TEST_PG_DSN to a PostgreSQL server",
                file=sys.stderr,
            )
    if wanted("W5"):
        rows += w.w5(sizes["W5"], runs)
    if wanted("W6"):
        largest = sizes["W6"]
        rows += validation.w6(
            sorted({largest // 10, largest // 5, largest * 2 // 5, largest}),
            runs,
        )
    if wanted("memory"):
        rows += w.memory_per_case(sizes["memory"])
    if wanted("W7"):
        rows += report_workload.w7(sizes["W7"], sizes["W7_small"], runs)
    if wanted("W9"):
        rows += console.w9(sizes["W9"], runs)
    return rows


def table(rows: list[w.Row]) -> Table:
    """The results as a rich table."""
    t = Table(title="cswork benchmarks")
    for col in ("workload", "metric", "value", "floor", "ratio", "target", "met"):
        t.add_column(
            col, justify="right" if col in ("value", "floor", "ratio") else "left"
        )
    for r in rows:
        value = f"{r.value:,.3f}" if r.unit == "s" else f"{r.value:,.0f}"
        t.add_row(
            r.workload,
            r.metric,
            value,
            "" if r.floor is None else f"{r.floor:,.0f}",
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
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated workloads: W1,W2,W3,W4,W5,W6,W7,W9,memory",
    )
    parser.add_argument(
        "--out", default="benchmark-results.json", help="JSON output file"
    )
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    rows = run(sizes, only)
    Console(width=160).print(table(rows))
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "machine": machine(),
                "sizes": sizes,
                "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
            },
            f,
            indent=2,
        )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
