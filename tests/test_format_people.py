"""Issue 14, people: units, owners, assign, only, notices to people, held
notices outside working time, at_any_hour and on_call, queues by owner/unit.

One small ticket workflow, written inline and run through the public API on
a virtual clock; each scenario cites the source rule it serves.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import Actor, Engine, PermissionDeniedError
from cswork.definition import load_text
from cswork.errors import DefinitionError, InvalidDataError

from ._format import engine_for
from .conftest import Recorder, local
from .helpers import assert_consistent

TICKETS = """\
workflow: tickets
version: 1
title: Tickets routed to a department
customer_field: null
roles: {agent: takes calls, head: heads a department, engineer: repairs, duty: on call}
on_call: [duty]
fields:
  department: {type: enum, values: [technical, platform]}
  engineer: {type: string}
  owner: {type: string}       # owner_field and unit_field default to these
  unit: {type: string}
states:
  new: {initial: true, unowned: the desk's queue}
  routed: {unowned: the head picks an engineer}
  assigned: {}
  done: {final: true, outcome: resolved}
start: {roles: [agent]}
transitions:
  - event: route                               # 004 §2.4.2: routed to a department
    from: new
    to: routed
    roles: [agent]
    requires: [department]
    assign: {unit: {field: department}}
    actions:
      - {notify: ["unit:head"], message: a ticket for your department}
  - event: to_technical
    from: new
    to: routed
    roles: [agent]
    assign: {unit: technical}                  # a literal unit
  - event: plan                                # its head names the handler
    from: routed
    to: assigned
    roles: [head]
    only: unit
    requires: [engineer]
    assign: {owner: {field: engineer}}
    actions:
      - {notify: [owner], message: this ticket is yours}
  - {event: claim, from: routed, to: assigned, roles: [engineer], assign: {owner: actor}}
  - {event: hand_back, from: assigned, to: routed, roles: [engineer], only: owner,
     assign: {owner: null}}
  - {event: fix, from: assigned, to: done, roles: [engineer], only: owner}
  - event: alarm
    from: [new, routed, assigned]
    roles: [agent]
    actions:
      - {notify: [head], message: the line is down, at_any_hour: true}
      - {notify: [head], message: a routine note}
deadlines:
  fix_soon:
    scope: [assigned]
    after: 1d
    basis: working
    warn: {before: 1h, notify: [owner]}
"""

AGENT = Actor("li", {"agent"})
TECH_HEAD = Actor("zhao", {"head"}, units={"technical"})
PLATFORM_HEAD = Actor("qian", {"head"}, units={"platform"})
ZHOU = Actor("zhou", {"engineer"})
WU = Actor("wu", {"engineer"})


def _desk(at=None, notices: Recorder | None = None):  # type: ignore[no-untyped-def]
    engine, clock = engine_for(
        TICKETS, at=at or local(2026, 3, 3, 10), notifier=notices or Recorder()
    )
    return engine, clock


def _routed(engine: Engine, department: str = "platform") -> str:
    case = engine.start("tickets", AGENT)
    engine.fire(case.id, "route", AGENT, {"department": department})
    return case.id


# ------------------------------------------------------------------ assign
def test_a_unit_from_a_field_and_an_owner_from_a_field() -> None:
    """004 §2.4.2: the routed department's head names a 问题办理专员."""
    engine, _ = _desk()
    cid = _routed(engine)
    case = engine.get(cid)
    assert (case.owner, case.unit) == (None, "platform")
    assert case.data["unit"] == "platform"  # in its data (and so its history)
    case = engine.fire(cid, "plan", PLATFORM_HEAD, {"engineer": "zhou"})
    assert (case.owner, case.unit) == ("zhou", "platform")
    assert engine.history(cid)[-1].changes["owner"] == "zhou"
    assert_consistent(engine, cid)


def test_an_owner_named_by_blank_text_is_refused_and_nothing_changes() -> None:
    """001: a work order is assigned to *an* engineer — blank text names nobody,
    and a case owned by nobody in particular would sit in no one's queue."""
    engine, _ = _desk()
    cid = _routed(engine)
    before = (engine.get(cid), engine.history(cid), engine.timers(cid))
    for blank in (" ", "\t", "\u3000"):
        with pytest.raises(InvalidDataError) as err:
            engine.fire(cid, "plan", PLATFORM_HEAD, {"engineer": blank})
        assert "engineer" in err.value.field_errors
    assert (engine.get(cid), engine.history(cid), engine.timers(cid)) == before


def test_a_literal_unit() -> None:
    engine, _ = _desk()
    case = engine.start("tickets", AGENT)
    assert engine.fire(case.id, "to_technical", AGENT).unit == "technical"


def test_claim_hand_back_and_claim_again() -> None:
    """001: a work order is assigned to *an* engineer; he may hand it back."""
    engine, _ = _desk()
    cid = _routed(engine)
    assert engine.fire(cid, "claim", ZHOU).owner == "zhou"  # owner: actor
    case = engine.fire(cid, "hand_back", ZHOU)  # owner: null
    assert (case.owner, case.state) == (None, "routed")
    assert engine.fire(cid, "claim", WU).owner == "wu"


def test_assign_names_owner_or_unit() -> None:
    bad = TICKETS.replace("assign: {owner: actor}", "assign: {}")
    with pytest.raises(DefinitionError):
        load_text(bad)
    bad = TICKETS.replace("{owner: {field: engineer}}", "{owner: {field: enginer}}")
    with pytest.raises(DefinitionError) as err:
        load_text(bad)
    assert "enginer" in str(err.value)


# -------------------------------------------------------------------- only
def test_only_the_routed_units_head_may_plan() -> None:
    """004 §2.4.2: only the head of the department it was routed to."""
    engine, _ = _desk()
    cid = _routed(engine, "platform")
    before = (engine.get(cid), engine.history(cid))
    with pytest.raises(PermissionDeniedError) as err:
        engine.fire(cid, "plan", TECH_HEAD, {"engineer": "zhou"})
    assert "'platform'" in str(err.value)  # says who may act
    assert err.value.actor_id == "zhao"
    assert (engine.get(cid), engine.history(cid)) == before
    assert engine.allowed_events(cid, TECH_HEAD) == []
    assert engine.allowed_events(cid, PLATFORM_HEAD) == ["plan"]


def test_only_the_owner_may_record_the_repair() -> None:
    """001: only the assigned engineer records the onsite repair."""
    engine, _ = _desk()
    cid = _routed(engine)
    engine.fire(cid, "plan", PLATFORM_HEAD, {"engineer": "zhou"})
    with pytest.raises(PermissionDeniedError) as err:
        engine.fire(cid, "fix", WU)
    assert "'zhou'" in str(err.value)
    assert engine.allowed_events(cid, WU) == []
    assert sorted(engine.allowed_events(cid, ZHOU)) == ["fix", "hand_back"]
    assert engine.fire(cid, "fix", ZHOU).state == "done"


def test_a_handed_back_case_stays_with_its_unit() -> None:
    engine, _ = _desk()
    cid = _routed(engine, "technical")
    engine.fire(cid, "claim", ZHOU)
    case = engine.fire(cid, "hand_back", ZHOU)
    assert (case.owner, case.unit) == (None, "technical")
    with pytest.raises(PermissionDeniedError):
        engine.fire(cid, "plan", PLATFORM_HEAD, {"engineer": "wu"})
    assert engine.fire(cid, "plan", TECH_HEAD, {"engineer": "wu"}).owner == "wu"


def test_only_needs_an_owner_or_unit_field() -> None:
    text = TICKETS.replace("  owner: {type: string}       # owner_field and unit_field "
                           "default to these\n", "")  # fmt: skip
    with pytest.raises(DefinitionError) as err:
        load_text(text)
    assert "owner" in str(err.value)


# ----------------------------------------------------------------- notices
def test_a_routed_notice_goes_to_the_head_of_that_unit() -> None:
    notices = Recorder()
    engine, _ = _desk(notices=notices)
    _routed(engine, "platform")
    (routed,) = [n for n in notices.notices if n.reason == "route"]
    assert (routed.roles, routed.persons, routed.unit, routed.unit_roles) == (
        (), (), "platform", ("head",),
    )  # fmt: skip


def test_an_owner_notice_names_the_person() -> None:
    notices = Recorder()
    engine, _ = _desk(notices=notices)
    cid = _routed(engine)
    engine.fire(cid, "plan", PLATFORM_HEAD, {"engineer": "zhou"})
    (mine,) = [n for n in notices.notices if n.reason == "plan"]
    assert (mine.roles, mine.persons) == ((), ("zhou",))  # the owner after the step


def test_notices_outside_working_time_wait_for_the_next_working_period() -> None:
    """000 §2.1 working hours: routine notices at 22:00 reach people at 09:00."""
    notices = Recorder()
    engine, _clock = _desk(at=local(2026, 3, 3, 22), notices=notices)
    case = engine.start("tickets", AGENT)
    engine.fire(case.id, "alarm", AGENT)
    (urgent,) = notices.notices  # the routine note is held
    assert urgent.message == "the line is down"
    assert urgent.held_until is None
    assert urgent.roles == ("head", "duty")  # on_call roles told as well
    engine.advance(timedelta(hours=10, minutes=59))  # 08:59
    assert len(notices.notices) == 1
    engine.advance(timedelta(minutes=2))
    routine = notices.notices[-1]
    assert routine.message == "a routine note"
    assert routine.roles == ("head",)  # no on-call roles for it
    assert routine.at == local(2026, 3, 3, 22)  # made at 22:00 ...
    assert routine.held_until == local(2026, 3, 4, 9)  # ... delivered at 09:00


def test_in_working_time_notices_go_at_once_without_on_call_roles() -> None:
    notices = Recorder()
    engine, _ = _desk(at=local(2026, 3, 3, 10), notices=notices)
    case = engine.start("tickets", AGENT)
    engine.fire(case.id, "alarm", AGENT)
    assert [(n.roles, n.held_until) for n in notices.notices] == [
        (("head",), None), (("head",), None),
    ]  # fmt: skip


def test_a_warning_to_the_owner_names_the_person_in_working_time() -> None:
    notices = Recorder()
    engine, _ = _desk(at=local(2026, 3, 6, 17, 30), notices=notices)  # Friday
    cid = _routed(engine)
    engine.fire(cid, "claim", WU)  # due Monday 17:30, warned at 16:30
    (timer,) = [t for t in engine.timers(cid) if t.kind == "warn"]
    assert timer.due_at == local(2026, 3, 9, 16, 30)  # one working hour before
    engine.advance(timedelta(days=3, hours=1))
    (warning,) = [n for n in notices.notices if n.reason == "fix_soon"]
    assert warning.persons == ("wu",)
    assert warning.held_until is None  # Monday 16:30 is working time


# ----------------------------------------------------------------- queries
def test_queues_by_owner_unit_and_assigned() -> None:
    engine, _ = _desk()
    mine = _routed(engine, "platform")
    theirs = _routed(engine, "technical")
    engine.fire(mine, "plan", PLATFORM_HEAD, {"engineer": "zhou"})
    assert [c.id for c in engine.query(owner="zhou")] == [mine]
    assert [c.id for c in engine.query(unit="technical")] == [theirs]
    assert [c.id for c in engine.query(assigned=False)] == [theirs]
    assert engine.count(assigned=True) == 1
    assert engine.count(unit="platform", owner="zhou") == 1


def test_a_warning_at_any_hour_goes_at_once_with_the_on_call_roles() -> None:
    """004 §2.4.2 3): very urgent cases are followed at any hour."""
    text = TICKETS.replace(
        "    after: 1d\n    basis: working\n    warn: {before: 1h, notify: [owner]}",
        "    after: 12h\n    basis: wall\n"
        "    warn: {before: 1h, notify: [owner], at_any_hour: true}",
    )
    notices = Recorder()
    engine, _ = engine_for(text, at=local(2026, 3, 3, 11), notifier=notices)
    cid = _routed(engine)
    engine.fire(cid, "claim", WU)  # due 23:00, warned at 22:00
    engine.advance(timedelta(hours=11, minutes=1))
    (warning,) = [n for n in notices.notices if n.reason == "fix_soon"]
    assert warning.at == local(2026, 3, 3, 22)
    assert warning.held_until is None
    assert (warning.persons, warning.roles) == (("wu",), ("duty",))
