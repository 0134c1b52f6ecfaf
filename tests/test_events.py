"""Subscriptions: every committed step and deadline event, after the commit."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from cswork import (
    DeadlineEvent,
    IllegalEventError,
    InvalidArgumentError,
    StepEvent,
    SystemClock,
    UnknownWorkflowError,
)
from cswork.storage import SQLiteStore

from .conftest import AGENT, LEAD

START = {"customer_id": "C-001", "channel": "phone", "summary": "scanner broken"}
RECORD = {
    "organisation": "ACME",
    "contact_person": "Ms Chen",
    "phone": "021-5555",
    "request": "replace it",
    "expectation": "this week",
    "apologised": True,
    "current_situation": "the line is down",
}
URGENT = {"type": "product", "severity": "urgent"}


def routed(engine):
    case = engine.start("complaint", AGENT, START)
    engine.fire(case.id, "record", LEAD, RECORD)
    return engine.fire(case.id, "classify", LEAD, URGENT)


def test_every_committed_entry_reaches_a_subscriber_once_with_its_key(engine):
    seen = []
    engine.subscribe(seen.append)
    case = routed(engine)
    engine.advance(timedelta(hours=5))  # the urgent first contact is missed
    keys = [e.key for e in seen]
    assert keys == [f"{case.id}:{n}" for n in range(1, len(seen) + 1)]
    assert [e.entry for e in seen] == engine.history(case.id)
    kinds = [e.kind for e in seen]
    assert kinds[:3] == ["start", "event", "event"]
    assert "deadline" in kinds
    assert "warning" in kinds
    steps = [e for e in seen if isinstance(e, StepEvent)]
    assert [e.entered for e in steps][:3] == ["received", "recorded", "routed"]
    breach = next(e for e in seen if e.kind == "deadline")
    assert isinstance(breach, DeadlineEvent)
    assert breach.deadline == "first_contact_urgent"
    assert breach.outcome == "breached"
    assert breach.due_at is not None
    assert breach.lag == timedelta(0)


def test_kinds_and_workflow_filter(engine):
    deadlines, inquiries = [], []
    engine.subscribe(deadlines.append, kinds={"deadline", "warning"})
    engine.subscribe(inquiries.append, workflow="inquiry")
    routed(engine)
    engine.advance(timedelta(hours=5))
    assert deadlines
    assert {e.kind for e in deadlines} <= {"deadline", "warning"}
    assert inquiries == []


def test_on_enter_and_on_exit_by_state_name(engine):
    entered, left = [], []
    engine.on_enter("complaint", "escalated", entered.append)
    engine.on_exit("complaint", "routed", left.append)
    case = routed(engine)
    assert entered == []
    assert left == []
    engine.advance(timedelta(hours=5))
    assert [e.case_id for e in entered] == [case.id]
    assert [e.entry.to_state for e in left] == ["escalated"]


def test_unknown_names_are_refused_with_a_hint(engine):
    with pytest.raises(UnknownWorkflowError):
        engine.on_enter("complain", "escalated", print)
    with pytest.raises(InvalidArgumentError, match="escalated"):
        engine.on_enter("complaint", "escalatd", print)
    with pytest.raises(InvalidArgumentError):
        engine.subscribe(print, kinds={"breach"})
    with pytest.raises(InvalidArgumentError):
        engine.subscribe("print")  # type: ignore[arg-type]


def test_a_refused_step_publishes_nothing(engine):
    case = engine.start("complaint", AGENT, START)
    seen = []
    engine.subscribe(seen.append)
    with pytest.raises(IllegalEventError):
        engine.fire(case.id, "resolve", LEAD, {})
    assert seen == []


def test_a_failing_subscriber_is_retried_then_skipped_and_never_hurts_the_caller(
    engine, caplog
):
    calls = []

    def flaky(event):
        calls.append(event.key)
        raise RuntimeError("webhook down")

    engine.subscribe(flaky)
    case = engine.start("complaint", AGENT, START)
    assert calls == [f"{case.id}:1"] * 3
    assert "giving up" in caplog.text
    assert engine.get(case.id).version == 1


def test_cancel_stops_the_calls(engine):
    seen = []
    sub = engine.subscribe(seen.append)
    engine.start("complaint", AGENT, START)
    sub.cancel()
    engine.start("complaint", AGENT, START)
    assert len(seen) == 1
    assert engine.events.subscriptions == ()


def test_async_subscribers_run_off_the_callers_thread(engine):
    threads = []

    async def handler(event):
        threads.append(threading.current_thread().name)

    engine.subscribe(handler)
    engine.start("complaint", AGENT, START)
    assert threads == ["cswork-events-loop"]
    engine.events.close()


def test_on_the_real_clock_subscribers_run_in_the_background(make_engine, tmp_path):
    engine = make_engine(SQLiteStore(tmp_path / "c.db"), clock=SystemClock())
    release = threading.Event()
    seen = []

    def slow(event):
        release.wait(5)
        seen.append((event.key, threading.current_thread().name))

    engine.subscribe(slow)
    began = time.perf_counter()
    case = engine.start("complaint", AGENT, START)
    assert seen == []  # the caller did not wait for the subscriber
    assert time.perf_counter() - began < 5
    release.set()
    assert engine.events.flush(10)
    assert seen == [(f"{case.id}:1", "cswork-events")]
    engine.events.close()
    engine.close()
    engine.store.close()


def test_events_since_is_the_catch_up_read_with_the_same_keys(engine, clock):
    live = []
    engine.subscribe(live.append)
    first = routed(engine)
    middle = clock.now()
    clock.advance(timedelta(minutes=1))
    second = engine.start("complaint", AGENT, START)
    clock.advance(timedelta(minutes=1))
    engine.fire(first.id, "contact_customer", LEAD, {"contact_note": "called"})
    everything = engine.events_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert [e.key for e in everything] == [e.key for e in live]
    later = engine.events_since(middle + timedelta(seconds=1))
    assert [e.key for e in later] == [f"{second.id}:1", f"{first.id}:4"]
    at_middle = engine.events_since(middle, until=middle + timedelta(seconds=1))
    assert [e.key for e in at_middle] == [f"{first.id}:{n}" for n in (1, 2, 3)]
    assert [e.key for e in engine.events_since(middle, workflow="inquiry")] == []
    with pytest.raises(InvalidArgumentError):
        engine.events_since(datetime(2026, 1, 1))  # naive


def test_a_missing_directory_says_so(tmp_path):
    from cswork import DefinitionError, Engine

    with pytest.raises(DefinitionError, match="no such directory"):
        Engine.from_directory(tmp_path / "workflows")
