"""Delivering the outbox: notifications, hook calls and linked-case starts.

Items are written in the same transaction as the step that causes them,
already *leased* to the engine that wrote them. That engine delivers them
right after the commit, without claiming them again, and acknowledges them in
batches (after 50 items, half a lease, or any ``deliver``/``run_due``/
``flush``). An item whose delivery raised, or whose engine died before the
acknowledgement, is claimed again by anyone once its lease expires: delivery
is at least once, and the item id is the idempotency key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cswork.engine.hooks import HookCall, Hooks, Notice, Notifier
from cswork.errors import ConflictError, CsworkError
from cswork.records import Actor, CaseChange, OutboxItem

if TYPE_CHECKING:
    from cswork.clock import Clock
    from cswork.storage.base import Store

log = logging.getLogger("cswork.engine")

LEASE = timedelta(minutes=1)
ACK_BATCH = 50

#: Starts a linked case: (workflow id, actor, data, case id).
StartCase = Callable[[str, Actor, dict[str, object], str], object]


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
    ) -> None:
        self.store = store
        self.clock = clock
        self.worker_id = worker_id
        self.notifier = notifier
        self.hooks = hooks
        self.start_case = start_case
        self._unacked: list[str] = []
        self._oldest: datetime | None = None

    def lease(self, change: CaseChange) -> CaseChange:
        """The change with its outbox items leased to this engine."""
        if not change.outbox:
            return change
        until = self.clock.now() + LEASE
        return replace(change, outbox_owner=self.worker_id, outbox_until=until)

    def after_commit(self, changes: Iterable[CaseChange]) -> None:
        """Deliver the (leased) items of committed changes."""
        for change in changes:
            for item in change.outbox:
                if self.deliver_one(item):
                    self._acknowledge(item.id)
        if len(self._unacked) >= ACK_BATCH or (
            self._oldest is not None and self.clock.now() - self._oldest >= LEASE / 2
        ):
            self.flush()

    def _acknowledge(self, item_id: str) -> None:
        if not self._unacked:
            self._oldest = self.clock.now()
        self._unacked.append(item_id)

    def flush(self) -> None:
        """Acknowledge the items delivered so far."""
        if self._unacked:
            ids, self._unacked, self._oldest = self._unacked, [], None
            self.store.ack_outbox(ids, worker_id=self.worker_id)

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
                self.notifier.notify(
                    Notice(
                        item.id,
                        item.case_id,
                        item.roles,
                        item.reason,
                        item.message,
                        item.created_at,
                    )
                )
            elif item.kind == "call":
                self.hooks.actions[item.target](HookCall(
                    item.id, item.case_id, item.target, item.reason, item.created_at,
                    item.payload))  # fmt: skip
            else:
                self._start_linked(item)
        except Exception:
            log.exception(
                "delivering %s %s of case %s failed; will retry",
                item.kind,
                item.id,
                item.case_id,
            )
            return False
        return True

    def _start_linked(self, item: OutboxItem) -> None:
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
            pass  # delivered before: the linked case exists already
        except CsworkError as exc:
            log.error(
                "could not start linked %s case for %s: %s",
                item.target,
                item.case_id,
                exc,
            )
