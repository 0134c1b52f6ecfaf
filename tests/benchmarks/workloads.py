"""The benchmark workloads (see docs/performance.md). Each returns result rows.

Every figure is the median of several runs, and every comparison is a ratio
to a floor measured in the same process, in the same run.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cswork import Actor, Engine, VirtualClock
from cswork.simulation import CountingNotifier
from cswork.storage import MemoryStore, SQLiteStore, Store

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 10, 0, tzinfo=SH)

AGENT, LEAD, HEAD = (
    Actor("a", {"cs_agent"}),
    Actor("l", {"cs_lead"}),
    Actor("h", {"dept_head"}),
)
BENCH_AGENT = Actor("a", {"agent"})
START = {
    "customer_id": "C-00001",
    "channel": "phone",
    "summary": "Scanner keeps failing",
}
PATH: list[tuple[str, Actor, dict[str, Any]]] = [
    (
        "record",
        LEAD,
        {
            "organisation": "ACME Logistics",
            "contact_person": "Ms Chen",
            "phone": "021-5555-0101",
            "request": "Replace the scanner",
            "expectation": "Working scanner this week",
            "apologised": True,
        },
    ),
    ("classify", LEAD, {"type": "product", "severity": "important"}),
    ("contact_customer", LEAD, {"contact_note": "Called, collected the logs"}),
    (
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-05T18:00:00+08:00",
            "measures": "Firmware fix, replacement as fallback",
        },
    ),
    ("resolve", HEAD, {"resolution": "Firmware 2.4.1 installed"}),
    ("inform_result", LEAD, {"result_note": "Told Ms Chen"}),
    ("accept", LEAD, {}),
    ("return_visit", AGENT, {"visit_note": "Works fine"}),
]
STEPS_PER_CASE = 1 + len(PATH)  # the start and eight events


@dataclass
class Row:
    """One figure of the results table."""

    workload: str
    metric: str
    value: float
    unit: str
    floor: float | None = None
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        """value / floor, when there is a floor."""
        return self.value / self.floor if self.floor else None


def median_of(runs: int, measure: Callable[[], float]) -> float:
    """The median of ``runs`` measurements."""
    return statistics.median(measure() for _ in range(runs))


def engine_on(store: Store, workflows: Path = WORKFLOWS) -> Engine:
    """An engine on a virtual clock with deterministic ids and a quiet notifier."""
    counter = itertools.count()
    return Engine.from_directory(
        workflows,
        store=store,
        clock=VirtualClock(T0),
        notifier=CountingNotifier(),
        id_factory=lambda: f"{next(counter):012d}",
    )


def drive(engine: Engine, cases: int, batch: int = 0) -> float:
    """Take ``cases`` complaints along their whole path; returns steps per second."""

    def one() -> None:
        case = engine.start("complaint", AGENT, START)
        for event, actor, data in PATH:
            engine.fire(case.id, event, actor, data)

    gc.collect()
    began = time.perf_counter()
    if batch:
        for chunk in range(0, cases, batch):
            with engine.store.batch():
                for _ in range(min(batch, cases - chunk)):
                    one()
    else:
        for _ in range(cases):
            one()
    return cases * STEPS_PER_CASE / (time.perf_counter() - began)


# ------------------------------------------------------------------------ W1
def bare_transitions(cases: int) -> float:
    """The floor: bare ``transitions`` doing the same steps, unregistered models."""
    from transitions import Machine

    from cswork.definition import load_file

    wf = load_file(WORKFLOWS / "complaint.yaml").definition
    machine = Machine(
        model=None,
        states=list(wf.states),
        initial=None,  # type: ignore[union-attr]
        auto_transitions=False,
        send_event=True,
    )
    non_final = [n for n, s in wf.states.items() if not s.final]  # type: ignore[union-attr]
    for t in wf.transitions:  # type: ignore[union-attr]
        machine.add_transition(t.event, non_final if "*" in t.from_ else t.from_, t.to)

    class Model:
        __slots__ = ("state",)

    events = [machine.events[e] for e, _, _ in PATH]
    gc.collect()
    began = time.perf_counter()
    for _ in range(cases):
        model = Model()
        model.state = wf.initial_state()  # type: ignore[union-attr]
        for ev in events:
            ev.trigger(model)
    steps = cases * (STEPS_PER_CASE - 1)
    return steps / (time.perf_counter() - began)


def w1(cases: int, runs: int) -> list[Row]:
    """W1: the full engine in memory beside bare transitions."""
    engine_rate = median_of(runs, lambda: drive(engine_on(MemoryStore()), cases))
    bare = median_of(runs, lambda: bare_transitions(cases))
    return [
        Row(
            "W1 in memory",
            "engine steps/s (MemoryStore)",
            engine_rate,
            "/s",
            target="≥ 50,000/s",
            ok=engine_rate >= 50_000,
        ),
        Row("W1 in memory", "bare transitions steps/s", bare, "/s"),
        Row(
            "W1 in memory",
            "engine / bare transitions",
            engine_rate,
            "×",
            floor=bare,
            target="≥ 0.5×",
            ok=engine_rate / bare >= 0.5,
        ),
    ]


# ------------------------------------------------------------------------ W2
def raw_sqlite(path: Path, cases: int, per_txn: int = 1) -> float:
    """The floor: sqlite3 doing the same writes (versioned update + history insert)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(
        "CREATE TABLE cases (id TEXT PRIMARY KEY, state TEXT, data TEXT,"
        " version INTEGER, updated_at INTEGER)"
    )
    db.execute(
        "CREATE TABLE history (case_id TEXT, seq INTEGER, at INTEGER, event TEXT,"
        " actor TEXT, changes TEXT, PRIMARY KEY (case_id, seq)) WITHOUT ROWID"
    )
    data = json.dumps({**START, **PATH[0][2], **PATH[1][2]})
    steps = cases * STEPS_PER_CASE
    began = time.perf_counter()
    pending = 0
    for n in range(cases):
        cid = f"case-{n}"
        for seq in range(1, STEPS_PER_CASE + 1):
            if pending == 0:
                db.execute("BEGIN IMMEDIATE")
            if seq == 1:
                db.execute(
                    "INSERT INTO cases VALUES (?, 'received', ?, 1, ?)",
                    (cid, data, seq),
                )
            else:
                cur = db.execute(
                    "UPDATE cases SET state = ?, data = ?, version = ?,"
                    " updated_at = ? WHERE id = ? AND version = ?",
                    ("s", data, seq, seq, cid, seq - 1),
                )
                assert cur.rowcount == 1
            db.execute(
                "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)",
                (cid, seq, seq, "e", "a", '{"k":"v"}'),
            )
            pending += 1
            if pending == per_txn:
                db.execute("COMMIT")
                pending = 0
    if pending:
        db.execute("COMMIT")
    db.close()
    return steps / (time.perf_counter() - began)


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary directory on the same disk as the repository's tmp."""
    with tempfile.TemporaryDirectory(prefix="cswork-bench-") as tmp:
        yield Path(tmp)


