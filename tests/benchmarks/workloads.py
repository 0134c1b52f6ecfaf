"""The benchmark workloads (see docs/performance.md). Each returns result rows.

Every figure is the median of several runs, and every comparison is a ratio
to a floor measured in the same process, in the same run. What all workloads
share (the complaint path, ``Row``, ``drive``, ``engine_on``…) lives in
``common`` and is importable from here too; W1 lives in ``w1``, the SQLite
floors in ``floors``.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from cswork import Engine
from cswork.storage import MemoryStore, SQLiteStore

from .common import (
    AGENT,
    BENCH_AGENT,
    HEAD,
    LEAD,
    PATH,
    ROOT,
    SH,
    START,
    STEPS_PER_CASE,
    T0,
    WORKFLOWS,
    Measure,
    Row,
    alternate,
    close_store,
    complaints,
    drive,
    drive_measure,
    engine_on,
    median_measure,
    median_of,
    scratch,
    timed,
)
from .floors import MinimalFloor, SameRowsFloor
from .steprows import StepRows, record, summary
from .w1 import bare_transitions, w1

__all__ = [
    "AGENT",
    "BENCH_AGENT",
    "HEAD",
    "LEAD",
    "PATH",
    "ROOT",
    "SH",
    "START",
    "STEPS_PER_CASE",
    "T0",
    "WORKFLOWS",
    "Measure",
    "Row",
    "bare_transitions",
    "complaints",
    "drive",
    "drive_measure",
    "engine_on",
    "median_measure",
    "median_of",
    "memory_per_case",
    "scratch",
    "timed",
    "w1",
    "w2",
    "w3",
    "w5",
]


# ------------------------------------------------------------------------ W2
def _w2_once(cases: int, steps: list[StepRows]) -> dict[str, Measure]:
    """One W2 run: the engine (single commits and batched) and both floors, alternated."""
    with scratch() as tmp:
        single = SQLiteStore(tmp / "single.db", synchronous="FULL")
        batched = SQLiteStore(tmp / "batched.db", synchronous="FULL")
        minimal = MinimalFloor(tmp / "minimal.db")
        same = SameRowsFloor(tmp / "same.db", steps)
        try:
            one, many = engine_on(single), engine_on(batched)
            runners: dict[str, Callable[[int], object]] = {
                "engine": lambda n: complaints(one, n)(),
                "minimal": minimal.run,
                "same": same.run,
                "batched": lambda n: complaints(many, n, batch=100)(),
            }
            return alternate(runners, cases, min(cases, 100), STEPS_PER_CASE)
        finally:
            close_store(single)
            close_store(batched)
            minimal.close()
            same.close()


def w2(cases: int, runs: int) -> list[Row]:
    """W2 (one durable commit per step) and W2b (batched), beside two floors.

    The floors (``floors.py``): the minimal one (versioned case update and a
    history row per step) and the same-rows one (every row the engine writes
    for the step, by hand-written SQL). All four take turns of 100 cases
    (``common.alternate``); the figure is the median of ``runs`` runs.
    """
    steps = record()
    print(f"W2 same-rows floor, per case: {summary(steps)}", file=sys.stderr)
    seen = [_w2_once(cases, steps) for _ in range(runs)]
    engine, minimal, same, batched = (
        statistics.median(run[name].rate for run in seen)
        for name in ("engine", "minimal", "same", "batched")
    )
    return [
        Row("W2 SQLite", "minimal floor writes/s (update + history, 1 commit each)",
            minimal, "/s"),
        Row("W2 SQLite", "same-rows floor steps/s (the engine's rows, 1 commit each)",
            same, "/s"),
        Row("W2 SQLite", "engine steps/s (1 durable commit each) vs same-rows floor",
            engine, "×", floor=same, target="≥ 0.8×", ok=engine / same >= 0.8),
        Row("W2 SQLite", "engine steps/s (1 durable commit each) vs minimal floor",
            engine, "×", floor=minimal, target="≥ 0.7×", ok=engine / minimal >= 0.7),
        Row("W2b batched", "engine steps/s (100 cases per transaction) vs minimal"
            " single-commit floor", batched, "×", floor=minimal, target="≥ 2×",
            ok=batched / minimal >= 2),
    ]  # fmt: skip


# ------------------------------------------------------------------------ W3
DEADLINE_WF = """\
workflow: bench
version: 1
title: One deadline per case
roles: {agent: a}
fields: {customer_id: {type: string}}
states:
  open: {initial: true}
  done: {final: true}
