"""The dispatch table chooses what ``transitions`` would choose.

The engine picks a step with a ``(state, event)`` table and compiled checks;
``transitions`` stays the reference definition of what a workflow allows
(issue 13). For every shipped SOP, every state and every event, and every
combination of which candidate steps' checks pass (which is all that the
data, the actor and the conditions decide), both choose the same step — or
both refuse.
"""

from __future__ import annotations

import itertools

import pytest

from cswork.definition import load_paths
from cswork.engine.compile import CompiledStep, CompiledWorkflow

from .conftest import WORKFLOWS

LOADED = load_paths([WORKFLOWS])
SOPS = sorted(w.definition.workflow for w in LOADED.workflows)


def _compiled(workflow: str) -> CompiledWorkflow:
    wf = next(
        w.definition for w in LOADED.workflows if w.definition.workflow == workflow
    )
    return CompiledWorkflow(wf, {})


@pytest.mark.parametrize("workflow", SOPS)
def test_both_choose_the_same_step_for_every_state_event_and_outcome(
    workflow: str,
) -> None:
    cw = _compiled(workflow)
    events = sorted({s.event for s in cw.steps})
    compared = 0
    for state in cw.definition.states:
        for event in events:
            declared = [s for s in cw.steps if s.event == event]
            candidates = cw.candidates(state, event)
            # Every subset of the event's steps may be the ones whose checks pass.
            for n in range(min(len(declared), 6) + 1):
                for passing in itertools.combinations(declared, n):
                    ok = set(map(id, passing))

                    def passes(step: CompiledStep, ok: set[int] = ok) -> bool:
                        return id(step) in ok

                    mine = next((c for c in candidates if passes(c)), None)
                    theirs = cw.reference_choice(state, event, passes)
                    assert mine is theirs, (workflow, state, event, n)
                    compared += 1
    assert compared > len(cw.definition.states)


def test_an_undeclared_event_is_refused_by_both() -> None:
    cw = _compiled("complaint")
    assert cw.candidates("received", "no_such_event") == ()
    assert cw.reference_choice("received", "no_such_event", lambda s: True) is None
    closed = next(n for n, s in cw.definition.states.items() if s.final)
    assert cw.candidates(closed, "record") == ()
    assert cw.reference_choice(closed, "record", lambda s: True) is None
