"""W8: one engine shared by threads on one SQLite file (docs/performance.md).

A service's mix: 70 % reads (``get``, ``history``, ``timers``, a third each)
and 30 % steps (each thread starts inquiries and takes them along their
path: respond, answer, close), on one ``Engine`` and one ``SQLiteStore``
file with durable commits. Measured in one process, one after the other:

- one thread alone: throughput, and p50/p99 of reads and of steps;
- 20 threads together: the same figures (target: at least the throughput of
  one thread);
- one thread reading alone (idle p50), then the same reads while another
  thread keeps writing (target: p50 within 3× idle — a read never waits for a
  write's commit).

Only the public API that every cswork version has is used, so the same file
runs against older checkouts too::

    python tests/benchmarks/concurrency.py --workflows workflows --smoke
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cswork import Actor, Engine, VirtualClock
from cswork.simulation import CountingNotifier
from cswork.storage import SQLiteStore

AGENT = Actor("li.na", {"cs_agent"})
START = {"customer_id": "C-1", "channel": "chat", "question": "Why?"}
PATH: list[tuple[str, dict[str, Any]]] = [
    ("respond", {}),
    ("answer", {"answer": "Because.", "advice": "Restart it first."}),
    ("close", {}),
]
T0 = datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
READS = 0.7
FULL = {"threads": 20, "requests": 200, "alone": 1000, "preload": 500, "idle": 1000}
SMOKE = {"threads": 4, "requests": 10, "alone": 40, "preload": 20, "idle": 40}


class Stepper:
    """One thread's own cases, each taken one step further per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.case_id = ""
        self.next = len(PATH)

    def step(self) -> str:
        if self.next == len(PATH):
            self.case_id = self.engine.start("inquiry", AGENT, START).id
            self.next = 0
            return self.case_id
        event, data = PATH[self.next]
        self.engine.fire(self.case_id, event, AGENT, data)
        self.next += 1
        return self.case_id


def _read(engine: Engine, ids: list[str], rng: random.Random) -> None:
    case_id = rng.choice(ids)
    what = rng.randrange(3)
    if what == 0:
        engine.get(case_id)
    elif what == 1:
        engine.history(case_id)
    else:
        engine.timers(case_id)


def _worker(
    engine: Engine,
    ids: list[str],
    requests: int,
    seed: int,
    reads: list[float],
    steps: list[float],
    start: threading.Barrier | None = None,
) -> None:
    rng = random.Random(seed)
    stepper = Stepper(engine)
    clock = time.perf_counter
    if start is not None:
        start.wait()
    for _ in range(requests):
        began = clock()
        if rng.random() < READS:
            _read(engine, ids, rng)
            reads.append(clock() - began)
        else:
            ids.append(stepper.step())
            steps.append(clock() - began)


def _pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run_threads(
    engine: Engine, ids: list[str], threads: int, requests: int
) -> dict[str, float]:
    reads: list[float] = []
    steps: list[float] = []
    barrier = threading.Barrier(threads + 1)
    pool = [
        threading.Thread(
            target=_worker, args=(engine, ids, requests, n, reads, steps, barrier)
        )
        for n in range(threads)
    ]
    for t in pool:
        t.start()
    gc.collect()
    barrier.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    secs = time.perf_counter() - began
    return {
        "throughput": threads * requests / secs,
        "read_p50": _pct(reads, 0.5),
        "read_p99": _pct(reads, 0.99),
        "step_p50": _pct(steps, 0.5),
        "step_p99": _pct(steps, 0.99),
    }


def _reads_only(engine: Engine, ids: list[str], n: int) -> list[float]:
    rng = random.Random(7)
    out = []
    for _ in range(n):
        began = time.perf_counter()
        _read(engine, ids, rng)
        out.append(time.perf_counter() - began)
    return out


