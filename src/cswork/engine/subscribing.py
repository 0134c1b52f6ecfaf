"""The doors of an engine's subscriptions, and the catch-up read.

Subscribers are Python callbacks for every committed step and deadline
event. The machinery is in ``bus.py`` (delivery) and ``events.py`` (the events);
``Engine`` takes these methods from ``Subscribing``.
"""

from __future__ import annotations

import difflib
import threading
import weakref
from collections.abc import Iterable
from datetime import datetime

from cswork.definition.model import Workflow
from cswork.engine.bus import EventBus, Handler, Subscription, Where
from cswork.engine.events import ALL_KINDS, CaseEvent, read_since
from cswork.engine.outbox import Outbox
from cswork.errors import InvalidArgumentError
from cswork.records import HistoryKind
from cswork.storage.base import Store

#: Guards the creation of an engine's bus (``Engine.events``).
_BUS_LOCK = threading.Lock()


class Subscribing:
    """The subscription side of ``Engine``.

    The bus is made on first use (an engine nobody subscribes to pays
    nothing); ``Engine.close`` closes it, and so does the engine's collection.
    """

    store: Store
    _outbox: Outbox
    _bus: EventBus | None = None

    def definition(self, workflow_id: str, version: int | None = None) -> Workflow:
        """A workflow definition (``Engine`` provides it)."""
        raise NotImplementedError  # pragma: no cover - Engine provides it

    @property
    def events(self) -> EventBus:
        """The subscriptions of this engine (``flush``, ``close``, ``subscriptions``)."""
        with _BUS_LOCK:
            if self._bus is None:
                self._bus = EventBus(self._outbox.delivery)
                weakref.finalize(self, self._bus.close)
        return self._bus

    def subscribe(
        self,
        handler: Handler,
        *,
        kinds: Iterable[HistoryKind] | None = None,
        workflow: str | None = None,
    ) -> Subscription:
        """Call ``handler`` with every committed step and deadline event.

        ``handler`` gets a ``StepEvent`` (start, event) or a ``DeadlineEvent``
        (deadline, warning, period) after the commit, off the caller's path
        when the engine delivers in the background; it may be an ``async
        def`` function. At least once: ``event.key`` is the idempotency key.

        Raises:
            UnknownWorkflowError: ``workflow`` is not loaded.
            InvalidArgumentError: an unknown kind, or a handler that is not callable.
        """
        return self.events.add(self._subscription(handler, kinds, workflow))

    def on_enter(self, workflow: str, state: str, handler: Handler) -> Subscription:
        """Call ``handler`` whenever a case of ``workflow`` enters ``state``.

        Raises:
            UnknownWorkflowError: no such workflow.
            InvalidArgumentError: the workflow has no such state.
        """
        sub = self._subscription(handler, None, workflow, "enter", state)
        return self.events.add(sub)

    def on_exit(self, workflow: str, state: str, handler: Handler) -> Subscription:
        """Call ``handler`` whenever a case of ``workflow`` leaves ``state``.

        Raises:
            UnknownWorkflowError: no such workflow.
            InvalidArgumentError: the workflow has no such state.
        """
        sub = self._subscription(handler, None, workflow, "exit", state)
        return self.events.add(sub)

    def events_since(
        self,
        since: datetime,
        *,
        until: datetime | None = None,
        workflow: str | None = None,
    ) -> list[CaseEvent]:
        """The catch-up read: every history entry written since ``since``, as events.

        Raises:
            InvalidArgumentError: ``since`` or ``until`` is not an aware datetime.
        """
        for name, value in (("since", since), ("until", until)):
            if value is None and name == "until":
                continue
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise InvalidArgumentError(f"{name} must be an aware datetime")
        return read_since(self.store, since, until=until, workflow=workflow)

    def _subscription(
        self,
        handler: Handler,
        kinds: Iterable[HistoryKind] | None,
        workflow: str | None,
        where: Where = "any",
        state: str | None = None,
    ) -> Subscription:
        """A checked subscription (not yet added)."""
        if not callable(handler):
            raise InvalidArgumentError(
                f"a subscriber is a function, not {type(handler).__name__}"
            )
        wanted = ALL_KINDS if kinds is None else frozenset(kinds)
        if isinstance(kinds, str) or not wanted <= ALL_KINDS:
            raise InvalidArgumentError(
                f"kinds are some of {', '.join(sorted(ALL_KINDS))}, not {kinds!r:.60}"
            )
        if workflow is not None:
            wf = self.definition(workflow)
            if state is not None and state not in wf.states:
                close = difflib.get_close_matches(state, list(wf.states), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InvalidArgumentError(
                    f"workflow {workflow!r} has no state {state!r}{hint}"
                )
        return Subscription(handler, wanted, workflow, state, where)
