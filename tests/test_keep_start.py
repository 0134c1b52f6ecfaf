"""A converted case keeps its acceptance time (``start_case: ... keep_start``).

004 §2.2.2: the person who takes a problem decides whether it is a routine
problem or a complaint; the deadlines of the case it becomes count from when
the customer first called, not from the conversion.
"""

from __future__ import annotations

import shutil
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cswork import Actor, Engine, VirtualClock
from cswork.storage import MemoryStore, SQLiteStore, Store

from .conftest import WORKFLOWS, Recorder, local

AGENT = Actor("a", {"agent"})

ASK = """\
workflow: ask
version: 1
title: Ask
roles: {agent: takes calls}
calendar: default
fields:
  customer_id: {type: string}
  question: {type: string}
  complaint: {type: string}
states:
  open: {initial: true, unbounded: "test"}
  converted: {final: true, outcome: transferred}
start: {roles: [agent], requires: [question]}
transitions:
  - event: convert
    from: open
    to: converted
    roles: [agent]
    actions:
      - start_case: fix
        copy: {summary: question}
        link: inquiry
        back_link: complaint
        keep_start: {keep}
"""
FIX = """\
workflow: fix
version: 1
title: Fix
roles: {agent: takes calls}
calendar: default
fields:
  customer_id: {type: string}
  summary: {type: string}
  inquiry: {type: string}
states:
  open: {initial: true}
  contacted: {unbounded: "test"}
  done: {final: true, outcome: resolved}
start: {roles: [agent], requires: [summary], optional: [inquiry]}
transitions:
  - {event: contact, from: open, to: contacted, roles: [agent]}
  - {event: close, from: contacted, to: done, roles: [agent]}
deadlines:
  first_contact:
    scope: [open]
    from: start
    after: 4h
    basis: working
    met_by: [contact]
"""


def _dir(tmp_path: Path, keep: bool) -> Path:
    d = tmp_path / ("keep" if keep else "plain")
    d.mkdir()
    shutil.copytree(WORKFLOWS / "calendars", d / "calendars")
    (d / "ask.yaml").write_text(ASK.replace("{keep}", str(keep).lower()))
    (d / "fix.yaml").write_text(textwrap.dedent(FIX))
    return d


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return (
        MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "c.db")
    )


def test_converted_case_counts_from_the_first_call(
    tmp_path: Path, store: Store
) -> None:
    clock = VirtualClock(local(2026, 3, 3, 10, 0))  # a Tuesday, working hours
    engine = Engine.from_directory(
        _dir(tmp_path, keep=True), clock=clock, notifier=Recorder(), store=store
    )
    ask = engine.start("ask", AGENT, {"question": "Why is it broken?"})
    clock.set(local(2026, 3, 3, 13, 30))  # converted 3½ working hours later
    engine.fire(ask.id, "convert", AGENT)
    fix_id = str(engine.get(ask.id).data["complaint"])
    fix = engine.get(fix_id)
    assert fix.accepted_at == local(2026, 3, 3, 10, 0)
    assert fix.created_at == local(2026, 3, 3, 13, 30)
    # 4 working hours from 10:00 with lunch 12:00–13:30 (the default calendar)
    due = fix.armed["first_contact"]
    assert due < local(2026, 3, 3, 13, 30) + timedelta(hours=4)
    why = engine.explain(fix_id, "first_contact")  # explain agrees
    assert (why.start, why.due_at) == (local(2026, 3, 3, 10, 0), due)
    assert any("converted" in line for line in why.text)


def test_without_keep_start_the_new_case_counts_from_its_own_start(
    tmp_path: Path, store: Store
) -> None:
    clock = VirtualClock(local(2026, 3, 3, 10, 0))
    engine = Engine.from_directory(
        _dir(tmp_path, keep=False), clock=clock, notifier=Recorder(), store=store
    )
    ask = engine.start("ask", AGENT, {"question": "Why?"})
    clock.set(local(2026, 3, 3, 13, 30))
    engine.fire(ask.id, "convert", AGENT)
    fix = engine.get(str(engine.get(ask.id).data["complaint"]))
    assert fix.accepted_at == fix.created_at == local(2026, 3, 3, 13, 30)


def test_a_late_conversion_is_breached_at_once_with_its_true_due_time(
    tmp_path: Path, store: Store
) -> None:
    clock = VirtualClock(local(2026, 3, 3, 10, 0))
    engine = Engine.from_directory(
        _dir(tmp_path, keep=True), clock=clock, notifier=Recorder(), store=store
    )
    ask = engine.start("ask", AGENT, {"question": "Why?"})
    clock.set(local(2026, 3, 4, 16, 0))  # the next day: 4 working hours are gone
    engine.fire(ask.id, "convert", AGENT)
    fix_id = str(engine.get(ask.id).data["complaint"])
    breach = next(h for h in engine.history(fix_id) if h.kind == "deadline")
    assert breach.event == "first_contact"
    assert datetime.fromisoformat(str(breach.detail["due_at"])) < local(
        2026, 3, 4, 0, 0
    )