start: {roles: [agent], requires: [customer_id]}
transitions:
  - {event: finish, from: open, to: done, roles: [agent]}
deadlines:
  due:
    scope: [open]
    after: DURATION
    basis: wall
"""


def _bench_dir(tmp: Path, with_deadline: bool) -> Path:
    d = tmp / ("with" if with_deadline else "without")
    d.mkdir()
    text = DEADLINE_WF.replace("DURATION", "1h")
    if not with_deadline:
        text = text[: text.index("deadlines:")]
    (d / "bench.yaml").write_text(text)
    return d


def _start_rate(store_path: Path, wf_dir: Path, cases: int, batch: int = 0) -> float:
    store = SQLiteStore(store_path)
    engine = engine_on(store, wf_dir)
    gc.collect()
    began = time.perf_counter()
    if batch:
        for chunk in range(0, cases, batch):
            with store.batch():
                for _ in range(min(batch, cases - chunk)):
                    engine.start("bench", BENCH_AGENT, {"customer_id": "C"})
    else:
        for _ in range(cases):
            engine.start("bench", BENCH_AGENT, {"customer_id": "C"})
    rate = cases / (time.perf_counter() - began)
    close_store(store)
    return rate


def _starts_with_and_without(
    tmp: Path, with_dl: Path, without: Path, cases: int, runs: int
) -> tuple[float, float]:
    """Durable starts/s without and with a deadline, taking turns of 100 starts."""

    def starts(engine: Engine, n: int) -> None:
        for _ in range(n):
            engine.start("bench", BENCH_AGENT, {"customer_id": "C"})

    seen: list[dict[str, Measure]] = []
    for run in range(runs):
        stores = {name: SQLiteStore(tmp / f"{name}{run}.db") for name in ("p", "a")}
        try:
            runners: dict[str, Callable[[int], object]] = {
                "plain": partial(starts, engine_on(stores["p"], without)),
                "armed": partial(starts, engine_on(stores["a"], with_dl)),
            }
            seen.append(alternate(runners, cases, min(cases, 100), 1))
        finally:
            for store in stores.values():
                close_store(store)
    return (
        statistics.median(m["plain"].rate for m in seen),
        statistics.median(m["armed"].rate for m in seen),
    )


def worker_rss(url: str, wf_dir: Path) -> int:
    """Peak RSS (kB) of a fresh worker process idle over a store of pending deadlines."""
    code = (
        "import resource, sys\n"
        "from datetime import datetime\n"
        "from cswork import Engine, VirtualClock\n"
        "from cswork.storage.url import open_store\n"
        "e = Engine.from_directory(sys.argv[2], store=open_store(sys.argv[1]),"
        " clock=VirtualClock(datetime.fromisoformat(sys.argv[3])))\n"
        "for _ in range(3):\n"
        "    e.store.next_due_at(); e.run_due(limit=200); e.deliver()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url, str(wf_dir), T0.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return int(out.stdout.strip().splitlines()[-1])


def w3(pending: int, fire: int, runs: int) -> list[Row]:
    """W3: arming cost, claims per second, and worker memory with many pending."""
    rows = []
    with scratch() as tmp:
        with_dl, without = _bench_dir(tmp, True), _bench_dir(tmp, False)
        plain, armed = _starts_with_and_without(tmp, with_dl, without,
                                                min(pending, 2000), runs)  # fmt: skip
        rows.append(
            Row(
                "W3 deadlines",
                "durable starts/s arming a deadline",
                armed,
                "×",
                floor=plain,
                target="≈ 1× (one extra row in the commit)",
                ok=armed / plain >= 0.8,
            )
        )
        db = tmp / "big.db"
        small = tmp / "small.db"
        _start_rate(small, with_dl, 1000, batch=1000)
        began = time.perf_counter()
        _start_rate(db, with_dl, pending, batch=5000)
        arm_secs = time.perf_counter() - began
        rows.append(
            Row(
                "W3 deadlines",
                f"arm {pending:,} deadlines (batched), /s",
                pending / arm_secs,
                "/s",
            )
        )
        store = SQLiteStore(db)
        engine = engine_on(store, with_dl)
        engine.clock.set(T0 + timedelta(hours=2))  # type: ignore[attr-defined]
        gc.collect()
        began = time.perf_counter()
        fired = 0
        while fired < fire:
            got = engine.run_due(limit=500)
            fired += got
            if not got:
                break
            if fired >= fire:
                break
        claim_rate = fired / (time.perf_counter() - began)
        close_store(store)
        rows.append(
            Row(
                "W3 deadlines",
                f"claims/s firing {fired:,} of {pending:,} due",
                claim_rate,
                "/s",
                target="≥ 20,000/s",
                ok=claim_rate >= 20_000,
            )
        )
        rss_small = worker_rss(f"sqlite:///{small}", with_dl)
        rss_big = worker_rss(f"sqlite:///{db}", with_dl)
        rows.append(
            Row(
                "W3 deadlines",
                f"worker RSS with {pending:,} pending (kB)",
                rss_big,
                "×",
                floor=rss_small,
                target="flat vs 1,000 pending (≤ 1.1×)",
                ok=rss_big / rss_small <= 1.1,
            )
        )
    return rows


# ------------------------------------------------------------------------ W5
def make_workflow_files(target: Path, count: int) -> None:
    """``count`` workflow files: the shipped ones under new ids, plus the calendar."""
    shipped = sorted(WORKFLOWS.glob("*.yaml"))
    (target / "calendars").mkdir(parents=True)
    (target / "calendars" / "default.yaml").write_text(
        (WORKFLOWS / "calendars" / "default.yaml").read_text(encoding="utf-8")
    )
    ids = [p.stem for p in shipped]
    count = max(count, len(ids))  # every workflow a file links to has a copy

    def copy_of(wid: str, n: int) -> str:
        """The copy of ``wid`` in file ``n``'s round of copies (or the one before)."""
        m = n - n % len(ids) + ids.index(wid)
        return f"{wid}_{m if m < count else m - len(ids):03d}"

    for n in range(count):
        src = shipped[n % len(shipped)]
        text = src.read_text(encoding="utf-8")
        wid = src.stem
        new = f"{wid}_{n:03d}"
        text = text.replace(f"workflow: {wid}\n", f"workflow: {new}\n")
        # Files that start other workflows' cases link to a copy near them.
        for other in ids:
            text = text.replace(
                f"start_case: {other}\n", f"start_case: {copy_of(other, n)}\n"
            )
        (target / f"{new}.yaml").write_text(text, encoding="utf-8")


