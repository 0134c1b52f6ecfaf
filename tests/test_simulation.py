"""Simulated traffic and the report it feeds."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cswork import ClockError, Engine, SystemClock, UnknownWorkflowError
from cswork.definition.model import Start
from cswork.report import build_report
from cswork.simulation import (
    DEFAULT_MIX,
    DEFAULT_SHARE,
    CountingNotifier,
    SimulationError,
    Simulator,
    TrafficConfig,
    traffic_mix,
)
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


# A workflow unlike the shipped ones: every field type with tight limits, an
# enum named like a shipped one with other values, conditions with ranges and
# exclusions, and a step only a deadline may take.
ANY_SOP = """\
workflow: odd_jobs
version: 1
title: Odd jobs
customer_field: null
roles: {clerk: takes jobs, chief: closes jobs}
fields:
  code: {type: string, max_length: 1}
  severity: {type: enum, values: [low, high]}
  channel: {type: enum, values: [phone, wechat]}
  count: {type: integer, max: -5}
  ratio: {type: number, min: 0.5, max: 0.7}
  flag: {type: boolean}
  due: {type: datetime}
  amount: {type: integer}
  score: {type: number}
  grade: {type: enum, values: [a, b, c]}
  remark: {type: string}
states:
  new: {initial: true}
  open: {}
  done: {final: true, outcome: resolved}
  expired: {final: true, outcome: expired}
start:
  roles: [clerk]
  requires: [code, severity, channel, count, ratio, flag, due]
transitions:
  - event: take
    from: new
    to: open
    roles: [clerk]
    requires: [amount]
    when: amount > 10 and amount <= 12
  - event: finish
    from: open
    to: done
    roles: [chief]
    requires: [score, grade]
    optional: [remark]
    when: score >= 2.5 and grade not in [c] and remark is not set
  - {event: expire, from: open, to: expired, roles: [system]}
deadlines:
  finish_soon:
    scope: [open]
    after: 1d
    basis: working
    on_due: [{fire: expire}]