def _reads_beside_a_writer(engine: Engine, ids: list[str], n: int) -> list[float]:
    stop = threading.Event()
    written = threading.Event()

    def write() -> None:
        stepper = Stepper(engine)
        while not stop.is_set():
            stepper.step()
            written.set()

    writer = threading.Thread(target=write)
    writer.start()
    written.wait()
    try:
        return _reads_only(engine, ids, n)
    finally:
        stop.set()
        writer.join()


def measure(workflows: Path, sizes: dict[str, int]) -> dict[str, float]:
    """Run W8 on a fresh SQLite file; figures in requests/s and milliseconds."""
    with tempfile.TemporaryDirectory(prefix="cswork-w8-") as tmp:
        store = SQLiteStore(Path(tmp) / "w8.db")
        counter = itertools.count()
        engine = Engine.from_directory(
            workflows,
            store=store,
            clock=VirtualClock(T0),
            notifier=CountingNotifier(),
            id_factory=lambda: f"{next(counter):012d}",
        )
        stepper = Stepper(engine)
        ids = [stepper.step() for _ in range(sizes["preload"])]
        alone = _run_threads(engine, ids, 1, sizes["alone"])
        many = _run_threads(engine, ids, sizes["threads"], sizes["requests"])
        idle = _reads_only(engine, ids, sizes["idle"])
        busy = _reads_beside_a_writer(engine, ids, sizes["idle"])
        engine_close: Callable[[], None] | None = getattr(engine, "close", None)
        if engine_close is not None:
            engine_close()
        store.close()
    result = {f"alone_{k}": v for k, v in alone.items()}
    result |= {f"threads_{k}": v for k, v in many.items()}
    result |= {
        "threads": float(sizes["threads"]),
        "idle_read_p50": _pct(idle, 0.5),
        "idle_read_p99": _pct(idle, 0.99),
        "busy_read_p50": _pct(busy, 0.5),
        "busy_read_p99": _pct(busy, 0.99),
    }
    return result


def rows(figures: dict[str, float], label: str = "W8 threads") -> list[Any]:
    """The figures as rows of the benchmark table."""
    from .workloads import Row

    f = figures
    n = int(f["threads"])
    ratio = f["threads_throughput"] / f["alone_throughput"]
    busy = f["busy_read_p50"] / f["idle_read_p50"] if f["idle_read_p50"] else 0.0
    return [
        Row(
            label,
            "1 thread: requests/s (70 % reads, 30 % steps)",
            f["alone_throughput"],
            "/s",
        ),
        Row(
            label,
            f"{n} threads: requests/s",
            f["threads_throughput"],
            "×",
            floor=f["alone_throughput"],
            target="≥ 1× one thread",
            ok=ratio >= 1,
        ),
        Row(label, "1 thread: read p50 (ms)", f["alone_read_p50"], "ms"),
        Row(label, "1 thread: read p99 (ms)", f["alone_read_p99"], "ms"),
        Row(label, f"{n} threads: read p50 (ms)", f["threads_read_p50"], "ms"),
        Row(label, f"{n} threads: read p99 (ms)", f["threads_read_p99"], "ms"),
        Row(label, "1 thread: step p50 (ms)", f["alone_step_p50"], "ms"),
        Row(label, "1 thread: step p99 (ms)", f["alone_step_p99"], "ms"),
        Row(label, f"{n} threads: step p50 (ms)", f["threads_step_p50"], "ms"),
        Row(label, f"{n} threads: step p99 (ms)", f["threads_step_p99"], "ms"),
        Row(
            label,
            "read p50 while one thread writes (ms)",
            f["busy_read_p50"],
            "ms",
            floor=f["idle_read_p50"],
            target="≤ 3× idle p50",
            ok=busy <= 3,
        ),
    ]


def w8(sizes: dict[str, int], workflows: Path) -> list[Any]:
    """W8 for the benchmark harness."""
    return rows(measure(workflows, sizes))


def main() -> int:
    """Run W8 alone and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    runs = [measure(args.workflows, sizes) for _ in range(args.runs)]
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    json.dump(median, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
