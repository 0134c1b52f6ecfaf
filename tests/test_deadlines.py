"""Deadline semantics on the virtual clock: scopes, kinds, warnings, actions, explain."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from cswork import Actor, CsworkError, Engine, VirtualClock
from cswork.definition import load_text
from cswork.storage import MemoryStore

from .conftest import AGENT, LEAD, local
from .helpers import assert_consistent, routed_complaint, steps

FLOW = """\
workflow: flow
version: 1
title: Deadline playground
roles: {agent: a, boss: b}
fields:
  customer_id: {type: string}
  when_at: {type: datetime}
  level: {type: enum, values: [low, high]}
  flagged: {type: boolean}
counters:
  pokes: {}
states:
  new: {initial: true}
  open: {}
  waiting: {}
  late: {}
  done: {final: true}
start: {roles: [agent], requires: [customer_id], optional: [level, when_at]}
transitions:
  - {event: open, from: new, to: open, roles: [agent]}
  - {event: wait, from: open, to: waiting, roles: [agent]}
  - {event: resume, from: waiting, to: open, roles: [agent]}
  - {event: poke, from: [open, waiting], roles: [agent], optional: [when_at]}
  - {event: escalate, from: [open, waiting], to: late, roles: [boss, system]}
  - {event: finish, from: [open, waiting, late], to: done, roles: [agent, boss]}
deadlines:
  respond:
    scope: [open, waiting]
    after: 2h
    basis: working
    warn: {percent: 50, notify: [agent]}
    met_by: [poke]
    on_due:
      - notify: [boss]
      - {set: {flagged: true}}
      - {increment: pokes}
      - fire: escalate
  appointment:
    scope: [open]
    at: when_at
    warn: {before: 10m, notify: [agent]}
  high_only:
    scope: [open]
    when: level == high
    after: 30m
    basis: wall
  hourly:
    scope: [waiting]
    every: 1h
    basis: wall
    met_by: [poke]
