"""The ``Store`` interface: where cases, history, timers and the outbox live.

The store is the source of truth. An engine process can die at any moment and
another one, on the same store, carries on: nothing lost, nothing done twice.
These docstrings are the contract every backend keeps; the conformance suite
in ``cswork.testing.store_contract`` checks it.

Rules for every method:

- It is atomic: a method that raises has changed nothing.
- It never reads the clock: the time comes in as ``now``.
- Driver exceptions never escape: they become ``StorageError`` (with the
  driver's exception as ``__cause__``) or a more specific ``CsworkError``.
- Values go in and come out equal: what one backend stores, every backend
  returns the same (datetimes aware in UTC; data JSON scalars).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

from cswork.records import (
    Case,
    CaseChange,
    CaseQuery,
    HistoryEntry,
    OutboxItem,
    StoredDefinition,
    Timer,
)

#: Computes the change a due timer makes to its case (see ``fire_due_timers``).
TimerHandler = Callable[[Case, Timer], CaseChange]

#: The version of the stored format this cswork writes.
FORMAT_VERSION = 1


def handle_batch(
    timers: Sequence[Timer], cases: dict[str, Case], handler: TimerHandler
) -> list[CaseChange]:
    """Compute the changes of a batch of due timers, in order (for backends).

    Earlier timers of the batch may change later ones: firing one can cancel
    another's deadline (skip it) or meet a period (mark it met). ``cases`` is
    updated to each case as of the last change.
    """
    changes: list[CaseChange] = []
    cancelled: dict[str, set[str]] = {}
    met: dict[str, set[str]] = {}
    for timer in timers:
        if timer.deadline in cancelled.get(timer.case_id, ()):
            continue
        if timer.kind == "period" and timer.deadline in met.get(timer.case_id, ()):
            timer = replace(timer, met=True)
        change = handler(cases[timer.case_id], timer)
        cases[timer.case_id] = change.case
        cancelled.setdefault(timer.case_id, set()).update(change.cancel)
        met.setdefault(timer.case_id, set()).update(change.meet)
        changes.append(change)
    return changes


class Store(ABC):
    """Where cases, their history, their timers and the outbox live."""

    # ---------------------------------------------------------- definitions
    @abstractmethod
    def save_definition(self, definition: StoredDefinition) -> None:
        """Keep a workflow definition version (once; saving it again is a no-op).

        Raises:
            DefinitionChangedError: this (workflow, version) is stored with a
                different digest: the definition changed without a new version.
        """

    @abstractmethod
    def load_definition(self, workflow_id: str, version: int) -> StoredDefinition:
        """A stored definition version.

        Raises:
            UnknownWorkflowError: it was never stored.
        """

    @abstractmethod
    def list_definitions(self) -> list[StoredDefinition]:
        """Every stored definition version, by workflow id then version."""

    # ----------------------------------------------------------------- cases
    @abstractmethod
    def create_case(self, change: CaseChange) -> None:
        """Create a case: its row, its first history entries, timers and outbox.

        ``change.expected_version`` is 0.

        Raises:
            ConflictError: a case with this id exists; nothing was written.
        """

    @abstractmethod
    def load_case(self, case_id: str) -> Case:
        """The case as last committed.

        Raises:
            CaseNotFoundError: no such case.
        """

    @abstractmethod
    def commit(self, change: CaseChange) -> None:
        """Apply one step's effects in a single transaction.

        In order: update the case if its stored version equals
        ``change.expected_version``; append ``change.entries``; mark
        ``change.fired_timer`` fired (if given); cancel the pending timers of
        the deadlines in ``change.cancel``; mark the pending period timers of
        the deadlines in ``change.meet`` met; insert ``change.arm``; queue
        ``change.outbox`` (leased to ``change.outbox_owner`` until
        ``change.outbox_until`` if an owner is given).

        Raises:
            ConflictError: the stored version differs (another writer won);
                nothing was written.
            CaseNotFoundError: no such case.
        """

    @abstractmethod
    def query_cases(self, query: CaseQuery) -> list[Case]:
        """Cases matching every filter of ``query``, oldest first.

        Cases started at the same time come in the order they were created.
        """

    @abstractmethod
    def history(self, case_id: str) -> list[HistoryEntry]:
        """The case's history in ``seq`` order (empty for an unknown case)."""

    def histories(self, case_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """The histories of many cases at once (reports read them in bulk).

        Returns:
            Every id given → that case's history in ``seq`` order (an empty
            list for an unknown case). Backends override this to read all of
            them in a few queries; this default asks ``history`` for each.
        """
        return {cid: self.history(cid) for cid in case_ids}

    @abstractmethod
    def timers(self, case_id: str, *, pending_only: bool = False) -> list[Timer]:
        """The case's timers by due time, ties in arming order (only pending if asked)."""

    # ------------------------------------------------------------- deadlines
    @abstractmethod
    def next_due_at(self) -> datetime | None:
        """The earliest due time of any pending timer, or None."""

    @abstractmethod
    def fire_due_timers(
        self,
        now: datetime,
        handler: TimerHandler,
        *,
        worker_id: str,
        limit: int = 100,
    ) -> list[CaseChange]:
        """Fire up to ``limit`` pending timers due at or before ``now``, exactly once.

        In one transaction: claim due pending timers (earliest first, ties in
        arming order) that no
        other worker is firing; for each, call ``handler(case, timer)`` with
        the case as of the previous timer of this batch, and write the change
        it returns as ``commit`` would (its ``fired_timer`` is the timer).
        A timer is fired by exactly one worker even when several run this at
        once; a worker that dies mid-batch fires nothing (its transaction is
        rolled back and the timers are claimed again later).

        ``handler`` must be pure (no I/O): it may be called again for the same
        timer if the transaction is retried. If it raises, nothing is written
        and the exception propagates.

        Returns:
            The changes written, in firing order.
        """

    # ---------------------------------------------------------------- outbox
    @abstractmethod
    def claim_outbox(
        self,
        now: datetime,
        *,
        worker_id: str,
        lease: timedelta,
        limit: int = 100,
        case_id: str | None = None,
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` undelivered items (oldest first) for delivery.

        An item leased by another worker whose lease has not expired is not
        returned; when a lease expires (the worker died), the item is returned
        again. Delivery is therefore at least once; the item id is the
        idempotency key.

        Args:
            now: the current time.
            worker_id: who takes the lease.
            lease: how long the lease lasts.
            limit: the most items to return.
            case_id: only items of this case.
        """

    @abstractmethod
    def ack_outbox(self, ids: Sequence[str], *, worker_id: str) -> None:
        """Mark items delivered (items leased by another worker are left alone)."""

    # ------------------------------------------------------------- lifecycle
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many commits into one transaction (imports, simulations).

        Inside the block, ``create_case`` and ``commit`` join one transaction
        that is committed when the block ends, or rolled back entirely if it
        raises. Backends without transactions run the block as it is.
        """
        yield

    def close(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release connections and files. The store is unusable afterwards."""
