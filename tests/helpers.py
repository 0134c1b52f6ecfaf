"""Assertions shared by the engine and SOP tests."""

from __future__ import annotations

from typing import Any

from cswork import Engine
from cswork.engine.replay import replay


def snapshot(engine: Engine, case_id: str) -> tuple[Any, ...]:
    """Everything the store knows about a case."""
    return (
        engine.get(case_id),
        engine.history(case_id),
        engine.timers(case_id, pending_only=False),
    )


def assert_consistent(engine: Engine, case_id: str) -> None:
    """The case agrees with its history and with its pending timers."""
    case = engine.get(case_id)
    r = replay(engine.history(case_id))
    assert (r.state, r.data, r.counters, r.version) == (
        case.state,
        dict(case.data),
        dict(case.counters),
        case.version,
    )
    pending = {t.deadline for t in engine.timers(case_id) if t.kind != "warn"}
    assert pending == set(case.armed)
    definition = engine.definition(case.workflow_id, case.workflow_version)
    assert case.state in definition.states
    assert case.closed == definition.states[case.state].final


def steps(engine: Engine, case_id: str) -> list[str]:
    """The events and timer outcomes in a case's history, compactly."""
    out = []
    for h in engine.history(case_id):
        if h.kind in ("start", "event"):
            out.append(h.event)
        else:
            out.append(f"{h.kind}:{h.event}:{h.detail.get('outcome', '')}".rstrip(":"))
    return out


RECORD = {
    "organisation": "ACME",
    "contact_person": "Ms Chen",
    "phone": "021-5555",
    "request": "replace the unit",
    "expectation": "this week",
    "apologised": True,
    "current_situation": "production line stopped",
}


def routed_complaint(
    engine: Engine, severity: str = "general", type_: str = "product"
) -> str:
    """A complaint taken, recorded and classified; returns its id."""
    from .conftest import AGENT, LEAD

    case = engine.start(
        "complaint",
        AGENT,
        {"customer_id": "C-1", "channel": "phone", "summary": "unit broken"},
    )
    engine.fire(case.id, "record", LEAD, RECORD)
    engine.fire(case.id, "classify", LEAD, {"type": type_, "severity": severity})
    return case.id