"""


def engine_on(directory: Path) -> Engine:
    from cswork import VirtualClock

    return Engine.from_directory(
        directory,
        clock=VirtualClock(local(2026, 2, 9, 0, 0)),
        notifier=CountingNotifier(),
    )


def test_any_workflow_is_driven_with_data_it_accepts(tmp_path: Path):
    (tmp_path / "odd_jobs.yaml").write_text(ANY_SOP, encoding="utf-8")
    engine = engine_on(tmp_path)
    stats = Simulator(engine, CONFIG).run()
    cases = engine.query()
    assert stats.started == {"odd_jobs": len(cases)}
    assert len(cases) > 40
    # Every value fits its field and every condition the step could satisfy
    # with its own data was satisfied: nothing was refused.
    assert stats.refused == 0
    assert {c.state for c in cases} >= {"done", "expired"}
    for case in cases:
        check_case(engine, case.id, engine.clock.now())
        assert len(case.data["code"]) == 1
        assert case.data["count"] <= -5
        assert 0.5 <= case.data["ratio"] <= 0.7
        assert case.data["channel"] in ("phone", "wechat")  # never "email"
    assert {c.data["severity"] for c in cases} == {"low", "high"}


def test_the_mix_is_derived_from_the_files_loaded(tmp_path: Path):
    shipped = {w: d.definition for w, d in _loaded(WORKFLOWS).items()}
    assert traffic_mix(shipped) == {
        w: DEFAULT_MIX.get(w, DEFAULT_SHARE) for w in shipped if DEFAULT_MIX.get(w, 1)
    }
    (tmp_path / "odd_jobs.yaml").write_text(ANY_SOP, encoding="utf-8")
    both = {**shipped, **{w: d.definition for w, d in _loaded(tmp_path).items()}}
    assert traffic_mix(both)["odd_jobs"] == DEFAULT_SHARE
    assert traffic_mix(both)["inquiry"] == DEFAULT_MIX["inquiry"]
    assert traffic_mix(both, {"odd_jobs": 3, "inquiry": 0}) == {"odd_jobs": 3}


def test_a_mix_that_does_not_fit_the_workflows_is_refused():
    shipped = {w: d.definition for w, d in _loaded(WORKFLOWS).items()}
    with pytest.raises(UnknownWorkflowError) as err:
        traffic_mix(shipped, {"invoices": 1.0})
    assert err.value.workflow_id == "invoices"
    assert set(err.value.known) == set(shipped)
    for bad in ({"inquiry": -1.0}, {"inquiry": float("nan")}, {"inquiry": 0.0}):
        with pytest.raises(SimulationError):
            traffic_mix(shipped, bad)
    with pytest.raises(SimulationError, match="no workflow is loaded"):
        traffic_mix({})
    # Only a deadline (the system) may start it: nobody to play.
    robots = shipped["inquiry"].model_copy(update={"start": Start(roles=["system"])})
    with pytest.raises(SimulationError, match="started by a person"):
        traffic_mix({"inquiry": robots})
    with pytest.raises(SimulationError, match="started by a person"):
        traffic_mix({**shipped, "inquiry": robots}, {"inquiry": 1.0})


def test_cases_that_other_cases_start_are_driven_without_a_share():
    engine = simulate(
        TrafficConfig(
            days=6, cases_per_day=12, seed=3, start=date(2026, 2, 9),
            mix={"repair": 1, "drill_program": 1},
        )
    )  # fmt: skip
    linked = [
        c for c in engine.query() if c.workflow_id not in ("repair", "drill_program")
    ]
    # A completed repair starts its service return visit (003) as well.
    kinds = {c.workflow_id for c in linked}
    assert kinds == {"parts_scrap", "emergency", "return_visit"}
    # They were driven: most of them are closed; return visits open 3 working
    # days after the repair, so only some of them are done within the 6 days.
    driven = [c for c in linked if c.workflow_id != "return_visit"]
    assert sum(c.closed for c in driven) > len(driven) / 2
    assert any(c.closed for c in linked if c.workflow_id == "return_visit")


def _loaded(directory: Path) -> dict[str, Any]:
    from cswork.definition import load_paths

    return {w.definition.workflow: w for w in load_paths([directory]).workflows}


# ------------------------------------------------------- a week that looks real
def test_arrivals_are_classified_by_the_calendar():
    from cswork._sim_stats import arrival_kinds
    from cswork.calendar import WorkingCalendar

    cal = WorkingCalendar()  # China: May Day 1-5 off, Saturday 9 May worked
    assert arrival_kinds(cal, local(2026, 4, 28, 10)) == ["working_hours"]
    assert arrival_kinds(cal, local(2026, 4, 28, 23)) == ["off_hours", "night"]
    assert arrival_kinds(cal, local(2026, 4, 28, 12, 30)) == ["off_hours"]  # lunch
    assert arrival_kinds(cal, local(2026, 5, 1, 10)) == ["off_hours", "holiday"]
    assert arrival_kinds(cal, local(2026, 5, 9, 10)) == ["working_hours", "makeup"]
    assert arrival_kinds(cal, local(2026, 5, 10, 3)) == [
        "off_hours",
        "night",
        "weekend",
    ]
    days = {d: cal.day_kind(date(2026, 5, d)) for d in (1, 5, 6, 9, 10)}
    assert days == {
        1: "holiday",
        5: "holiday",  # a weekday off, paid for by working on the 9th
        6: "working",
        9: "makeup",
        10: "weekend",
    }


MAY = TrafficConfig(days=14, cases_per_day=12, seed=5, start=date(2026, 4, 27))


def test_traffic_runs_through_nights_weekends_holidays_and_makeup_days():
    from cswork import VirtualClock

    engine = Engine.from_directory(
        WORKFLOWS,
        store=MemoryStore(),
        clock=VirtualClock(local(2026, 4, 27, 0, 0)),
        notifier=CountingNotifier(),
    )
    stats = Simulator(engine, MAY).run()
    arrivals = stats.arrivals
    for kind in ("night", "weekend", "holiday", "makeup", "off_hours"):
        assert arrivals[kind] > 0, kind
    started = sum(stats.started.values())
    assert arrivals["working_hours"] + arrivals["off_hours"] == started
    cal = engine.calendars["default"]
    on_holidays = [
        c
        for c in engine.query()
        if cal.day_kind(c.created_at.astimezone(cal.tz).date()) == "holiday"
    ]
    assert len(on_holidays) >= arrivals["holiday"]  # linked cases may add some
    traffic = stats.traffic()
    assert traffic["arrivals_holiday"] == arrivals["holiday"]
    assert traffic["reopenings"] == stats.reopenings


DESK = """\
workflow: desk
version: 1
title: A help desk with every kind of customer
roles: {agent: answers}
fields:
  customer_id: {type: string}
  question: {type: string}
