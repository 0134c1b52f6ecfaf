"""``StoreContract``: the tests every ``Store`` must pass.

Reuse it for your own backend::

    import pytest
    from cswork.testing.store_contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self):
            s = MyStore(...)
            yield s
            s.close()

        @pytest.fixture
        def second_store(self, store):  # optional: a second handle on the same data
            return MyStore(...)

The tests build records by hand (no engine, no workflow), so they check the
store contract alone.
"""

from __future__ import annotations

import pytest

from cswork.storage.base import Store
from cswork.testing._contract_cases import CaseContract
from cswork.testing._contract_outbox import OutboxContract
from cswork.testing._contract_timers import TimerContract
from cswork.testing.builders import (
    T0,
    created,
    entry,
    everything,
    fire_due,
    ids,
    make_case,
    new_id,
    outbox,
    step,
    timer,
)

__all__ = [
    "T0",
    "StoreContract",
    "created",
    "entry",
    "everything",
    "fire_due",
    "ids",
    "make_case",
    "new_id",
    "outbox",
    "step",
    "timer",
]


class StoreContract(CaseContract, TimerContract, OutboxContract):
    """Tests every ``Store`` must pass. Subclass it and provide a ``store`` fixture."""

    @pytest.fixture
    def second_store(self, store: Store) -> Store:
        """Another handle on the same data (override for multi-connection backends)."""
        return store
