"""Issues 14 and 19, deadlines: windows, months, offsets, anchors, working days.

Each scenario is a small workflow written inline, run through the public API
on a virtual clock, and cites the source rule it serves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cswork import Actor, ConditionNotMetError
from cswork.definition import load_text
from cswork.errors import DefinitionError
from cswork.testing import invariants as inv

from ._format import dues, engine_for, entries
from .conftest import local
from .helpers import assert_consistent

AGENT = Actor("a", {"agent"})


def flow(deadlines: str) -> str:
    """A service case: open → classified → contacted → done, with ``deadlines``."""
    return f"""\
workflow: w
version: 1
title: A service case
customer_field: null
roles: {{agent: takes calls}}
fields:
  promised_at: {{type: datetime}}
  severity: {{type: enum, values: [low, high]}}
states:
  open: {{initial: true}}
  classified: {{}}
  contacted: {{}}
  done: {{final: true}}
start: {{roles: [agent], optional: [promised_at]}}
transitions:
  - {{event: call, from: [open, classified], roles: [agent]}}
  - {{event: classify, from: open, to: classified, roles: [agent], requires: [severity]}}
  - {{event: contact, from: classified, to: contacted, roles: [agent]}}
  - {{event: finish, from: [open, classified, contacted], to: done, roles: [agent]}}
deadlines:
{deadlines}"""


# ------------------------------------------------------------------ windows
WINDOW = """\
  return_call:          # 003: call the customer on day 7, not before day 6
    scope: [open]
    after: 7d
    not_before: 6d
    basis: wall
    early: {early}
    met_by: [call]
"""


def test_a_call_before_the_window_opens_is_refused_and_changes_nothing() -> None:
    """003: return visits "on day 7": an early call does not count as on time."""
    engine, _ = engine_for(
        flow(WINDOW.format(early="refuse")), at=local(2026, 3, 3, 10)
    )
    case = engine.start("w", AGENT)
    before = (engine.get(case.id), engine.history(case.id))
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(case.id, "call", AGENT)
    message = str(err.value)
    assert "return_call" in message
    assert "too early" in message
    assert "2026-03-09T02:00:00+00:00" in message  # when the window opens (day 6)
    assert (engine.get(case.id), engine.history(case.id)) == before

    engine.advance(timedelta(days=6, minutes=1))  # inside the window
    engine.fire(case.id, "call", AGENT)
    assert engine.history(case.id)[-1].detail["met"] == ["return_call"]
    assert engine.get(case.id).breaches == 0
    assert_consistent(engine, case.id)


def test_early_miss_takes_the_step_and_counts_the_deadline_as_missed() -> None:
    engine, _ = engine_for(flow(WINDOW.format(early="miss")), at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT)
    engine.advance(timedelta(days=2))
    after = engine.fire(case.id, "call", AGENT)  # allowed ...
    assert engine.history(case.id)[-1].detail["missed_early"] == ["return_call"]
    assert after.breaches == 1  # ... and counted against the SOP
    assert "return_call" not in after.armed  # it will not fall due as well
    engine.advance(timedelta(days=10))
    assert entries(engine, case.id, "deadline") == []
    assert_consistent(engine, case.id)


def test_a_window_that_never_opens_is_refused_by_the_loader() -> None:
    bad = WINDOW.format(early="refuse").replace("not_before: 6d", "not_before: 8d")
    text = flow(bad)
    with pytest.raises(DefinitionError) as err:
        load_text(text)
    (problem,) = err.value.problems
    assert "not_before: 8d" in text.splitlines()[problem.line - 1]  # points at it
    assert "8d" in problem.message
    assert "7d" in problem.message


# ------------------------------------------------------------------- months
@pytest.mark.parametrize(
    ("start", "after", "due"),
    [
        (local(2026, 3, 3, 10), "1mo", local(2026, 4, 3, 10)),
        (local(2026, 1, 31, 10), "1mo", local(2026, 2, 28, 10)),  # the month's end
        (local(2028, 1, 31, 10), "1mo", local(2028, 2, 29, 10)),  # a leap year
        (local(2026, 1, 31, 10), "1mo15d", local(2026, 3, 15, 10)),  # months first
        (local(2026, 12, 15, 10), "2mo", local(2027, 2, 15, 10)),  # over a year
    ],
)
def test_months_are_calendar_months(start: datetime, after: str, due: datetime) -> None:
    """003: return visits "at one month" — a month, not 30 days."""
    text = flow(f"  visit:\n    scope: [open]\n    after: {after}\n    basis: wall\n")
    engine, _ = engine_for(text, at=start)
    case = engine.start("w", AGENT)
    assert dues(engine, case.id) == {"visit": due}
    inv.check_case(engine, case.id)  # the kit's own due-time check agrees


def test_months_have_no_working_time() -> None:
    text = flow("  visit:\n    scope: [open]\n    after: 1mo\n    basis: working\n")
    with pytest.raises(DefinitionError) as err:
        load_text(text)
    assert "basis: wall" in str(err.value)


# ------------------------------------------------------------ at + offset
@pytest.mark.parametrize(
    ("basis", "due"),
    [
        ("wall", local(2026, 3, 8, 15)),  # Sunday 15:00: 24 hours before
        ("working", local(2026, 3, 6, 15)),  # Friday 15:00: one working day before
    ],
)
def test_an_offset_shifts_an_at_deadline(basis: str, due: datetime) -> None:
    """000 §4.2: contact the customer 1 day before the promised delivery."""
    text = flow(
        "  remind:\n    scope: [open]\n    at: promised_at\n"
        f"    offset: -1d\n    basis: {basis}\n"
    )
    engine, _ = engine_for(text, at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT, {"promised_at": "2026-03-09T15:00:00+08:00"})
    assert dues(engine, case.id) == {"remind": due}  # Monday 15:00 is promised


def test_an_offset_needs_its_basis() -> None:
    text = flow("  remind:\n    scope: [open]\n    at: promised_at\n    offset: -1d\n")
    with pytest.raises(DefinitionError) as err:
        load_text(text)
    assert "basis" in str(err.value)


def test_a_warning_before_an_at_deadline_counts_wall_clock_time() -> None:
    text = flow(
        "  remind:\n    scope: [open]\n    at: promised_at\n"
        "    warn: {before: 2h, notify: [agent]}\n"
    )
    engine, _ = engine_for(text, at=local(2026, 3, 6, 17))  # Friday
    case = engine.start("w", AGENT, {"promised_at": "2026-03-09T09:30:00+08:00"})
    assert dues(engine, case.id, "warn") == {"remind": local(2026, 3, 9, 7, 30)}


# ----------------------------------------------------------------- off_hours
OFF_HOURS = """\
  answer:               # 000 §2.1: answer within 30 s; outside working time,
    scope: [open]       # within the first working hour after opening
    after: 30s
    basis: wall
    off_hours: {after: 1h, basis: working}
