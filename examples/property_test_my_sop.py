"""Property-test your own SOP in a few lines with cswork.testing.

Needs: ``pip install 'cswork[testing]'``. Run: ``python examples/property_test_my_sop.py``
(or put the class in a test module and let pytest find it).

Hypothesis drives the workflow with random legal and illegal events, good and
bad data, actors with and without roles, clock jumps to closing time, lunch
breaks and holidays, and engine restarts — checking the design's invariants
after every step, on two backends at once.
"""

from __future__ import annotations

import unittest

from hypothesis import HealthCheck, settings

from cswork.shipped import shipped_workflows
from cswork.storage import MemoryStore, SQLiteStore
from cswork.testing import workflow_state_machine

# This is all a test module needs:
TestRepair = workflow_state_machine(
    shipped_workflows() / "repair.yaml",
    stores=[MemoryStore, lambda: SQLiteStore(":memory:")],
).TestCase

# Sized to run in seconds here; raise max_examples for a real hunt.
TestRepair.settings = settings(
    max_examples=10,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

if __name__ == "__main__":
    result = unittest.TextTestRunner(verbosity=1).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(TestRepair)
    )
    print(
        "property test of repair.yaml:",
        "passed" if result.wasSuccessful() else "FAILED",
    )
    raise SystemExit(0 if result.wasSuccessful() else 1)
