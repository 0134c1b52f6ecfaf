"""What moves without a caller's step: due timers, a virtual clock, the outbox.

``Engine`` takes these from ``Driving``: a worker (``cswork.scheduler``)
calls ``run_due`` when a deadline falls due and ``deliver`` now and then;
tests and simulations move a virtual clock with ``advance``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cswork.clock import Clock
from cswork.engine.due import plan_batch
from cswork.engine.outbox import Outbox
from cswork.engine.plan import Planner
from cswork.errors import ClockError, InvalidArgumentError
from cswork.records import Case, CaseChange, Timer, check_count
from cswork.storage.base import Store

log = logging.getLogger("cswork.engine")

#: Claims one ``run_due`` makes at most before it lets the caller breathe.
MAX_DUE_ROUNDS = 10_000


class Driving:
    """The timer, clock and delivery side of ``Engine``."""

    store: Store
    clock: Clock
    worker_id: str
    _outbox: Outbox

    def _planner(self, workflow_id: str, version: int | None = None) -> Planner:
        raise NotImplementedError  # pragma: no cover - Engine provides it

    def _after(self, changes: list[CaseChange], *, due_now: bool = True) -> None:
        raise NotImplementedError  # pragma: no cover - Engine provides it

    def run_due(self, *, limit: int = 200) -> int:
        """Fire every timer due now (claimed exactly once across workers).

        Claims batches of at most ``limit`` timers until none is due, so after
        it returns nothing is overdue (timers armed meanwhile included).

        Returns:
            How many timers this call fired.

        Raises:
            InvalidArgumentError: ``limit`` is not a whole number ≥ 1.
        """
        check_count("limit", limit, minimum=1)
        now = self.clock.now()
        fired = 0
        for _ in range(MAX_DUE_ROUNDS):
            with self.store.claim_due(
                now, worker_id=self.worker_id, limit=limit
            ) as batch:
                if not batch.timers:
                    break
                changes = plan_batch(batch, lambda c, t: self._timer_change(c, t, now))
                batch.commit(changes)
            fired += len(changes)
            self._after(changes)
        else:
            log.error(
                "run_due stopped after %d batches; timers remain due", MAX_DUE_ROUNDS
            )
        self._outbox.flush()
        return fired

    def _timer_change(self, case: Case, timer: Timer, now: datetime) -> CaseChange:
        planner = self._planner(case.workflow_id, case.workflow_version)
        return planner.timer(case, timer, max(now, case.updated_at), self.worker_id)

    def advance(self, delta: timedelta) -> int:
        """Move a virtual clock forward, firing each timer at its own due time.

        Returns:
            How many timers fired on the way.

        Raises:
            ClockError: the engine's clock is not virtual, or delta < 0.
            InvalidArgumentError: ``delta`` is not a ``timedelta``.
        """
        if not isinstance(delta, timedelta):
            raise InvalidArgumentError(
                f"advance() takes a timedelta, not {type(delta).__name__}"
            )
        clock = self.clock
        if not clock.is_virtual or not hasattr(clock, "set"):
            raise ClockError("advance() needs a VirtualClock")
        if delta < timedelta(0):
            raise ClockError(f"cannot advance by a negative {delta}")
        target = clock.now() + delta
        fired = self.run_due()
        while True:
            due = self.store.next_due_at()
            held = self.store.next_outbox_at(clock.now())
            nxt = min((t for t in (due, held) if t is not None), default=None)
            if nxt is None or nxt > target:
                break
            if nxt > clock.now():
                clock.set(nxt)
            fired += self.run_due()
            if held is not None and held <= clock.now():
                self.deliver()  # notices held for working hours, leases run out
        clock.set(target)
        return fired

    def deliver(self, *, case_id: str | None = None, limit: int = 100) -> int:
        """Deliver queued notifications, hook calls and stuck hand-overs.

        Items this engine wrote are delivered right after their commit; this
        delivers the rest: items other engines left behind, and items whose
        delivery failed, once their lease has expired. Delivery is at least
        once; the item id is the idempotency key.

        Returns:
            How many items were delivered.
        """
        check_count("limit", limit, minimum=1)
        return self._outbox.deliver(case_id=case_id, limit=limit)

    def flush(self, timeout: float | None = None) -> bool:
        """Finish delivering what was committed, and write the acknowledgements.

        Never needed for correctness: background delivery goes on by itself,
        acknowledgements are written within half a second, and ``close``
        waits for both.

        Returns:
            False if background delivery did not finish within ``timeout``.
        """
        return self._outbox.flush(timeout)
