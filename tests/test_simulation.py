"""Simulated traffic and the report it feeds."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from cswork import ClockError, Engine, SystemClock
from cswork.report import build_report
from cswork.simulation import CountingNotifier, Simulator, TrafficConfig
from cswork.storage import MemoryStore, SQLiteStore
from cswork.testing.invariants import check_case

from .conftest import WORKFLOWS, local

CONFIG = TrafficConfig(days=6, cases_per_day=12, seed=7, start=date(2026, 2, 9))


def simulate(config: TrafficConfig = CONFIG, store=None) -> Engine:  # type: ignore[no-untyped-def]
    from cswork import VirtualClock

    counter = itertools.count()
    engine = Engine.from_directory(
        WORKFLOWS,
        store=store or MemoryStore(),
        clock=VirtualClock(local(2026, 2, 9, 0, 0)),
        notifier=CountingNotifier(),
        id_factory=lambda: f"id{next(counter):07d}",
    )
    Simulator(engine, config).run()
    return engine


def test_same_seed_same_report_and_different_seed_differs(tmp_path):
    a = build_report(simulate()).as_dict()
    b = build_report(simulate(store=SQLiteStore(tmp_path / "b.db"))).as_dict()
    assert a == b
    c = build_report(
        simulate(
            TrafficConfig(days=6, cases_per_day=12, seed=8, start=date(2026, 2, 9))
        )
    ).as_dict()
    assert a != c


def test_simulated_cases_keep_every_invariant():
    engine = simulate()
    cases = engine.query()
    assert len(cases) > 40
    for case in cases:
        check_case(engine, case.id, engine.clock.now())
    workflows = {c.workflow_id for c in cases}
    assert {"inquiry", "complaint", "repair"} <= workflows
    assert any(c.closed for c in cases)
    assert any(c.breaches for c in cases)


def test_report_counts_add_up():
    engine = simulate()
    report = build_report(engine)
    assert sum(sum(c.values()) for c in report.outcomes.values()) == len(engine.query())
    breached = sum(d.breached + d.periods_missed for d in report.deadlines)
    assert breached == sum(c.breaches for c in engine.query())
    assert report.breached == len(engine.query(breached=True))
    keys = [i.key for i in report.indicators]
    assert keys[:5] == [
        f"response.{c}" for c in ("phone", "email", "chat", "fax", "web_form")
    ]
    assert keys[-7:] == [
        "complaint_timeliness",
        "resolution_rate",
        "reopen_rate",
        "repeat_inquiry_rate",
        "satisfaction",
        "productivity",
        "review_pass_rate",
    ]
    only = build_report(engine, workflow="inquiry")
    assert set(only.outcomes) == {"inquiry"}


def test_a_simulation_needs_a_virtual_clock():
    with pytest.raises(ClockError):
        Simulator(Engine.from_directory(WORKFLOWS, clock=SystemClock()), CONFIG)


def test_complaints_are_counted_by_type_and_month():
    engine = simulate()
    report = build_report(engine)
    complaints = engine.query(workflow="complaint")
    typed = [c for c in complaints if "type" in c.data]
    assert sum(
        n for (wf, _, _), n in report.by_type.items() if wf == "complaint"
    ) == len(typed)
    assert {month for (_, month, _) in report.by_type} == {"2026-02"}
    rows = report.as_dict()["by_type_and_month"]
    assert all(r["workflow"] == "complaint" for r in rows)
