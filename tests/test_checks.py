"""Static checks of how a workflow's parts refer to each other."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cswork.definition
from cswork.definition import Workflow, load_text
from cswork.definition.graph import graph_problems
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
        (
            "{scope: [open], at: x, basis: wall}",
            "'basis' applies to an 'at' deadline's offset only",
        ),
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
    assert problems(text) == ["'system' is a reserved role name"]


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
    # Roles need not overlap: the hand-over declared by the SOP is the
    # permission to start the linked case.
    assert [p.message for p in err.value.problems] == [
        "workflow 'other' has no field 'parent'",
    ]


# --------------------------------------------------- the graph checks scale
def _naive_graph_problems(wf: Any) -> set[tuple[Any, str]]:
    """The graph checks as first written: one search per state (the oracle)."""
    initial = [n for n, s in wf.states.items() if s.initial]
    if len(initial) != 1:
        return set()
    non_final = [n for n, s in wf.states.items() if not s.final]
    nxt: dict[str, set[str]] = {n: set() for n in wf.states}
    for t in wf.transitions:
        for src in non_final if "*" in t.from_ else t.from_:
            if src in nxt and (t.to or src) in wf.states:
                nxt[src].add(t.to or src)

    def reach(start: list[str]) -> set[str]:
        seen, todo = set(start), list(start)
        while todo:
            for n in nxt.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    out: set[tuple[Any, str]] = set()
    live_all = reach(initial)
    finals = {n for n, s in wf.states.items() if s.final}
    for name, state in wf.states.items():
        if name not in live_all:
            kind = "final state" if state.final else "state"
            out.add(
                (
                    ("states", name),
                    (
                        f"{kind} {name!r} cannot be reached from "
                        f"the initial state {initial[0]!r}"
                    ),
                )
            )
        elif not state.final and not (nxt[name] - {name}):
            out.add(
                (
                    ("states", name),
                    f"state {name!r} is not final but no transition leads out of it",
                )
            )
        elif not state.final and not (reach([name]) & finals):
            out.add((("states", name), f"no final state can be reached from {name!r}"))
    events = {t.event for t in wf.transitions}
    for dname, d in wf.deadlines.items():
        scope = set(d.scope) & set(wf.states)
        live = scope & live_all
        if scope and not live:
            out.add(
                (
                    ("deadlines", dname, "scope"),
                    (
                        f"deadline {dname!r} can never start: no state of its scope "
                        "is reachable"
                    ),
                )
            )
        for inside in live:
            if not (reach([inside]) - scope) and not d.met_by:
                out.add(
                    (
                        ("deadlines", dname, "scope"),
                        (
                            f"deadline {dname!r} can never stop: from {inside!r} no "
                            "state outside its scope can be reached"
                        ),
                    )
                )
        fired = {
            t.event for t in wf.transitions if "*" in t.from_ or scope & set(t.from_)
        }
        for j, ev in enumerate(d.met_by):
            if ev in events and ev not in fired:
                out.add(
                    (
                        ("deadlines", dname, "met_by", j),
                        f"event {ev!r} cannot be fired in any state of the scope",
                    )
                )
    return out


@st.composite
def random_workflows(draw: st.DrawFn) -> Any:
    n = draw(st.integers(2, 7))
    names = [f"s{i}" for i in range(n)]
    final = draw(st.sets(st.sampled_from(names[1:]), max_size=n - 1))
    states = {name: {"initial": name == "s0", "final": name in final} for name in names}
    source = st.sampled_from([*names, "*"])
    transitions = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "event": st.sampled_from(["a", "b", "c", "d"]),
                    "from": st.lists(source, min_size=1, max_size=3),
                    "to": st.one_of(st.none(), st.sampled_from(names)),
                    "roles": st.just(["agent"]),
                }
            ),
            min_size=1,
            max_size=10,
        )
    )
    deadlines = draw(
        st.dictionaries(
            st.sampled_from(["d1", "d2", "d3"]),
            st.fixed_dictionaries(
                {
                    "scope": st.lists(st.sampled_from(names), min_size=1, max_size=4),
                    "after": st.just("1h"),
                    "basis": st.just("wall"),
                    "met_by": st.lists(st.sampled_from(["a", "b", "e"]), max_size=2),
                }
            ),
            max_size=3,
        )
    )
    return Workflow.model_validate(
        {
            "workflow": "w",
            "version": 1,
            "title": "W",
            "roles": {"agent": "does"},
            "states": states,
            "start": {"roles": ["agent"]},
            "transitions": transitions,
            "deadlines": deadlines,
        }
    )


@settings(max_examples=200, deadline=None)
@given(random_workflows())
def test_graph_checks_agree_with_one_search_per_state(wf: Any):
    assert set(graph_problems(wf)) == _naive_graph_problems(wf)


def _lines_run(text: str) -> int:
    """Lines of cswork.definition (and difflib) executed while loading ``text``."""
    count = 0
    here = (str(Path(cswork.definition.__file__).parent), difflib.__file__)

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "call" and not frame.f_code.co_filename.startswith(here):
            return None
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        load_text(text, "big.yaml")
    except DefinitionError:
        pass
    finally:
        sys.settrace(None)
    return count


def test_checking_is_linear_in_the_number_of_states():
    # Counted in executed lines, not seconds: a quadratic check (one search
    # per state) runs ~16 times the lines for 4 times the states.
    from tests.benchmarks.validation import large_workflow

    small, large = (_lines_run(large_workflow(n)) for n in (150, 600))
    assert large / small < 5.5, (small, large)


def test_hints_for_thousands_of_misspellings_stay_linear(monkeypatch):
    # Each "did you mean" compares the name with every state: one per wrong
    # name is quadratic. A budget per file bounds it (set low here so that
    # small files reach it).
    from tests.benchmarks.validation import large_workflow

    monkeypatch.setattr("cswork.definition.checks.HINT_BUDGET", 2_000, raising=False)

    def misspelt(n: int) -> str:
        text = large_workflow(n)
        return text.replace(", to: s", ", to: x")  # every target state unknown

    small, large = (_lines_run(misspelt(n)) for n in (150, 600))
    assert large / small < 5.5, (small, large)
    with pytest.raises(DefinitionError) as err:
        load_text(misspelt(150))
    hints = [p.hint for p in err.value.problems if p.message.startswith("unknown")]
    assert len(hints) > 150
    assert "did you mean 's10'?" in hints  # the first ones still get their hint
    assert "" in hints[-10:]  # the last ones come after the budget ran out


def test_steps_are_bounded_where_star_transitions_multiply_them():
    # 1,000 states and 101 '*' transitions: a 20 kB file the engine would
    # compile into 100,000+ steps. Refused, pointing at the transitions.
    states = "".join(f"  s{i}: {{}}\n" for i in range(1, 998))
    stars = "".join(
        f"  - {{event: x{i}, from: '*', to: closed, roles: [agent]}}\n"
        for i in range(101)
    )
    text = GOOD.replace("  open: {}\n", "  open: {}\n" + states) + stars
    with pytest.raises(DefinitionError) as err:
        load_text(text, "wf.yaml")
    (problem,) = err.value.problems
    assert problem.line == text.splitlines().index("transitions:") + 2
    assert "100,901 steps" in problem.message
    assert "at most 100,000" in problem.message
    # one '*' transition fewer fits (the states are unreachable, no matter)
    fewer = text.replace(
        "  - {event: x100, from: '*', to: closed, roles: [agent]}\n", ""
    )
    assert not [p for p in problems(fewer) if "steps" in p]


class _CountingDict(dict[str, Any]):
    """A dict that counts how often it is walked whole."""

    walks = 0

    def __iter__(self) -> Any:
        type(self).walks += 1
        return super().__iter__()

    def items(self) -> Any:
        type(self).walks += 1
        return super().items()

    def values(self) -> Any:
        type(self).walks += 1
        return super().values()

    def keys(self) -> Any:
        type(self).walks += 1
        return super().keys()


def test_the_states_are_walked_a_fixed_number_of_times_whatever_the_deadlines():
    # C-level work such as set(wf.states) per deadline escapes the line count:
    # 10,000 states and 3,000 deadlines took 1.8 s in that one line.
    from tests.benchmarks.validation import large_workflow

    wf = load_text(large_workflow(2_000)).definition
    assert len(wf.deadlines) > 90
    object.__setattr__(wf, "states", _CountingDict(wf.states))
    _CountingDict.walks = 0
    assert list(graph_problems(wf)) == []
    assert _CountingDict.walks < 10