"""


@pytest.mark.parametrize(
    ("called", "due"),
    [
        (local(2026, 3, 3, 10), local(2026, 3, 3, 10, 0, 30)),  # in working time
        (local(2026, 3, 3, 22), local(2026, 3, 4, 10)),  # Tuesday night
        (local(2026, 3, 6, 19), local(2026, 3, 9, 10)),  # Friday evening
        (local(2026, 3, 3, 12, 30), local(2026, 3, 3, 14)),  # the lunch break
    ],
)
def test_a_contact_outside_working_time_is_due_in_the_first_working_hour(
    called: datetime, due: datetime
) -> None:
    engine, _ = engine_for(flow(OFF_HOURS), at=called)
    case = engine.start("w", AGENT)
    assert dues(engine, case.id) == {"answer": due}


def test_off_hours_is_breached_only_after_the_first_working_hour() -> None:
    engine, _ = engine_for(flow(OFF_HOURS), at=local(2026, 3, 3, 22))
    case = engine.start("w", AGENT)
    engine.advance(timedelta(hours=11, minutes=59))  # 09:59 Wednesday
    assert engine.get(case.id).breaches == 0
    engine.advance(timedelta(minutes=2))
    (breach,) = entries(engine, case.id, "deadline")
    assert breach.at == local(2026, 3, 4, 10)


# ------------------------------------------------------------ on_working_day
ON_WORKING_DAY = """\
  visit:                # 001: return visits fall on working days
    scope: [open]
    after: 3d
    basis: wall
    on_working_day: true
"""


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (local(2026, 3, 4, 10), local(2026, 3, 9, 9)),  # Saturday → Monday 09:00
        (local(2026, 3, 5, 15), local(2026, 3, 9, 9)),  # Sunday 15:00 → Monday
        (local(2026, 3, 5, 20), local(2026, 3, 9, 9)),  # Sunday night → Monday
        (local(2026, 3, 2, 20), local(2026, 3, 6, 9)),  # Thursday 20:00 → Friday
        (local(2026, 3, 3, 10), local(2026, 3, 6, 10)),  # already a working time
        # The Spring Festival 2026 (15-23 Feb) is off; Saturday 14 Feb and
        # 28 Feb are make-up working days (调休).
        (local(2026, 2, 12, 10), local(2026, 2, 24, 9)),  # over the holiday
        (local(2026, 2, 11, 10), local(2026, 2, 14, 10)),  # a make-up Saturday
        (local(2026, 9, 30, 10), local(2026, 10, 8, 9)),  # National Day week
    ],
)
def test_a_due_time_outside_working_time_moves_to_the_next_working_period(
    start: datetime, due: datetime
) -> None:
    engine, _ = engine_for(flow(ON_WORKING_DAY), at=start)
    case = engine.start("w", AGENT)
    assert dues(engine, case.id) == {"visit": due}


# -------------------------------------------------------------------- from
FROM_START = """\
  contact:              # 004 §2.4.2: within 4 h of acceptance (受理)
    scope: [classified]
    from: start
    after: 4h
    basis: wall
    met_by: [contact]
    on_due: [{{notify: [agent]}}]