"""
A = Actor("a", {"agent"})


@pytest.fixture
def flow(clock: VirtualClock) -> Engine:
    return Engine([load_text(FLOW)], store=MemoryStore(), clock=clock)  # type: ignore[list-item]


def start(engine: Engine, **data: object) -> str:
    case = engine.start("flow", A, {"customer_id": "C", **data})
    engine.fire(case.id, "open", A)
    return case.id


def test_each_timer_fires_at_its_own_due_time_in_order(flow: Engine):
    cid = start(flow, when_at="2026-03-03T11:00:00+08:00", level="high")
    # opened Tue 10:00: high_only 10:30, appointment warn 10:50 / due 11:00,
    # respond warn 11:00 (50 % of 2 working hours) / due 12:00
    flow.advance(timedelta(hours=3, minutes=30))
    fired = [
        (h.kind, h.event, h.at)
        for h in flow.history(cid)
        if h.kind not in ("start", "event")
    ]
    assert fired == [
        ("deadline", "high_only", local(2026, 3, 3, 10, 30)),
        ("warning", "appointment", local(2026, 3, 3, 10, 50)),
        ("warning", "respond", local(2026, 3, 3, 11, 0)),  # armed first
        ("deadline", "appointment", local(2026, 3, 3, 11, 0)),
        ("deadline", "respond", local(2026, 3, 3, 12, 0)),
    ]
    case = flow.get(cid)
    # on_due: set data, bump a counter, fire an event as the system
    assert (case.state, case.data["flagged"], case.counters["pokes"]) == (
        "late",
        True,
        1,
    )
    assert case.breaches == 3
    assert steps(flow, cid)[-1] == "escalate"
    assert flow.history(cid)[-1].actor == "cswork"
    assert_consistent(flow, cid)


def test_leaving_the_scope_cancels_for_good(flow: Engine):
    cid = start(flow)
    flow.advance(timedelta(minutes=30))
    flow.fire(cid, "finish", A)
    flow.advance(timedelta(days=7))
    assert flow.get(cid).breaches == 0
    timers = flow.timers(cid, pending_only=False)
    assert {(t.deadline, t.kind, t.state) for t in timers} == {
        ("respond", "due", "cancelled"),
        ("respond", "warn", "cancelled"),
    }
    assert all(t.closed_at == local(2026, 3, 3, 10, 30) for t in timers)


def test_moving_within_the_scope_keeps_the_timer(flow: Engine):
    cid = start(flow)
    (before,) = [
        t for t in flow.timers(cid) if t.deadline == "respond" and t.kind == "due"
    ]
    flow.fire(cid, "wait", A)  # open -> waiting: both in scope
    (after,) = [
        t for t in flow.timers(cid) if t.deadline == "respond" and t.kind == "due"
    ]
    assert before == after


def test_met_by_event_meets_a_one_shot_deadline(flow: Engine):
    cid = start(flow)
    flow.fire(cid, "poke", A)
    assert flow.history(cid)[-1].detail["met"] == ["respond"]
    assert [t.deadline for t in flow.timers(cid)] == []
    flow.advance(timedelta(days=1))
    assert flow.get(cid).breaches == 0


def test_when_is_evaluated_on_entering(flow: Engine):
    cid = start(flow, level="low")
    assert "high_only" not in flow.get(cid).armed


def test_at_deadline_unset_then_set_then_moved(flow: Engine):
    cid = start(flow)
    assert "appointment" not in flow.get(cid).armed  # no time yet
    flow.fire(cid, "poke", A, {"when_at": "2026-03-03T15:00:00+08:00"})
    assert flow.get(cid).armed["appointment"] == local(2026, 3, 3, 15, 0)
    flow.fire(cid, "poke", A, {"when_at": "2026-03-04T09:00:00+08:00"})
    due = [
        t for t in flow.timers(cid) if t.deadline == "appointment" and t.kind == "due"
    ]
    assert [t.due_at for t in due] == [local(2026, 3, 4, 9, 0)]
    assert_consistent(flow, cid)


def test_recurring_obligation_reports_each_period(flow: Engine):
    cid = start(flow)
    flow.fire(cid, "poke", A)  # meets respond
    flow.fire(cid, "wait", A)
    flow.advance(timedelta(minutes=20))
    flow.fire(cid, "poke", A)  # period 1 met
    flow.advance(timedelta(hours=2, minutes=50))  # periods 2 and 3 missed
    flow.fire(cid, "resume", A)  # leaves the scope: period 4 is cancelled
    periods = [
        (h.detail["period"], h.detail["outcome"], h.at)
        for h in flow.history(cid)
        if h.kind == "period"
    ]
    assert periods == [
        (1, "met", local(2026, 3, 3, 11, 0)),
        (2, "missed", local(2026, 3, 3, 12, 0)),
        (3, "missed", local(2026, 3, 3, 13, 0)),
    ]
    assert flow.get(cid).breaches == 2
    assert [
        t.state for t in flow.timers(cid, pending_only=False) if t.deadline == "hourly"
    ] == ["fired", "fired", "fired", "cancelled"]
    assert_consistent(flow, cid)


def test_every_timer_ends_exactly_once(flow: Engine):
    cids = [
        start(flow, when_at="2026-03-03T12:00:00+08:00", level="high") for _ in range(5)
    ]
    flow.fire(cids[0], "finish", A)
    flow.fire(cids[1], "wait", A)
    flow.advance(timedelta(days=2))
    for cid in cids:
        for t in flow.timers(cid, pending_only=False):
            assert t.state in ("fired", "cancelled", "pending")
            if t.state == "fired":
                assert t.closed_at is not None
                assert t.closed_at >= t.due_at
        fired_ids = [
            h.detail["timer"] for h in flow.history(cid) if "timer" in h.detail
        ]
        assert len(fired_ids) == len(set(fired_ids))  # none fired twice
        assert set(fired_ids) == {
            t.id for t in flow.timers(cid, pending_only=False) if t.state == "fired"
        }
        assert_consistent(flow, cid)


def test_explain_shows_the_derivation(make_engine):
    engine = make_engine(clock=VirtualClock(local(2026, 2, 13, 16, 0)))
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "email", "question": "?"}
    )
    engine.fire(case.id, "respond", AGENT)
    engine.fire(case.id, "transfer", AGENT, {"question_detail": "d"})
    text = engine.explain(case.id, "answer_complex").text
    assert text[2:] == (
        "basis: working time on calendar 'default'",
        "add 8h of working time",
        "start Fri 2026-02-13 16:00 +08:00",
        "used Fri 2026-02-13 16:00–18:00 (2h)",
        "used Sat 2026-02-14 09:00–12:00 (3h, make-up working day)",
        "used Sat 2026-02-14 13:00–16:00 (3h, make-up working day)",
        "due Sat 2026-02-14 16:00 +08:00 (make-up working day)",
    )
    with pytest.raises(CsworkError, match="has no timer 'nope'"):
        engine.explain(case.id, "nope")


def test_explain_wall_clock_and_field_deadlines(flow: Engine):
    cid = start(flow, when_at="2026-03-03T12:00:00+08:00", level="high")
    assert flow.explain(cid, "high_only").text[-2:] == (
        "+ 30m on the wall clock",
        "due 2026-03-03T02:30:00+00:00",
    )
    assert flow.explain(cid, "appointment").basis == "field"


def test_due_in_a_year_without_holiday_data_is_flagged(make_engine, caplog):
    # a year whose make-up working days China has not published yet (2027 was
    # one until the holidays package caught up: a fixed near year goes stale)
    engine = make_engine(clock=VirtualClock(local(2040, 3, 1, 10, 0)))
    with caplog.at_level(logging.WARNING, logger="cswork.deadlines"):
        case = engine.start(
            "inquiry", AGENT, {"customer_id": "C", "channel": "email", "question": "?"}
        )
    (warning,) = engine.history(case.id)[0].detail["calendar_warnings"]
    assert "2040" in warning
    assert "no complete holiday data" in caplog.text


def test_calendar_overrides_from_yaml(tmp_path, clock: VirtualClock):
    cal = tmp_path / "cal.yaml"
    cal.write_text(
        "calendar: default\ncountry: CN\nholidays: [2026-03-04]\n"
        "working_days: [2026-03-07]\n"
    )
    (tmp_path / "flow.yaml").write_text(
        FLOW.replace(
            "scope: [open, waiting]\n    after: 2h",
            "scope: [open, waiting]\n    after: 2d",
        )
    )
    engine = Engine.from_directory(tmp_path, clock=clock)
    cid = start(engine)
    # Tue 10:00 + 16 working hours, Wednesday off: Thu 18:00... then Sat works.
    due = [
        t.due_at
        for t in engine.timers(cid)
        if t.deadline == "respond" and t.kind == "due"
    ]
    assert due == [local(2026, 3, 6, 10, 0)]
    assert LEAD  # the shipped roles are unaffected


def test_explain_follows_the_current_chain_of_periods(
    engine: Engine, clock: VirtualClock
):
    """Found by the state machine: after leaving and re-entering the scope,
    period numbers repeat; the derivation must use this chain's previous period."""
    from cswork.testing.invariants import check_case

    from .conftest import HEAD

    case = engine.get(routed_complaint(engine, "important"))
    engine.advance(timedelta(days=3))
    engine.fire(
        case.id,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-20T10:00:00Z",
            "measures": "m",
            "handler": HEAD.id,
        },
    )
    engine.fire(
        case.id,
        "resolve",
        HEAD,
        {"resolution": "r", "evidence": "e", "responsible_person": "p"},
    )
    engine.fire(case.id, "inform_result", LEAD, {"result_note": "n"})
    engine.advance(timedelta(hours=3))
    engine.fire(case.id, "reopen", LEAD, {"reopen_reason": "x"})
    engine.advance(timedelta(days=3))
    periods = [
        t
        for t in engine.timers(case.id, pending_only=False)
        if t.deadline == "daily_contact_important"
    ]
    assert [t.period for t in periods].count(2) == 2  # two chains
    check_case(engine, case.id, clock.now())
    latest = max(periods, key=lambda t: t.armed_at)
    previous = max(
        (t for t in periods if t.period == latest.period - 1), key=lambda t: t.due_at
    )
    assert engine.explain(case.id, latest.id).start == previous.due_at


