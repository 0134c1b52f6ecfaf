"""Costs that must not grow: a step on an aged case, and an empty MemoryStore batch.

- *flat*: one case arms and cancels a deadline ``age`` times (a two-state
  workflow whose deadline's scope is one state, toggled by two events); then
  a step on that aged case is compared with a step on fresh cases of the same
  store: SQLite VM instructions and CPU time on SQLite (WAL,
  ``synchronous=NORMAL``, so the CPU and not the disk is measured), CPU time on
  the ``MemoryStore``.
- *memory batch*: the cost of an empty ``MemoryStore.batch()`` with 10× more
  cases stored (it should depend on the changes made, not on the cases kept).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cswork import Engine
from cswork.storage import MemoryStore, SQLiteStore, Store

from .common import (
    AGENT,
    BENCH_AGENT,
    PATH,
    START,
    Row,
    close_store,
    engine_on,
    scratch,
)
from .counters import _connections, counting

FLAT_WF = """\
workflow: flat
version: 1
title: One deadline armed and cancelled over and over
roles: {agent: a}
fields: {customer_id: {type: string}}
states:
  open: {initial: true}
  paused: {}
  done: {final: true}
start: {roles: [agent], requires: [customer_id]}
transitions:
  - {event: pause, from: open, to: paused, roles: [agent]}
  - {event: resume, from: paused, to: open, roles: [agent]}
  - {event: finish, from: [open, paused], to: done, roles: [agent]}
deadlines:
  answer:
    scope: [open]
    after: 1h
    basis: wall
"""
TOGGLE = ("pause", "resume")  # cancels the deadline, then arms it again


def _flat_engine(store: Store, tmp: Path) -> Engine:
    wf_dir = tmp / "flat-wf"
    wf_dir.mkdir(exist_ok=True)
    (wf_dir / "flat.yaml").write_text(FLAT_WF, encoding="utf-8")
    return engine_on(store, wf_dir)


def _start(engine: Engine) -> str:
    return engine.start("flat", BENCH_AGENT, {"customer_id": "C"}).id


def _toggle(engine: Engine, case_id: str, steps: int) -> None:
    for n in range(steps):
        engine.fire(case_id, TOGGLE[n % 2], BENCH_AGENT)


def _age(engine: Engine, age: int) -> str:
    """A case that armed and cancelled its deadline ``age`` times (it is armed)."""
    case_id = _start(engine)
    for chunk in range(0, 2 * age, 1000):
        with engine.store.batch():
            _toggle(engine, case_id, min(1000, 2 * age - chunk))
    return case_id


def _cpu_per_step(action: Callable[[], int]) -> float:
    """CPU seconds per step of ``action`` (which returns its number of steps)."""
    began = time.process_time()
    steps = action()
    return (time.process_time() - began) / steps


def _aged_vs_fresh(
    engine: Engine, aged: str, steps: int, measure: Callable[[Callable[[], int]], float]
) -> tuple[float, float]:
    """``measure`` of ``steps`` toggles on the aged case, and on fresh cases.

    Fresh cases take four toggles each, so they stay fresh while measured.
    """
    fresh = [_start(engine) for _ in range(max(1, steps // 4))]

    def on_aged() -> int:
        _toggle(engine, aged, steps)
        return steps

    def on_fresh() -> int:
        for case_id in fresh:
            _toggle(engine, case_id, 4)
        return 4 * len(fresh)

    return measure(on_aged), measure(on_fresh)


def flat(age: int, steps: int, runs: int) -> list[Row]:
    """A step on a case with ``age`` past arm/cancel pairs vs on a fresh case."""
    rows: list[Row] = []
    with scratch() as tmp:
        store = SQLiteStore(tmp / "flat.db", synchronous="NORMAL")
        try:
            engine = _flat_engine(store, tmp)
            aged = _age(engine, age)

            def instructions(action: Callable[[], int]) -> float:
                with counting(_connections(store)) as counts:
                    n = action()
                return counts.instructions / n

            vm = _aged_vs_fresh(engine, aged, steps, instructions)
            cpu = [_aged_vs_fresh(engine, aged, steps, _cpu_per_step)
                   for _ in range(runs)]  # fmt: skip
        finally:
            close_store(store)
        rows.append(_row(f"SQLite VM instructions per step, case aged {age:,}", vm))
        rows.append(_row(f"SQLite CPU µs per step, case aged {age:,}", _median(cpu)))
        mem = _flat_engine(MemoryStore(), tmp)
        aged = _age(mem, age)
        cpu = [_aged_vs_fresh(mem, aged, steps, _cpu_per_step) for _ in range(runs)]
        rows.append(
            _row(f"MemoryStore CPU µs per step, case aged {age:,}", _median(cpu))
        )
    return rows


def _median(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        statistics.median(p[0] for p in pairs) * 1e6,
        statistics.median(p[1] for p in pairs) * 1e6,
    )


def _row(metric: str, aged_fresh: tuple[float, float]) -> Row:
    aged, fresh = aged_fresh
    return Row(
        "flat",
        f"{metric} (floor: fresh case)",
        aged,
        "n",
        floor=fresh,
        target="≤ 1.2×",
        ok=aged / fresh <= 1.2,
    )


# ------------------------------------------------------------- memory batch
def _empty_batch_seconds(store: MemoryStore, budget: float = 0.3) -> float:
    """Mean CPU seconds of an empty ``store.batch()``, over about ``budget`` seconds."""
    calls, began = 0, time.process_time()
    while True:
        with store.batch():
            pass
        calls += 1
        elapsed = time.process_time() - began
        if elapsed >= budget:
            return elapsed / calls


def _add_cases(engine: Engine, count: int) -> None:
    for _ in range(count):
        case = engine.start("complaint", AGENT, START)
        for event, actor, data in PATH[:3]:
            engine.fire(case.id, event, actor, data)


def memory_batch(small: int, runs: int) -> list[Row]:
    """An empty ``MemoryStore.batch()`` with ``10 × small`` cases vs ``small`` cases."""
    store = MemoryStore()
    engine = engine_on(store)
    _add_cases(engine, small)
    few = statistics.median(_empty_batch_seconds(store) for _ in range(runs))
    _add_cases(engine, 9 * small)
    many = statistics.median(_empty_batch_seconds(store) for _ in range(runs))
    return [
        Row(
            "memory batch",
            f"empty MemoryStore.batch() CPU µs, {10 * small:,} cases"
            f" (floor: {small:,} cases)",
            many * 1e6,
            "n",
            floor=few * 1e6,
            target="flat: ≤ 1.2× (O(changes))",
            ok=many / few <= 1.2,
        )
    ]