"""


def test_from_start_counts_from_acceptance_not_from_entering_the_scope() -> None:
    engine, clock = engine_for(flow(FROM_START.format()), at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT)
    clock.set(local(2026, 3, 3, 12))
    engine.fire(case.id, "classify", AGENT, {"severity": "high"})
    assert dues(engine, case.id) == {"contact": local(2026, 3, 3, 14)}


def test_armed_late_and_already_past_is_breached_at_once_with_its_true_due_time() -> (
    None
):
    """004 §2.4.2: received 10:00, classified 20:00 — the 14:00 limit is gone."""
    engine, clock = engine_for(flow(FROM_START.format()), at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT)
    clock.set(local(2026, 3, 3, 20))
    engine.fire(case.id, "classify", AGENT, {"severity": "high"})
    (breach,) = entries(engine, case.id, "deadline")
    assert breach.event == "contact"
    assert breach.at == local(2026, 3, 3, 20)  # recorded when it was armed ...
    assert datetime.fromisoformat(str(breach.detail["due_at"])) == local(2026, 3, 3, 14)
    assert breach.detail["outcome"] == "breached"
    assert breach.detail["notified"] == ["agent"]  # ... and its on_due ran
    assert engine.get(case.id).breaches == 1
    assert engine.timers(case.id) == []
    assert_consistent(engine, case.id)


FROM_EVENT = """\
  call_back:            # call back within 2 h of the last call
    scope: [classified]
    from: {event: call}
    after: 2h
    basis: wall
"""


def test_from_an_event_counts_from_its_last_occurrence() -> None:
    engine, clock = engine_for(flow(FROM_EVENT), at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT)
    clock.set(local(2026, 3, 3, 10, 30))
    engine.fire(case.id, "call", AGENT)
    clock.set(local(2026, 3, 3, 11))
    engine.fire(case.id, "call", AGENT)  # the last one counts
    clock.set(local(2026, 3, 3, 12))
    engine.fire(case.id, "classify", AGENT, {"severity": "low"})
    assert dues(engine, case.id) == {"call_back": local(2026, 3, 3, 13)}


def test_from_an_event_that_never_happened_counts_from_the_scope() -> None:
    engine, clock = engine_for(flow(FROM_EVENT), at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT)
    clock.set(local(2026, 3, 3, 12))
    engine.fire(case.id, "classify", AGENT, {"severity": "low"})
    assert dues(engine, case.id) == {"call_back": local(2026, 3, 3, 14)}


FROM_FIELD = """\
  chase:                # chase the delivery a day after the promised time
    scope: [open]
    from: {field: promised_at}
    after: 1d
    basis: wall
"""


def test_from_a_field_counts_from_its_time_and_waits_while_it_is_unset() -> None:
    engine, _ = engine_for(flow(FROM_FIELD), at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})
    assert dues(engine, case.id) == {"chase": local(2026, 3, 6, 10)}
    unset = engine.start("w", AGENT)
    assert dues(engine, unset.id) == {}


def test_from_names_a_known_event_and_a_datetime_field() -> None:
    bad = FROM_EVENT.replace("event: call", "event: cal")
    with pytest.raises(DefinitionError):
        load_text(flow(bad))
    bad = FROM_FIELD.replace("field: promised_at", "field: severity")
    with pytest.raises(DefinitionError):
        load_text(flow(bad))


# ------------------------------------------------------------------ met_in
MET_IN = """\
  first_contact:
    scope: [classified, contacted]
    after: 4h
    basis: wall
    met_in: [contacted]
"""


def test_entering_a_met_in_state_meets_the_deadline() -> None:
    """The obligation is met by reaching a state, whatever event leads there."""
    engine, _ = engine_for(flow(MET_IN), at=local(2026, 3, 3, 10))
    case = engine.start("w", AGENT)
    engine.fire(case.id, "classify", AGENT, {"severity": "high"})
    assert set(dues(engine, case.id)) == {"first_contact"}
    engine.fire(case.id, "contact", AGENT)
    assert engine.history(case.id)[-1].detail["met"] == ["first_contact"]
    assert dues(engine, case.id) == {}
    engine.advance(timedelta(days=1))
    assert engine.get(case.id).breaches == 0
    assert_consistent(engine, case.id)
