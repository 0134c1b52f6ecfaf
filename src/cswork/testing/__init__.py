"""Test helpers for cswork users (needs the ``testing`` extra: hypothesis, pytest).

- ``workflow_state_machine(path)`` / ``WorkflowStateMachine``: property-based
  simulation of any workflow with the design's invariants checked after every
  step (``cswork.testing.stateful``).
- ``cswork.testing.strategies``: hypothesis strategies from a definition.
- ``cswork.testing.invariants``: the invariants as plain functions.
- ``cswork.testing.store_contract.StoreContract``: the conformance suite for
  ``Store`` backends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # precise types for checkers; imported on use at run time
    from cswork.testing.stateful import WorkflowStateMachine, workflow_state_machine

__all__ = ["WorkflowStateMachine", "workflow_state_machine"]


def __getattr__(name: str) -> Any:
    # Imported on use, so that ``import cswork.testing.invariants`` works
    # without hypothesis installed.
    if name in __all__:
        from cswork.testing import stateful

        return getattr(stateful, name)
    raise AttributeError(name)
