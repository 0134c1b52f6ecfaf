"""Delivering the outbox: notices, hook calls and hand-overs that must be retried.

Items are written in the same transaction as the step that causes them,
already *leased* to the engine that wrote them. That engine delivers them
right after the commit, without claiming them again, and acknowledges them
soon after: acknowledgements are collected and written by a background
thread within ``ACK_DELAY`` (so a busy engine writes one acknowledgement per
burst, and a quiet one never leaves a lease to expire), and at once by
``flush``, ``deliver``, ``run_due``, ``close`` and at interpreter exit.

An item whose delivery raised, or whose engine died before the
acknowledgement, is claimed again by anyone once its lease expires: delivery
is at least once across crashes, exactly once otherwise, and the item id is
the idempotency key.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from cswork.engine.hooks import HookCall, Hooks, Notice, Notifier
from cswork.errors import ConflictError, CsworkError
from cswork.records import Actor, CaseChange, OutboxItem

if TYPE_CHECKING:
    from cswork.clock import Clock
    from cswork.storage.base import Store

log = logging.getLogger("cswork.engine")

LEASE = timedelta(minutes=1)
ACK_DELAY = 0.5  # seconds; far below the lease

#: Starts a linked case: (workflow id, actor, data, case id).
StartCase = Callable[[str, Actor, dict[str, object], str], object]


class _Acks:
    """Acknowledgements waiting to be written, and the thread that writes them.

    The thread lives only while there is something to write: it waits the
    delay, writes what has come in, and ends when nothing more has.
    """

    def __init__(self, ack: Callable[[Sequence[str]], None], delay: float) -> None:
        self._ack = ack
        self._delay = delay
        self._ids: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, ids: Iterable[str]) -> None:
        with self._lock:
            self._ids.extend(ids)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="cswork-acks", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            ids, self._ids = self._ids, []
        if not ids:
            return
        try:
            self._ack(ids)
        except BaseException:
            with self._lock:
                self._ids[:0] = ids  # keep them for the next try
            raise

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self._delay)
            try:
                self.flush()
            except CsworkError:
                log.exception("acknowledging delivered outbox items failed; retrying")
            with self._lock:
                if stopping or not self._ids:
                    self._thread = None
                    return

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        try:
            self.flush()
        except CsworkError:
            log.exception("acknowledging delivered outbox items failed at close")


class Outbox:
    """One engine's side of the outbox."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        worker_id: str,
        notifier: Notifier,
        hooks: Hooks,
        start_case: StartCase,
        *,
        ack_delay: float = ACK_DELAY,
    ) -> None:
        self.store = store
        self.clock = clock
        self.worker_id = worker_id
        self.notifier = notifier
        self.hooks = hooks
        self.start_case = start_case
        self._acks = _Acks(
            lambda ids: store.ack_outbox(ids, worker_id=worker_id), ack_delay
        )
        # Flush at garbage collection or interpreter exit, whichever comes
        # first (the finalizer holds the acknowledgements, never the engine).
        self._finalizer = weakref.finalize(self, _Acks.close, self._acks)

    def lease(self, change: CaseChange) -> CaseChange:
        """The change (and its linked cases) with outbox items leased to this engine."""
        if not change.outbox and not change.linked:
            return change
        until = self.clock.now() + LEASE
        linked = tuple(self.lease(c) for c in change.linked)
        return replace(
            change, outbox_owner=self.worker_id, outbox_until=until, linked=linked
        )

    def after_commit(self, changes: Iterable[CaseChange]) -> None:
        """Deliver the (leased) items of committed changes."""
        done = [i.id for c in changes for i in _items(c) if self.deliver_one(i)]
        if done:
            self._acks.add(done)

    def flush(self) -> None:
        """Write the acknowledgements of the items delivered so far."""
        self._acks.flush()

    def close(self) -> None:
        """Stop the acknowledging thread after writing what it holds."""
        self._finalizer()

    def deliver(self, *, case_id: str | None = None, limit: int = 100) -> int:
        """Claim and deliver items whose lease is free or expired.

        Returns:
            How many items were delivered.
        """
        self.flush()
        done = 0
        while True:
            items = self.store.claim_outbox(
                self.clock.now(), worker_id=self.worker_id, lease=LEASE, limit=limit,
                case_id=case_id,
            )  # fmt: skip
            ok = [i.id for i in items if self.deliver_one(i)]
            if ok:
                self.store.ack_outbox(ok, worker_id=self.worker_id)
            done += len(ok)
            if len(items) < limit or len(ok) < len(items):
                return done

    def deliver_one(self, item: OutboxItem) -> bool:
        """Deliver one item; False (and a log entry) if it failed."""
        try:
            if item.kind == "notify":
                notice = Notice(
                    item.id, item.case_id, item.roles, item.reason, item.message,
                    item.created_at,
                )  # fmt: skip
                self.notifier.notify(notice)
            elif item.kind == "call":
                self.hooks.actions[item.target](HookCall(
                    item.id, item.case_id, item.target, item.reason, item.created_at,
                    item.payload))  # fmt: skip
            else:
                return self._start_linked(item)
        except Exception:
            log.exception(
                "delivering %s %s of case %s failed; will retry",
                item.kind,
                item.id,
                item.case_id,
            )
            return False
        return True

    def _start_linked(self, item: OutboxItem) -> bool:
        """Retry a hand-over that could not be made in its step's transaction."""
        payload = item.payload
        roles = payload.get("roles")
        names = (
            [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []
        )
        data = payload.get("data")
        try:
            self.start_case(
                item.target,
                Actor(str(payload.get("actor")), names),
                dict(data) if isinstance(data, dict) else {},
                item.id,
            )
        except ConflictError:
            return True  # started before: the linked case exists already
        except CsworkError as exc:
            log.warning(
                "hand-over of case %s to a new %s case still refused: %s",
                item.case_id,
                item.target,
                exc,
            )
            return False
        return True


def _items(change: CaseChange) -> Iterable[OutboxItem]:
    yield from change.outbox
    for linked in change.linked:
        yield from _items(linked)
