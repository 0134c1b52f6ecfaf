"""What every workload shares: the complaint path, result rows, timing, engines.

Every figure is the median of several runs, and every comparison is a ratio
to a floor measured in the same process, in the same run.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cswork import Actor, Engine, VirtualClock
from cswork.simulation import CountingNotifier
from cswork.storage import Store

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 10, 0, tzinfo=SH)

AGENT, LEAD, HEAD = (
    Actor("a", {"cs_agent"}),
    Actor("l", {"cs_lead"}),
    Actor("h", {"dept_head"}, units={"technical"}),
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
            "current_situation": "Scans fail twice a day",
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
            "handler": "h",
        },
    ),
    (
        "resolve",
        HEAD,
        {
            "resolution": "Firmware 2.4.1 installed",
            "evidence": "Scanner logs of three days",
            "responsible_person": "h",
        },
    ),
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


@dataclass(frozen=True)
class Measure:
    """How long ``steps`` steps took: wall-clock and CPU (this process) seconds."""

    steps: int
    wall: float
    cpu: float

    @property
    def rate(self) -> float:
        """Steps per wall-clock second."""
        return self.steps / self.wall

    @property
    def cpu_rate(self) -> float:
        """Steps per CPU second (less disturbed by other work on the machine)."""
        return self.steps / max(self.cpu, 1e-9)

    @property
    def cpu_us(self) -> float:
        """CPU microseconds per step."""
        return self.cpu / self.steps * 1e6


def timed(steps: int, action: Callable[[], object]) -> Measure:
    """Run ``action`` (which takes ``steps`` steps) after a collection; time it."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return Measure(steps, time.perf_counter() - wall, time.process_time() - cpu)


def alternate(
    runners: dict[str, Callable[[int], object]], cases: int, turn: int, per_case: int
) -> dict[str, Measure]:
    """Each runner takes ``cases`` cases, in turns of ``turn`` cases; timed per runner.

    ``runners[name](n)`` takes ``n`` more cases (``per_case`` steps each). The
    order rotates every turn. A disk or a neighbour that changes speed during
    the run then slows every system alike, so the ratios hold where measuring
    one system after the other drifts.
    """
    names = list(runners)
    wall = dict.fromkeys(names, 0.0)
    cpu = dict.fromkeys(names, 0.0)
    for k, first in enumerate(range(0, cases, turn)):
        n = min(turn, cases - first)
        for name in names[k % len(names) :] + names[: k % len(names)]:
            m = timed(n * per_case, partial(runners[name], n))
            wall[name] += m.wall
            cpu[name] += m.cpu
    return {name: Measure(cases * per_case, wall[name], cpu[name]) for name in names}


def median_of(runs: int, measure: Callable[[], float]) -> float:
    """The median of ``runs`` measurements."""
    return statistics.median(measure() for _ in range(runs))


def median_measure(measures: list[Measure]) -> Measure:
    """A measure whose wall and CPU times are the medians of ``measures``."""
    steps = measures[0].steps
    return Measure(
        steps,
        statistics.median(m.wall * steps / m.steps for m in measures),
        statistics.median(m.cpu * steps / m.steps for m in measures),
    )


def engine_on(
    store: Store, workflows: Path = WORKFLOWS, notifier: Any = None
) -> Engine:
    """An engine on a virtual clock with deterministic ids and a quiet notifier."""
    counter = itertools.count()
    engine = Engine.from_directory(
        workflows,
        store=store,
        clock=VirtualClock(T0),
        notifier=notifier if notifier is not None else CountingNotifier(),
        id_factory=lambda: f"{next(counter):012d}",
    )
    _engines.setdefault(id(store), []).append(engine)
    return engine


_engines: dict[int, list[Engine]] = {}


def close_store(store: Store) -> None:
    """Close the engines ``engine_on`` made on ``store`` (their pending
    acknowledgements are written), then the store."""
    for engine in _engines.pop(id(store), []):
        engine.close()
    store.close()


def complaints(engine: Engine, cases: int, batch: int = 0) -> Callable[[], None]:
    """An action taking ``cases`` complaints along their whole path."""

    def one() -> None:
        case = engine.start("complaint", AGENT, START)
        for event, actor, data in PATH:
            engine.fire(case.id, event, actor, data)

    def run() -> None:
        if batch:
            for chunk in range(0, cases, batch):
                with engine.store.batch():
                    for _ in range(min(batch, cases - chunk)):
                        one()
        else:
            for _ in range(cases):
                one()

    return run


def drive_measure(engine: Engine, cases: int, batch: int = 0) -> Measure:
    """Take ``cases`` complaints along their whole path, timed."""
    return timed(cases * STEPS_PER_CASE, complaints(engine, cases, batch))


def drive(engine: Engine, cases: int, batch: int = 0) -> float:
    """Take ``cases`` complaints along their whole path; returns steps per second."""
    return drive_measure(engine, cases, batch).rate


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary directory on the same disk as the repository's tmp."""
    with tempfile.TemporaryDirectory(prefix="cswork-bench-") as tmp:
        yield Path(tmp)
