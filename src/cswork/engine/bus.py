"""Subscriptions: Python callbacks for every committed step and deadline event.

The engine hands every committed batch of changes to its ``EventBus`` right
after the commit (one call in ``Engine._after``); the bus turns them into
``StepEvent``/``DeadlineEvent`` values and calls the subscribers whose
filters match, in commit order:

- ``background`` delivery (an engine on the real clock): a dispatcher thread
  calls the subscribers, off the caller's path — a slow subscriber never
  slows a request. The thread lives while there is work.
- ``inline`` delivery (a virtual clock: tests, simulations): in the
  committing thread, right after the commit, so a test sees the calls at once.

A subscriber that raises is called again with the same event (``attempts``
times in all, waiting ``backoff`` doubled between tries in the background);
after that the failure is logged on ``cswork.events`` with the event's key
and the bus moves on. Subscribers never see an event of a step that did not
commit, and an exception of theirs never reaches the caller of ``fire``.

What "at least once" covers: every subscriber gets every event committed by
this process while the process lives (more than once if it raised). Events
still queued when the process dies are lost from the live feed; a consumer
that must see everything keeps the time it last handled and, after a
restart, reads what it missed with ``Engine.events_since`` (same keys, so
duplicates are recognised).
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cswork._loop import LoopThread
from cswork.engine.background import BackgroundQueue
from cswork.engine.events import ALL_KINDS, CaseEvent, events_of
from cswork.records import CaseChange, HistoryKind

log = logging.getLogger("cswork.events")

#: A subscriber: called with each event; may be an ``async def`` function.
Handler = Callable[[CaseEvent], object]
Delivery = Literal["inline", "background"]
Where = Literal["any", "enter", "exit"]


@dataclass(eq=False)
class Subscription:
    """One subscriber and what it wants; ``cancel()`` ends it.

    Attributes:
        handler: the function called with each matching event.
        kinds: the kinds of history entries it wants.
        workflow: only events of this workflow (None: every workflow).
        state: for ``on_enter``/``on_exit``: the state entered or left.
        where: ``any`` (every matching entry), ``enter`` or ``exit``.
    """

    handler: Handler
    kinds: frozenset[HistoryKind] = ALL_KINDS
    workflow: str | None = None
    state: str | None = None
    where: Where = "any"
    _bus: weakref.ReferenceType[EventBus] | None = field(default=None, repr=False)

    def wants(self, event: CaseEvent) -> bool:
        """Does this subscriber want ``event``?"""
        if event.kind not in self.kinds:
            return False
        if self.workflow is not None and event.workflow_id != self.workflow:
            return False
        if self.where == "enter":
            return event.entered == self.state
        if self.where == "exit":
            return event.left == self.state
        return True

    def cancel(self) -> None:
        """Stop calling this subscriber (events already being delivered may still come)."""
        bus = self._bus() if self._bus is not None else None
        if bus is not None:
            bus.remove(self)


class EventBus:
    """One engine's subscribers and the thread that calls them.

    Args:
        delivery: ``background`` (a dispatcher thread) or ``inline``.
        attempts: calls per subscriber and event at most.
        backoff: seconds before the second call (doubled for each next one;
            background delivery only).
    """

    def __init__(
        self, delivery: Delivery, *, attempts: int = 3, backoff: float = 0.1
    ) -> None:
        self.delivery = delivery
        self.attempts = attempts
        self.backoff = backoff
        self._subs: tuple[Subscription, ...] = ()
        self._lock = threading.Lock()
        self._queue: BackgroundQueue[Sequence[CaseChange]] = BackgroundQueue(
            lambda changes: self._dispatch(changes, wait=True), "cswork-events"
        )
        self._loop = LoopThread("cswork-events-loop")

    # ---------------------------------------------------------- subscribers
    def add(self, sub: Subscription) -> Subscription:
        """Start calling ``sub``; returns it (``cancel()`` ends it)."""
        sub._bus = weakref.ref(self)
        with self._lock:
            self._subs = (*self._subs, sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        """Stop calling ``sub`` (nothing if it was not subscribed)."""
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """The current subscriptions."""
        return self._subs

    # -------------------------------------------------------------- publish
    def publish(self, changes: Sequence[CaseChange]) -> None:
        """Hand over committed changes (called by the engine after each commit)."""
        if not self._subs or not changes:
            return
        if self.delivery == "inline":
            self._dispatch(changes, wait=False)
            return
        self._queue.submit([changes])

    def _dispatch(self, changes: Sequence[CaseChange], *, wait: bool) -> None:
        subs = self._subs
        for event in events_of(changes):
            for sub in subs:
                if sub.wants(event):
                    self._call(sub, event, wait=wait)

    def _call(self, sub: Subscription, event: CaseEvent, *, wait: bool) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                result = sub.handler(event)
                if inspect.iscoroutine(result):
                    self._loop.run(result)
                return
            except Exception:
                if attempt == self.attempts:
                    log.exception(
                        "subscriber %s failed %d times on %s %s; giving up on it",
                        getattr(sub.handler, "__qualname__", sub.handler),
                        attempt,
                        event.kind,
                        event.key,
                    )
                    return
                if wait:
                    time.sleep(self.backoff * 2 ** (attempt - 1))

    # ------------------------------------------------------------ lifecycle
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event published so far was handed to its subscribers.

        Returns:
            False if that did not happen within ``timeout`` seconds.
        """
        return self._queue.wait(timeout)

    def close(self) -> None:
        """Deliver what is queued, then stop the thread and the private loop."""
        self._queue.close()
        self._loop.close()