def w5(files: int, runs: int) -> list[Row]:
    """W5: loading 100 files, in process and through the CLI."""
    from cswork.definition import load_paths

    with scratch() as tmp:
        make_workflow_files(tmp / "wf", files)

        def load() -> float:
            began = time.perf_counter()
            Engine.from_directory(tmp / "wf")
            return time.perf_counter() - began

        def validate() -> float:
            began = time.perf_counter()
            load_paths([tmp / "wf"])
            return time.perf_counter() - began

        def cli() -> float:
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "cswork", "validate", str(tmp / "wf")],
                check=True,
                capture_output=True,
            )
            return time.perf_counter() - began

        loaded, checked, whole = (median_of(runs, f) for f in (load, validate, cli))
    return [
        Row(
            "W5 loading",
            f"Engine.from_directory, {files} files (s)",
            loaded,
            "s",
            target="< 1 s",
            ok=loaded < 1,
        ),
        Row(
            "W5 loading",
            f"validate {files} files in process (s)",
            checked,
            "s",
            target="< 1 s",
            ok=checked < 1,
        ),
        Row(
            "W5 loading",
            f"cswork validate {files} files, whole command (s)",
            whole,
            "s",
            target="< 1 s",
            ok=whole < 1,
        ),
    ]


# ------------------------------------------------------------------------ memory
def memory_per_case(cases: int) -> list[Row]:
    """Memory per live case: MemoryStore (Python heap) and SQLite (bytes on disk)."""
    import tracemalloc

    engine = engine_on(MemoryStore())
    path = PATH[:3]

    def make(e: Engine) -> None:
        for _ in range(cases):
            case = e.start("complaint", AGENT, START)
            for event, actor, data in path:
                e.fire(case.id, event, actor, data)

    make(engine_on(MemoryStore()))  # warm caches (calendar years, compiled code)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    make(engine)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    rows = [
        Row(
            "memory",
            "MemoryStore bytes per live case (4 steps, 7 timers)",
            used / cases,
            "B",
        )
    ]
    with scratch() as tmp:
        store = SQLiteStore(tmp / "m.db")
        e = engine_on(store)
        with store.batch():
            make(e)
        close_store(store)
        size = sum(os.path.getsize(p) for p in tmp.glob("m.db*"))
    rows.append(
        Row("memory", "SQLite bytes on disk per case (same)", size / cases, "B")
    )
    return rows
