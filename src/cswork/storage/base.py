"""The ``Store`` interface: where cases, history, timers and the outbox live.

The store is the source of truth. An engine process can die at any moment and
another one, on the same store, carries on: nothing lost, nothing done twice.
These docstrings are the contract every backend keeps; the conformance suite
in ``cswork.testing.store_contract`` checks it.

A store writes what it is given and interprets nothing: it never calls engine
code, never reads a workflow, never reads the clock.

Rules for every method:

- It is atomic: a method that raises has changed nothing — also when the
  exception is a ``KeyboardInterrupt`` or another ``BaseException`` arriving
  at any moment; the store stays usable, and other processes are not left
  waiting for a lock.
- It never reads the clock: the time comes in as ``now``.
- Driver exceptions never escape: they become ``StorageError`` (with the
  driver's exception as ``__cause__``) or a more specific ``CsworkError``.
- Bad arguments (a limit of 0, a wrong type) raise ``InvalidArgumentError``
  before anything is read or written.
- Values go in and come out equal: what one backend stores, every backend
  returns the same (datetimes aware in UTC; data JSON scalars).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cswork.errors import InvalidArgumentError
from cswork.records import (
    Case,
    CaseChange,
    CaseQuery,
    HistoryEntry,
    OutboxItem,
    StoredDefinition,
    Timer,
    check_count,
)

#: The version of the stored format this cswork writes.
FORMAT_VERSION = 2


@dataclass
class DueBatch:
    """Due timers claimed by one worker, and their cases (see ``Store.claim_due``).

    Attributes:
        timers: the claimed timers, earliest first.
        cases: the cases of those timers, as committed, by id.
    """

    timers: list[Timer]
    cases: dict[str, Case]
    _write: Callable[[Sequence[CaseChange]], None] = field(repr=False)
    committed: bool = False

    def commit(self, changes: Sequence[CaseChange]) -> None:
        """Write the changes (each as ``Store.commit`` would) and end the claim.

        Each change may fire one timer of the batch (``fired_timer``) and
        cancel or meet others; timers of the batch that no change fires or
        closes stay pending. Call it once.

        Raises:
            ConflictError: a case or timer changed meanwhile; nothing written.
            InvalidArgumentError: called twice.
        """
        if self.committed:
            raise InvalidArgumentError("a due batch is committed once")
        if changes:
            self._write(changes)
        self.committed = True


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

        ``change.expected_version`` is 0. Linked cases (``change.linked``) are
        created in the same transaction.

        Raises:
            ConflictError: a case with this id (or a linked case's id) exists;
                nothing was written.
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
        ``change.fired_timer`` fired (it must be pending); cancel the pending
        timers whose ids are in ``change.cancel``; mark the pending period
        timers in ``change.meet`` met; insert ``change.arm``; queue
        ``change.outbox`` (leased to ``change.outbox_owner`` until
        ``change.outbox_until`` if an owner is given); create
        ``change.linked``.

        Cancelling and meeting visit only the timers named, never the case's
        older timers: a step costs the same on a case with a long past.

        Raises:
            ConflictError: the stored version differs (another writer won), the
                fired timer is no longer pending, or a linked case exists;
                nothing was written.
            CaseNotFoundError: no such case.
        """

    @abstractmethod
    def query_cases(self, query: CaseQuery) -> list[Case]:
        """Cases matching every filter of ``query``, in its order, one page of them.

        Cases that tie in the order come in the order they were created (the
        reverse when ``descending``); with ``order="due"``, cases with no due
        time come last. ``offset`` and ``limit`` cut the page.
        """

    @abstractmethod
    def count_cases(self, query: CaseQuery) -> int:
        """How many cases match every filter of ``query`` (its page ignored)."""

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
    def claim_due(
        self, now: datetime, *, worker_id: str, limit: int = 100
    ) -> AbstractContextManager[DueBatch]:
        """Claim up to ``limit`` pending timers due at or before ``now``.

        Used as ``with store.claim_due(now, worker_id=w) as batch: ...
        batch.commit(changes)``. The timers come earliest first; ties by
        arming time, then case id, then arming order within the case. While
        the block runs no other worker can claim them (nor change their
        cases, on backends where a claim locks the case); ``batch.commit``
        writes the changes in the claim's own transaction, so a timer is fired
        by exactly one worker. Leaving the block without ``commit``, or by an
        exception, writes nothing: the timers stay pending and can be claimed
        again (also when the worker dies mid-block).

        Raises:
            InvalidArgumentError: ``limit`` is not a whole number ≥ 1.
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
            lease: how long the lease lasts (positive).
            limit: the most items to return (≥ 1).
            case_id: only items of this case.

        Raises:
            InvalidArgumentError: a bad limit or lease.
        """

    @abstractmethod
    def ack_outbox(self, ids: Sequence[str], *, worker_id: str) -> None:
        """Mark items delivered (items leased by another worker are left alone)."""

    @abstractmethod
    def next_outbox_at(self, after: datetime) -> datetime | None:
        """When an undelivered item next becomes claimable, after ``after``.

        That is a held notice's release or a lease's end; None if none.
        """

    @abstractmethod
    def outbox(self, case_id: str | None = None) -> list[OutboxItem]:
        """The undelivered items (of one case, if given), oldest first; leases ignored."""

    # ------------------------------------------------------------- lifecycle
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many commits into one transaction (imports, simulations).

        Inside the block, ``create_case`` and ``commit`` join one transaction
        that is committed when the block ends, or rolled back entirely if it
        raises. A commit that fails inside (a conflict) changes nothing and
        leaves the rest of the batch intact. Backends without transactions run
        the block as it is.
        """
        yield

    def close(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release connections and files. The store is unusable afterwards."""


def check_claim(limit: object) -> None:
    """Check the ``limit`` of a claim (for backends).

    Raises:
        InvalidArgumentError: not a whole number ≥ 1.
    """
    check_count("limit", limit, minimum=1)


def check_lease(lease: object) -> None:
    """Check the ``lease`` of an outbox claim (for backends).

    Raises:
        InvalidArgumentError: not a positive ``timedelta``.
    """
    if not isinstance(lease, timedelta) or lease <= timedelta(0):
        raise InvalidArgumentError(f"lease must be a positive timedelta, not {lease!r}")