def _sqlite_engine_rate(cases: int, batch: int = 0) -> float:
    with scratch() as tmp:
        store = SQLiteStore(tmp / "w2.db")
        try:
            return drive(engine_on(store), cases, batch)
        finally:
            store.close()


def _raw_rate(cases: int, per_txn: int = 1) -> float:
    with scratch() as tmp:
        return raw_sqlite(tmp / "raw.db", cases, per_txn)


def w2(cases: int, runs: int) -> list[Row]:
    """W2 (one durable commit per step) and W2b (batched), beside raw sqlite3."""
    engine_rate = median_of(runs, lambda: _sqlite_engine_rate(cases))
    floor = median_of(runs, lambda: _raw_rate(cases))
    batched = median_of(runs, lambda: _sqlite_engine_rate(cases, batch=100))
    return [
        Row("W2 SQLite", "raw sqlite3 writes/s (1 commit each)", floor, "/s"),
        Row(
            "W2 SQLite",
            "engine steps/s (1 durable commit each)",
            engine_rate,
            "×",
            floor=floor,
            target="≥ 0.8× raw",
            ok=engine_rate / floor >= 0.8,
        ),
        Row(
            "W2b batched",
            "engine steps/s (100 cases per transaction)",
            batched,
            "×",
            floor=floor,
            target="≥ 2× raw single-commit",
            ok=batched / floor >= 2,
        ),
    ]


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
    store.close()
    return rate


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
        n = min(pending, 2000)
        plain = median_of(
            runs, lambda: _start_rate(tmp / f"p{time.time_ns()}.db", without, n)
        )
        armed = median_of(
            runs, lambda: _start_rate(tmp / f"a{time.time_ns()}.db", with_dl, n)
        )
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
        store.close()
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
        if wid == "repair":
            text = text.replace(
                "start_case: parts_scrap", f"start_case: {copy_of('parts_scrap', n)}"
            )
        if wid == "drill_program":
            text = text.replace(
                "start_case: emergency", f"start_case: {copy_of('emergency', n)}"
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
        store.close()
        size = sum(os.path.getsize(p) for p in tmp.glob("m.db*"))
    rows.append(
        Row("memory", "SQLite bytes on disk per case (same)", size / cases, "B")
    )
    return rows
