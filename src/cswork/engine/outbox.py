"""Delivering the outbox: notices, hook calls and hand-overs that must be retried.

Items are written in the same transaction as the step that causes them,
already *leased* to the engine that wrote them, which delivers them after the
commit without claiming them again. Two ways, chosen per engine:

- ``background`` (the default with a real clock): a deliverer thread takes
  the items off the caller's path, delivers them one by one and writes each
  one's acknowledgement right after delivering it. A request never waits for
  a slow mail server, and a process killed mid-delivery repeats at most the
  notice it was delivering.
- ``inline`` (the default with a virtual clock, so that tests and
  simulations are deterministic): items are delivered in the caller's thread
  right after the commit; their acknowledgements are collected and written
  within ``ACK_DELAY`` by a short-lived thread, and at once by ``flush``,
  ``deliver``, ``run_due`` and ``close``.

Either way a quiet engine never leaves a delivered item's lease to expire,
and ``close`` (or interpreter exit) writes what is pending. An item whose
delivery raised, or whose engine died before acknowledging it, is claimed
again by anyone once its lease expires (``deliver``; the worker calls it):
delivery is at least once across crashes, exactly once otherwise, and the
item id is the idempotency key.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from cswork.engine.background import BackgroundQueue
from cswork.engine.hooks import HookCall, Hooks, Notice, Notifier
from cswork.errors import ConflictError, CsworkError
from cswork.records import Actor, CaseChange, OutboxItem

if TYPE_CHECKING:
    from cswork.clock import Clock
    from cswork.storage.base import Store

log = logging.getLogger("cswork.engine")

LEASE = timedelta(minutes=1)
ACK_DELAY = 0.5  # seconds; far below the lease

Delivery = Literal["inline", "background"]

#: Starts a linked case: (workflow, actor, data, case id, acceptance time or None).
StartCase = Callable[[str, Actor, dict[str, object], str, datetime | None], object]


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
            except CsworkError as exc:
                # Kept for the next add() or close(); the thread ends rather
                # than spin against a store that is gone. Unacknowledged
                # items are delivered again once their lease runs out.
                log.warning(
                    "acknowledging %d delivered outbox items failed (%s); "
                    "will retry on the next delivery or at close",
                    len(self._ids), exc,
                )  # fmt: skip
                stopping = True
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
        except CsworkError as exc:
            log.warning(
                "acknowledging %d delivered outbox items failed at close (%s); "
                "they will be delivered again once their lease runs out",
                len(self._ids), exc,
            )  # fmt: skip


class _Deliverer(BackgroundQueue[OutboxItem]):
    """The background thread: delivers queued items, each acknowledged at once."""

    def __init__(
        self,
        deliver_one: Callable[[OutboxItem], bool],
        ack: Callable[[Sequence[str]], None],
    ) -> None:
        super().__init__(self._one, "cswork-deliver")
        self._deliver_one = deliver_one
        self._ack = ack

    def _one(self, item: OutboxItem) -> None:
        try:
            if self._deliver_one(item):
                self._ack([item.id])
        except CsworkError:
            log.exception("acknowledging outbox item %s failed", item.id)


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
        delivery: Delivery = "inline",
        lease: timedelta = LEASE,
        ack_delay: float = ACK_DELAY,
    ) -> None:
        self.store = store
        self.clock = clock
        self.worker_id = worker_id
        self.notifier = notifier
        self.hooks = hooks
        self.start_case = start_case
        self.delivery = delivery
        self.lease = lease

        def ack(ids: Sequence[str]) -> None:  # holds the store, never the engine
            store.ack_outbox(ids, worker_id=worker_id)

        self._acks = _Acks(ack, ack_delay)
        self._deliverer = _Deliverer(self.deliver_one, ack)
        # Write what is pending at garbage collection or interpreter exit,
        # whichever comes first.
        self._finalizer = weakref.finalize(self, _close, self._deliverer, self._acks)

    def after_commit(self, changes: Iterable[CaseChange]) -> None:
        """Deliver the (leased) items of committed changes (not the held ones)."""
        items = [i for c in changes for i in _items(c) if i.not_before is None]
        if not items:
            return
        if self.delivery == "background":
            self._deliverer.submit(items)
            return
        done = [i.id for i in items if self.deliver_one(i)]
        if done:
            self._acks.add(done)

    def flush(self, timeout: float | None = None) -> bool:
        """Deliver what is queued and write every pending acknowledgement.

        Returns:
            False if background delivery did not finish within ``timeout``.
        """
        finished = self._deliverer.wait(timeout)
        self._acks.flush()
        return finished

    def close(self) -> None:
        """Finish background delivery and write what is pending; stop the threads."""
        self._finalizer()

    def deliver(self, *, case_id: str | None = None, limit: int = 100) -> int:
        """Claim and deliver items whose lease is free or expired.

        Each delivered item is acknowledged at once, so a process killed
        here repeats at most the item it was delivering.

        Returns:
            How many items were delivered.
        """
        self._acks.flush()
        done = 0
        while True:
            items = self.store.claim_outbox(
                self.clock.now(), worker_id=self.worker_id, lease=self.lease,
                limit=limit, case_id=case_id,
            )  # fmt: skip
            failed = 0
            for item in items:
                if self.deliver_one(item):
                    self.store.ack_outbox([item.id], worker_id=self.worker_id)
                    done += 1
                else:
                    failed += 1
            if len(items) < limit or failed:
                return done

    def deliver_one(self, item: OutboxItem) -> bool:
        """Deliver one item; False (and a log entry) if it failed."""
        try:
            if item.kind == "notify":
                self.notifier.notify(_notice(item))
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
        accepted = payload.get("accepted_at")
        try:
            self.start_case(
                item.target,
                Actor(str(payload.get("actor")), names),
                dict(data) if isinstance(data, dict) else {},
                item.id,
                datetime.fromisoformat(accepted) if isinstance(accepted, str) else None,
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


def _notice(item: OutboxItem) -> Notice:
    p = item.payload
    persons = p.get("persons")
    unit_roles = p.get("unit_roles")
    unit = p.get("unit")
    return Notice(
        item.id, item.case_id, item.roles, item.reason, item.message, item.created_at,
        persons=tuple(x for x in persons if isinstance(x, str))
        if isinstance(persons, list) else (),
        unit=unit if isinstance(unit, str) else None,
        unit_roles=tuple(x for x in unit_roles if isinstance(x, str))
        if isinstance(unit_roles, list) else (),
        held_until=item.not_before,
    )  # fmt: skip


def _close(deliverer: _Deliverer, acks: _Acks) -> None:
    deliverer.close()
    acks.close()


def _items(change: CaseChange) -> Iterable[OutboxItem]:
    yield from change.outbox
    for linked in change.linked:
        yield from _items(linked)
