"""Prometheus metrics from an engine's subscriptions and notifier."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytest.importorskip("prometheus_client")
from prometheus_client import CollectorRegistry

from cswork import IllegalEventError
from cswork.metrics import Metrics

from .conftest import AGENT, LEAD, Recorder
from .test_events import RECORD, START, URGENT


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def test_steps_breaches_timer_lag_refusals_and_delivery_lag(make_engine, clock):
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    inner = Recorder()
    engine = make_engine(notifier=metrics.timed(inner, clock))
    metrics.watch(engine)
    case = engine.start("complaint", AGENT, START)
    engine.fire(case.id, "record", LEAD, RECORD)
    engine.fire(case.id, "classify", LEAD, URGENT)  # notifies: delivery lag 0
    try:
        engine.fire(case.id, "resolve", LEAD, {})
    except IllegalEventError as err:
        metrics.refused(err)
    engine.advance(timedelta(hours=5))  # the urgent first contact is missed
    assert (
        value(registry, "cswork_steps_total", workflow="complaint", kind="start") == 1
    )
    assert (
        value(registry, "cswork_steps_total", workflow="complaint", kind="event") >= 2
    )
    assert (
        value(
            registry,
            "cswork_breaches_total",
            workflow="complaint",
            deadline="first_contact_urgent",
        )
        == 1
    )
    assert value(registry, "cswork_refusals_total", error="IllegalEventError") == 1
    assert value(registry, "cswork_timer_lag_seconds_count", workflow="complaint") >= 2
    assert value(registry, "cswork_timer_lag_seconds_sum", workflow="complaint") == 0
    assert value(registry, "cswork_delivery_lag_seconds_count") == len(inner.notices)
    assert inner.notices
