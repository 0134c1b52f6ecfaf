"""Property-based simulation of every workflow in workflows/, on all three stores.

The workflows are found, not listed: an SOP added to ``workflows/`` is
simulated by the next run. Each one runs on a ``MemoryStore``, a SQLite file
and a PostgreSQL schema side by side, and the three must agree after every
step (``cswork.testing``'s differential state machine).

The examples are bounded so that the whole file stays near a minute on a
2-core machine, however many SOPs there are: a budget of examples is shared
among the workflows (at least two each). ``CSWORK_STATEFUL_EXAMPLES`` (per
workflow) and ``CSWORK_STATEFUL_STEPS`` run more and longer ones (e.g. 100
and 50 for a thorough night run).
Without PostgreSQL the runs use the other two stores — unless
``CSWORK_REQUIRE_PG=1`` (CI), which makes a missing server a failure.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from cswork.definition import load_paths
from cswork.storage import MemoryStore, SQLiteStore, Store
from cswork.testing import workflow_state_machine

from .conftest import WORKFLOWS
from .storage import pg

#: Every workflow file in workflows/ (calendars live in a folder of their own).
SOPS = sorted(WORKFLOWS.glob("*.yaml"))
#: Examples for the whole directory, shared among its workflows.
BUDGET = 24
EXAMPLES = int(
    os.environ.get("CSWORK_STATEFUL_EXAMPLES", max(2, BUDGET // max(len(SOPS), 1)))
)
STEPS = int(os.environ.get("CSWORK_STATEFUL_STEPS", "20"))


def test_every_workflow_of_the_directory_is_simulated():
    """The list below is derived from the files: none is left out."""
    loaded = {w.definition.workflow for w in load_paths([WORKFLOWS]).workflows}
    assert {p.stem for p in SOPS} == loaded


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[], Store] | None]:
    """A factory of PostgreSQL stores on fresh schemas; None without a server."""
    found = pg.server_or_reason()
    if isinstance(found, str):
        if os.environ.get(pg.REQUIRE_VAR) == "1":
            pytest.fail(f"{pg.REQUIRE_VAR}=1 but {found}", pytrace=False)
        yield None
        return
    make, cleanup = pg.store_factory(found.dsn)
    yield make
    cleanup()


@pytest.mark.parametrize("path", SOPS, ids=lambda p: p.stem)
def test_workflow_properties_on_every_store(
    path: Path,
    tmp_path: Path,
    postgres: Callable[[], Store] | None,
) -> None:
    files = itertools.count()

    def sqlite_file() -> Store:
        return SQLiteStore(tmp_path / f"{next(files)}.db")

    stores: list[Callable[[], Store]] = [MemoryStore, sqlite_file]
    if postgres is not None:
        stores.append(postgres)
    machine = workflow_state_machine(path, stores=stores)
    test = machine.TestCase
    test.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    test("runTest").runTest()
