"""W7: a report over many closed cases on SQLite — speed and memory.

The cases are realistic: a short simulation through the shipped SOPs gives
closed cases with their full histories (starts, steps, deadlines armed, met
and breached, warnings), and those are copied under new ids, customers and
start times, written with ``store.batch()``. The cases per day are the same
at every size (a bigger report covers a longer time), so what a report keeps
per day of traffic — the repeat-inquiry window — is the same too.

The report runs in a fresh process (``python -m tests.benchmarks.report_workload
DB report``), which prints its time and its peak memory; the same process
with ``read`` instead reads the same cases and histories without counting
anything, as the floor. The peak Python heap is measured with and without
the week and person cuts: the cuts keep a tally per week covered, which grows
with the time a report covers, not with its cases.
"""

from __future__ import annotations

import gc
import itertools
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cswork import Engine, VirtualClock
from cswork.records import Case, CaseChange, HistoryEntry
from cswork.simulation import CountingNotifier, Simulator, TrafficConfig
from cswork.storage import MemoryStore, SQLiteStore

from .workloads import ROOT, SH, WORKFLOWS, Row, scratch

BATCH = 5_000


def templates() -> list[tuple[Case, list[HistoryEntry]]]:
    """Closed cases (with histories) from ten simulated days of the shipped SOPs."""
    counter = itertools.count()
    engine = Engine.from_directory(
        WORKFLOWS,
        store=MemoryStore(),
        clock=VirtualClock(datetime(2026, 3, 2, tzinfo=SH)),
        notifier=CountingNotifier(),
        id_factory=lambda: f"t{next(counter):08d}",
    )
    Simulator(
        engine, TrafficConfig(days=10, cases_per_day=60, seed=5, start=date(2026, 3, 2))
    ).run()
    return [(c, engine.history(c.id)) for c in engine.query(closed=True)]


def fill(path: Path, cases: int) -> float:
    """Write ``cases`` closed cases to a new SQLite file; returns seconds taken."""
    models = templates()
    store = SQLiteStore(path)
    began = time.perf_counter()
    for start in range(0, cases, BATCH):
        with store.batch():
            for n in range(start, min(start + BATCH, cases)):
                case, history = models[n % len(models)]
                store.create_case(_copy(case, history, n, len(models)))
    store.close()
    return time.perf_counter() - began


def _copy(case: Case, history: list[HistoryEntry], n: int, size: int) -> CaseChange:
    """Case ``n``: a template under a new id and customer, two days per copy later.

    The cases per day stay the same at every size: a bigger report covers a
    longer time, as it would in a service centre.
    """
    cid = f"w7-{n:09d}"
    shift = timedelta(days=2 * (n // size), seconds=n % 600)
    customer = f"C-{n % 40_000:05d}"
    data = dict(case.data)
    if "customer_id" in data:
        data["customer_id"] = customer
    entries = tuple(
        replace(
            e,
            case_id=cid,
            at=e.at + shift,
            changes={**e.changes, "customer_id": customer}
            if "customer_id" in e.changes
            else e.changes,
        )
        for e in history
    )
    copy = replace(
        case,
        id=cid,
        data=data,
        customer=customer if case.customer is not None else None,
        created_at=case.created_at + shift,
        updated_at=case.updated_at + shift,
    )
    return CaseChange(case=copy, expected_version=0, entries=entries)


def measure(
    db: Path, what: str, heap: bool = False, cuts: bool = True
) -> dict[str, float]:
    """Run the report (or the bare read) in a fresh process; its time and memory."""
    flags = (["--heap"] if heap else []) + ([] if cuts else ["--no-cuts"])
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.report_workload",
            str(db),
            what,
            *flags,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def w7(cases: int, small: int, runs: int) -> list[Row]:
    """W7: cases per second of a report over ``cases`` closed cases; memory flatness."""
    with scratch() as tmp:
        big, little = tmp / "big.db", tmp / "small.db"
        fill_secs = fill(big, cases)
        fill(little, small)
        reports = [measure(big, "report") for _ in range(runs)]
        reads = [measure(big, "read") for _ in range(runs)]
        report = statistics.median(r["rate"] for r in reports)
        floor = statistics.median(r["rate"] for r in reads)
        report_cpu = statistics.median(r["cpu_rate"] for r in reports)
        floor_cpu = statistics.median(r["cpu_rate"] for r in reads)
        rss_big = measure(big, "report")["rss_kb"]
        rss_small = measure(little, "report")["rss_kb"]
        heap_big = measure(big, "report", heap=True)["heap_kb"]
        heap_small = measure(little, "report", heap=True)["heap_kb"]
        bare_big = measure(big, "report", heap=True, cuts=False)["heap_kb"]
        bare_small = measure(little, "report", heap=True, cuts=False)["heap_kb"]
    return [
        Row(
            "W7 report",
            f"cases/s, report over {cases:,} closed cases (SQLite)",
            report,
            "/s",
            floor=floor,
            target="≥ 20,000/s",
            ok=report >= 20_000,
        ),
        Row(
            "W7 report",
            "floor: cases/s reading the same cases and histories only",
            floor,
            "/s",
        ),
        Row(
            "W7 report",
            "cases per CPU-second (less sensitive to a busy machine), vs floor",
            report_cpu,
            "/s",
            floor=floor_cpu,
        ),
        Row(
            "W7 report",
            f"peak RSS, {cases:,} vs {small:,} cases (kB)",
            rss_big,
            "×",
            floor=rss_small,
            target="flat (≤ 1.1×)",
            ok=rss_big / rss_small <= 1.1,
        ),
        Row(
            "W7 report",
            f"peak Python heap, no cuts, {cases:,} vs {small:,} (kB)",
            bare_big,
            "×",
            floor=bare_small,
            target="flat (≤ 1.1×)",
            ok=bare_big / bare_small <= 1.1,
        ),
        Row(
            "W7 report",
            f"peak Python heap, week and person cuts, {cases:,} vs {small:,} (kB)",
            heap_big,
            "×",
            floor=heap_small,
            target="grows with weeks covered only",
        ),
        Row(
            "W7 report", f"writing {cases:,} closed cases, /s", cases / fill_secs, "/s"
        ),
    ]


def _run(db: str, what: str, heap: bool, cuts: bool) -> dict[str, Any]:
    """In the child process: read or report, and say how it went."""
    from cswork.report import build_report
    from cswork.report.read import stream

    engine = Engine.from_directory(WORKFLOWS, store=SQLiteStore(db))
    engine.definition("complaint")  # load what both runs need before timing
    if heap:
        tracemalloc.start()
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    if what == "report":
        n = build_report(engine, cuts=("week", "person") if cuts else ()).total
    else:
        gc.disable()  # as the report does
        n = sum(1 for _ in stream(engine.store))
        gc.enable()
    secs = time.perf_counter() - began
    cpu = time.process_time() - cpu
    out: dict[str, Any] = {
        "cases": n,
        "seconds": secs,
        "rate": n / secs,
        "cpu_rate": n / cpu,
    }
    if heap:
        out["heap_kb"] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    out["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


if __name__ == "__main__":
    flags = sys.argv[3:]
    print(
        json.dumps(
            _run(sys.argv[1], sys.argv[2], "--heap" in flags, "--no-cuts" not in flags)
        )
    )
