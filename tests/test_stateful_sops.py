"""Property-based simulation of every shipped workflow, on every backend."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from cswork.storage import MemoryStore, SQLiteStore
from cswork.testing import workflow_state_machine

from .conftest import WORKFLOWS

SOPS = sorted(p for p in WORKFLOWS.glob("*.yaml"))


def sqlite_in_memory() -> SQLiteStore:
    return SQLiteStore(":memory:")


@pytest.mark.parametrize("path", SOPS, ids=lambda p: p.stem)
def test_workflow_properties(path):
    machine = workflow_state_machine(path, stores=[MemoryStore, sqlite_in_memory])
    test = machine.TestCase
    test.settings = settings(
        max_examples=int(
            __import__("os").environ.get("CSWORK_STATEFUL_EXAMPLES", "25")
        ),
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    test("runTest").runTest()


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["complaint", "repair"])
def test_workflow_properties_agree_on_postgres(name):
    """The differential test with PostgreSQL as a third backend."""
    from .storage import pg

    make, cleanup = pg.store_factory(pg.server().dsn)
    try:
        machine = workflow_state_machine(
            WORKFLOWS / f"{name}.yaml", stores=[MemoryStore, sqlite_in_memory, make]
        )
        test = machine.TestCase
        test.settings = settings(
            max_examples=int(
                __import__("os").environ.get("CSWORK_STATEFUL_PG_EXAMPLES", "8")
            ),
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        test("runTest").runTest()
    finally:
        cleanup()