states:
  open: {initial: true}
  waiting: {waits: customer}
  answered: {}
  done: {final: true, outcome: resolved}
  converted: {final: true, outcome: transferred}
  lost: {final: true, outcome: unreachable}
start: {roles: [agent], requires: [customer_id, question]}
transitions:
  - {event: ask_back, from: open, to: waiting, roles: [agent]}
  - {event: reply, from: waiting, to: answered, roles: [agent]}
  - {event: give_up, from: waiting, to: lost, roles: [agent], tags: [unreachable]}
  - {event: convert, from: [open, answered], to: converted, roles: [agent],
     tags: [convert]}
  - {event: reopen, from: answered, to: open, roles: [agent], tags: [reopen]}
  - {event: confirm, from: answered, to: done, roles: [agent]}
deadlines:
  chase:
    scope: [waiting]
    after: 4h
    basis: working
  first_reply:
    scope: [open]
    after: 2h
    basis: working
"""


def test_conversions_reopenings_and_unreachable_customers_are_played_and_counted(
    tmp_path: Path,
):
    """A workflow the simulator never heard of: its tags drive the traffic."""
    from cswork import VirtualClock

    (tmp_path / "desk.yaml").write_text(DESK, encoding="utf-8")
    engine = Engine.from_directory(
        tmp_path,
        clock=VirtualClock(local(2026, 4, 27, 0, 0)),
        notifier=CountingNotifier(),
    )
    config = TrafficConfig(
        days=10, cases_per_day=15, seed=3, start=date(2026, 4, 27), unreachable=0.3
    )
    stats = Simulator(engine, config).run()
    assert stats.started == {"desk": len(engine.query())}
    events = [
        e.event
        for c in engine.query()
        for e in engine.history(c.id)
        if e.kind == "event"
    ]
    assert stats.conversions == events.count("convert") > 0
    assert stats.reopenings == events.count("reopen") > 0
    assert stats.unreachable == events.count("give_up") > 0
    assert stats.silent > 0  # customers who let the chase deadline fall due
    chased = [
        t
        for c in engine.query()
        for t in engine.timers(c.id, pending_only=False)
        if t.deadline == "chase" and t.state == "fired"
    ]
    assert len(chased) >= stats.silent
    assert stats.traffic()["unreachable"] == stats.unreachable + stats.silent


def test_a_new_workflow_beside_the_shipped_ones_gets_traffic(tmp_path: Path):
    import shutil

    shutil.copytree(WORKFLOWS, tmp_path / "sops")
    (tmp_path / "sops" / "desk.yaml").write_text(DESK, encoding="utf-8")
    from cswork import VirtualClock

    engine = Engine.from_directory(
        tmp_path / "sops",
        clock=VirtualClock(local(2026, 2, 9, 0, 0)),
        notifier=CountingNotifier(),
    )
    stats = Simulator(engine, CONFIG).run()
    assert stats.started["desk"] > 0
    assert set(stats.started) >= {"inquiry", "desk"}


def test_simulate_prints_the_shape_of_the_week():
    import json

    from typer.testing import CliRunner

    from cswork.cli import app

    args = ["simulate", str(WORKFLOWS), "--days", "11", "--cases-per-day", "6"]
    args += ["--start", "2026-04-29", "--seed", "2"]
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "on holidays" in text.output
    assert "reopening(s)" in text.output
    assert "unreachable" in text.output
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    traffic = json.loads(result.output)["traffic"]
    assert traffic["arrivals_holiday"] > 0
    assert traffic["arrivals_makeup"] > 0
    assert {"conversions", "reopenings", "unreachable"} <= set(traffic)
