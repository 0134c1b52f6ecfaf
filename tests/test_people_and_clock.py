"""Issue 14: every case has an owner, every deadline counts from the moment the
SOP names, and nobody is woken at 22:00 for a routine warning.

Each scenario cites the seed rule it checks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cswork import Actor, Engine, PermissionDeniedError, VirtualClock
from cswork.definition import load_paths
from cswork.errors import DefinitionError
from cswork.storage import MemoryStore, SQLiteStore, Store

from .conftest import AGENT, LEAD, WORKFLOWS, Recorder, local
from .helpers import RECORD, assert_consistent, steps

TECH_HEAD = Actor("head.tech", {"dept_head"}, units={"technical"})
PLATFORM_HEAD = Actor("head.platform", {"dept_head"}, units={"platform"})


def _engine(start, notifier: Recorder | None = None, store: Store | None = None):  # type: ignore[no-untyped-def]
    return Engine.from_directory(
        WORKFLOWS, clock=VirtualClock(start), notifier=notifier or Recorder(),
        store=store or MemoryStore(),
    )  # fmt: skip


def _complaint(engine: Engine, severity: str, type_: str = "product") -> str:
    case = engine.start(
        "complaint", AGENT,
        {"customer_id": "C-1", "channel": "phone", "summary": "down"},
    )  # fmt: skip
    engine.fire(case.id, "record", LEAD, RECORD)
    engine.fire(case.id, "classify", LEAD, {"type": type_, "severity": severity})
    return case.id


def test_contact_deadlines_count_from_acceptance_not_classification() -> None:
    """004 §2.4.2: contact within 4 h of acceptance (受理) for very urgent ones.

    Received 10:00, classified only at 20:00: due 14:00, so breached at once
    (with its true due time) and escalated then.
    """
    clock = VirtualClock(local(2026, 3, 3, 10, 0))
    engine = Engine.from_directory(WORKFLOWS, clock=clock, notifier=Recorder())
    case = engine.start("complaint", AGENT,
                        {"customer_id": "C-1", "channel": "phone", "summary": "down"})  # fmt: skip
    clock.set(local(2026, 3, 3, 19, 0))
    engine.fire(case.id, "record", LEAD, RECORD)
    clock.set(local(2026, 3, 3, 20, 0))
    engine.fire(case.id, "classify", LEAD, {"type": "product", "severity": "urgent"})
    # (record_and_route, 2 working hours, is breached too: recorded only at 19:00)
    breach = next(
        h
        for h in engine.history(case.id)
        if h.kind == "deadline" and h.event == "first_contact_urgent"
    )
    assert datetime.fromisoformat(str(breach.detail["due_at"])) == local(
        2026, 3, 3, 14, 0
    )
    assert breach.at == local(2026, 3, 3, 20, 0)
    assert engine.get(case.id).state == "escalated"
    assert_consistent(engine, case.id)


def test_a_manual_escalation_keeps_the_contact_deadline() -> None:
    """004 §2.4.2: escalating does not end the duty to contact the customer."""
    engine = _engine(local(2026, 3, 3, 10, 0))
    cid = _complaint(engine, "urgent")
    engine.fire(cid, "escalate", Actor("m", {"cs_manager"}))
    assert "first_contact_urgent" in engine.get(cid).armed
    engine.advance(timedelta(hours=5))  # nobody called
    assert "deadline:first_contact_urgent:breached" in steps(engine, cid)
    assert engine.get(cid).breaches >= 1


def test_only_the_routed_departments_head_may_plan() -> None:
    """004 §2.4.2: the head of the department the complaint is routed to."""
    engine = _engine(local(2026, 3, 3, 10, 0))
    cid = _complaint(engine, "general", type_="network_line")  # → platform
    assert engine.get(cid).unit == "platform"
    before = (engine.get(cid), engine.history(cid))
    plan = {"expected_resolution_at": "2026-03-05T18:00:00+08:00",
            "measures": "reroute", "handler": "wu.li"}  # fmt: skip
    with pytest.raises(PermissionDeniedError) as err:
        engine.fire(cid, "plan", TECH_HEAD, plan)
    assert "'platform'" in str(err.value)  # says who may act
    assert (engine.get(cid), engine.history(cid)) == before
    case = engine.fire(cid, "plan", PLATFORM_HEAD, plan)
    assert case.owner == "wu.li"  # the handler owns it (问题办理专员)
    assert [c.id for c in engine.query(owner="wu.li")] == [cid]
    assert [c.id for c in engine.query(unit="platform", closed=False)] == [cid]


def test_a_routed_notice_goes_to_the_head_of_that_unit_only() -> None:
    notices = Recorder()
    engine = _engine(local(2026, 3, 3, 10, 0), notices)
    _complaint(engine, "general", type_="network_line")
    routed = [n for n in notices.notices if n.reason == "classify"]
    assert [(n.roles, n.unit, n.unit_roles) for n in routed] == [
        ((), "platform", ("dept_head",))
    ]


def test_a_call_after_hours_is_due_in_the_first_working_hour() -> None:
    """000 §2.1: contacts outside working time within the first working hour.

    A call at 22:00 on Tuesday is due at 10:00 on Wednesday (work starts
    09:00), and breached only then.
    """
    engine = _engine(local(2026, 3, 3, 22, 0))
    case = engine.start("inquiry", AGENT,
                        {"customer_id": "C-1", "channel": "phone", "question": "?"})  # fmt: skip
    (timer,) = engine.timers(case.id)
    assert timer.due_at == local(2026, 3, 4, 10, 0)
    engine.advance(timedelta(hours=11, minutes=59))
    assert engine.get(case.id).breaches == 0
    engine.advance(timedelta(minutes=2))
    assert engine.get(case.id).breaches == 1


def test_routine_warnings_wait_for_working_hours_urgent_ones_do_not() -> None:
    """Notices outside working time wait for the next working period, very
    urgent ones (004 §2.4.2 3)) go at once."""
    notices = Recorder()
    engine = _engine(local(2026, 3, 3, 15, 0), notices)
    _complaint(engine, "important")  # due 23:00, warned 1 h before: 22:00
    engine.advance(timedelta(hours=7, minutes=30))  # 22:30
    assert not [n for n in notices.notices if "is near" in n.message]
    engine.advance(timedelta(hours=11))  # 09:30 the next day
    (warning,) = [n for n in notices.notices if "is near" in n.message]
    assert warning.at == local(2026, 3, 3, 22, 0)  # made at 22:00 ...
    assert warning.held_until == local(2026, 3, 4, 9, 0)  # ... delivered at 09:00

    notices.notices.clear()
    engine2 = _engine(local(2026, 3, 3, 20, 0), notices)
    _complaint(engine2, "urgent")  # due 24:00, warned at half: 22:00
    engine2.advance(timedelta(hours=2, minutes=1))
    (urgent,) = [n for n in notices.notices if "is near" in n.message]
    assert urgent.held_until is None
    assert urgent.at == local(2026, 3, 3, 22, 0)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_held_notices_survive_a_restart_and_go_once(
    backend: str, tmp_path: Path
) -> None:
    def store() -> Store:
        return MemoryStore() if backend == "memory" else SQLiteStore(tmp_path / "h.db")

    first_store = store()
    clock = VirtualClock(local(2026, 3, 3, 15, 0))
    notices = Recorder()
    engine = Engine.from_directory(WORKFLOWS, clock=clock, store=first_store,
                                   notifier=notices)  # fmt: skip
    _complaint(engine, "important")
    engine.advance(timedelta(hours=7, minutes=30))  # the 22:00 warning is held
    engine.close()
    again_store = first_store if backend == "memory" else store()
    again = Engine.from_directory(WORKFLOWS, clock=clock, store=again_store,
                                  notifier=notices)  # fmt: skip
    again.advance(timedelta(hours=12))
    again.advance(timedelta(hours=12))
    warned = [
        n.id
        for n in notices.notices
        if "is near" in n.message and n.reason == "first_contact_important"
    ]
    assert len(warned) == 1


def test_validate_strict_names_a_dead_end(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cswork.cli import app

    runner = CliRunner()
    text = (WORKFLOWS / "repair.yaml").read_text()
    broken = text.replace("states:\n", "states:\n  limbo: {}\n").replace(
        "    to: diagnosed\n", "    to: limbo\n"
    )
    (tmp_path / "repair.yaml").write_text(broken)
    result = runner.invoke(app, ["validate", "--strict", str(tmp_path)])
    assert result.exit_code == 1
    assert "limbo" in result.output
    assert "unknown state" not in result.output  # a dead end, not a broken file


def test_warnings_are_errors_only_when_strict(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        (WORKFLOWS / "parts_scrap.yaml").read_text().replace(
            "states:\n", "states:\n  parked: {}\n"
        ).replace(
            "  - event: approve\n", "  - {event: park, from: approved, to: parked, "
            "roles: [warehouse]}\n  - {event: unpark, from: parked, to: approved, "
            "roles: [warehouse]}\n  - event: approve\n"
        )
    )  # fmt: skip
    loaded = load_paths([tmp_path])
    assert any("'parked'" in p.message for p in loaded.warnings)
    with pytest.raises(DefinitionError):
        load_paths([tmp_path], strict=True)


def test_allowed_events_offer_a_unit_step_only_to_the_units_members() -> None:
    """004 §2.4.2: only the head of the routed department plans; the events a
    person is offered (a console's forms) follow the same rule."""
    engine = _engine(local(2026, 3, 3, 10, 0))
    cid = _complaint(engine, "important")  # a product complaint: technical
    assert "plan" in engine.allowed_events(cid, TECH_HEAD)
    assert "plan" not in engine.allowed_events(cid, PLATFORM_HEAD)
    assert "plan" in engine.allowed_events(cid)  # declared from the state