def test_an_at_deadline_whose_condition_is_false_stays_unarmed_when_its_time_is_set(
    clock: VirtualClock,
):
    text = FLOW.replace(
        "    at: when_at\n", "    at: when_at\n    when: level == high\n"
    )
    flow = Engine([load_text(text)], store=MemoryStore(), clock=clock)  # type: ignore[list-item]
    low = start(flow, level="low")
    flow.fire(low, "poke", A, {"when_at": "2026-03-03T15:00:00+08:00"})
    assert "appointment" not in flow.get(low).armed
    high = start(flow, level="high")
    flow.fire(high, "poke", A, {"when_at": "2026-03-03T15:00:00+08:00"})
    assert "appointment" in flow.get(high).armed


def test_a_step_taken_after_an_unfired_due_time_records_the_breach_first(
    engine: Engine, clock: VirtualClock
):
    """No worker ran (the clock was merely set): the late step must not hide the miss."""
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "email", "question": "?"}
    )
    clock.set(local(2026, 3, 3, 12, 30))  # due 11:00; nothing has fired it
    engine.fire(case.id, "respond", AGENT)
    assert [h.kind for h in engine.history(case.id)] == [
        "start",
        "warning",
        "deadline",
        "event",
    ]
    assert engine.get(case.id).breaches == 1
    assert_consistent(engine, case.id)
