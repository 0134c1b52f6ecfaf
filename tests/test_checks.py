"""Static checks of how a workflow's parts refer to each other."""

from __future__ import annotations

import pytest

from cswork.definition import load_text
from cswork.errors import DefinitionError

from .test_loader import GOOD


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as err:
        load_text(text, "wf.yaml")
    return [p.message + (f" ({p.hint})" if p.hint else "") for p in err.value.problems]


def test_unreachable_state():
    text = GOOD.replace(
        "  closed: {final: true}", "  closed: {final: true}\n  lost: {}"
    )
    assert problems(text) == [
        "state 'lost' cannot be reached from the initial state 'new'"
    ]


def test_trap_state_without_a_way_to_a_final_state():
    text = GOOD + "  - {event: park, from: open, to: parked, roles: [agent]}\n"
    text += "  - {event: shuffle, from: parked, to: parked2, roles: [agent]}\n"
    text += "  - {event: back, from: parked2, to: parked, roles: [agent]}\n"
    text = text.replace(
        "  closed: {final: true}",
        "  closed: {final: true}\n  parked: {}\n  parked2: {}",
    )
    assert problems(text) == [
        "no final state can be reached from 'parked'",
        "no final state can be reached from 'parked2'",
    ]


def test_one_initial_and_some_final_state():
    text = GOOD.replace("  open: {}", "  open: {initial: true}")
    assert "exactly one state must be initial, found 2: new, open" in problems(text)
    text = GOOD.replace("  closed: {final: true}", "  closed: {}")
    found = problems(text)
    assert "no state is final, so no case can ever close" in found


def test_no_event_may_leave_a_final_state():
    text = GOOD + "  - {event: reopen, from: closed, to: open, roles: [lead]}\n"
    assert problems(text) == ["'closed' is final: no event leaves a final state"]


def test_unknown_fields_roles_counters_in_steps_and_actions():
    text = GOOD.replace(
        "{event: take, from: new, to: open, roles: [agent]}",
        "{event: take, from: new, to: open, roles: [agent], requires: [custmer_id],"
        " actions: [{notify: [boss]}, {increment: takes}, {set: {severity: huge}}]}",
    )
    assert problems(text) == [
        "unknown field 'custmer_id' (did you mean 'customer_id'?)",
        "unknown role 'boss'",
        "unknown counter 'takes'",
        "severity: 'huge' is not one of low, high",
    ]


def test_deadline_checks():
    text = (
        GOOD
        + """\
deadlines:
  d1: {scope: [open], after: 4h, basis: working, met_by: [clsoe], warn: {before: 5h, notify: [lead]}}
  d2: {scope: [opne], after: 1h, basis: wall}
  d3: {scope: [open], at: customer_id}
  d4: {scope: [open], after: 1h, basis: wall, on_due: [{fire: take}]}
"""
    )
    assert problems(text) == [
        "unknown event 'clsoe' (did you mean 'close'?)",
        "the warning comes before the deadline starts",
        "unknown state 'opne' (did you mean 'open'?)",
        "field 'customer_id' is not a datetime",
        "no transition for 'take' allows role 'system', so a deadline cannot fire it",
    ]


def test_deadline_that_can_never_stop():
    text = GOOD.replace(
        "  - {event: close, from: open, to: closed, roles: [lead]}",
        "  - {event: close, from: open, to: closed, roles: [lead]}\n"
        "  - {event: fix, from: new, to: closed, roles: [lead]}",
    )
    text += "deadlines:\n  d: {scope: [open, closed], after: 1h, basis: wall}\n"
    assert problems(text) == [
        (
            "deadline 'd' can never stop: from 'closed' no state outside its scope "
            "can be reached"
        ),
        (
            "deadline 'd' can never stop: from 'open' no state outside its scope "
            "can be reached"
        ),
    ]


@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        ("{scope: [open], after: 4h}", "say which time counts"),
        ("{scope: [open], after: 4h, at: x, basis: wall}", "exactly one of"),
        ("{scope: [open], every: 1d, basis: working}", "needs 'met_by'"),
        ("{scope: [open], after: 0h, basis: wall}", "zero duration"),
        ("{scope: [open], after: 4 hours, basis: wall}", "should match pattern"),
        ("{scope: [open], at: x, basis: wall}", "'basis' does not apply"),
        (
            (
                "{scope: [open], every: 1d, basis: working, met_by: [close],"
                " warn: {before: 1h, notify: [lead]}}"
            ),
            "has no warning",
        ),
    ],
)
def test_deadline_shape(deadline: str, message: str):
    text = GOOD + f"deadlines:\n  d: {deadline}\n"
    assert any(message in p for p in problems(text)), problems(text)


def test_system_is_a_reserved_role():
    text = GOOD.replace(
        "roles: {agent: takes calls, lead: leads}",
        "roles: {agent: takes calls, lead: leads, system: me}",
    )
    assert problems(text) == ["'system' is a reserved role"]


def test_start_case_targets_are_checked_across_files(tmp_path):
    from cswork.definition import load_paths

    (tmp_path / "a.yaml").write_text(
        GOOD.replace(
            "{event: take, from: new, to: open, roles: [agent]}",
            "{event: take, from: new, to: open, roles: [agent, lead],"
            " actions: [{start_case: other, copy: [customer_id, severity], link: parent}]}",
        )
    )
    (tmp_path / "b.yaml").write_text(
        GOOD.replace("workflow: demo", "workflow: other").replace(
            "start: {roles: [agent]", "start: {roles: [lead]"
        )
    )
    with pytest.raises(DefinitionError) as err:
        load_paths([tmp_path])
    assert [p.message for p in err.value.problems] == [
        "workflow 'other' has no field 'parent'",
        "role 'agent' may take this step but may not start a 'other' case",
    ]
