"""``Engine``: the one door every change goes through.

The facade only orchestrates one way through: load the case (from this
engine's cache of what it last committed, or the store) → check (the step is
allowed: ``check.py``) → plan (the change it makes: ``plan.py``, pure) →
commit (the store writes the change, version-checked) → deliver the outbox.
Deadlines come back the same way: claim a batch of due timers from the store,
plan each (``due.py``), commit the batch in the claim's transaction.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Self

from cswork.calendar import WorkingCalendar
from cswork.clock import Clock, SystemClock
from cswork.definition.loader import load_paths
from cswork.definition.model import CalendarDef, Workflow
from cswork.definition.source import LoadedCalendar, LoadedWorkflow, Source
from cswork.engine.bus import (
    BUS_LOCK,
    EventBus,
    Handler,
    Subscription,
    new_bus,
    read_events,
    subscription,
)
from cswork.engine.check import check_event, check_start, may_take
from cswork.engine.compile import CompiledWorkflow
from cswork.engine.due import plan_batch
from cswork.engine.effects import Handover
from cswork.engine.events import CaseEvent
from cswork.engine.explain import Explanation, explain
from cswork.engine.guards import check_actor, check_data, check_name, is_clean_id
from cswork.engine.hooks import Hooks, LoggingNotifier, Notifier
from cswork.engine.outbox import LEASE, Outbox
from cswork.engine.plan import Planner
from cswork.errors import (
    CaseNotFoundError,
    ClockError,
    ConflictError,
    DefinitionError,
    InvalidArgumentError,
    Problem,
    RejectedError,
    UnknownWorkflowError,
    UnregisteredHookError,
)
from cswork.records import (
    Actor,
    Case,
    CaseChange,
    CaseOrder,
    CaseQuery,
    HistoryEntry,
    HistoryKind,
    OutboxItem,
    StoredDefinition,
    Timer,
    check_count,
)
from cswork.storage.base import Store, check_lease
from cswork.storage.memory import MemoryStore

log = logging.getLogger("cswork.engine")

#: Cases whose last committed version an engine remembers (saves a read per step).
CACHE_SIZE = 4096
#: Claims one ``run_due`` makes at most before it lets the caller breathe.
MAX_DUE_ROUNDS = 10_000


def new_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


class _Cache:
    """The cases this engine last committed, so the next step need not read them.

    A cached case may be stale when other engines share the store: every
    commit is checked against the stored version anyway, and a conflict or a
    refusal computed on a cached case is retried once on a fresh read.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._cases: dict[str, Case] = {}
        self._lock = threading.Lock()

    def get(self, case_id: str) -> Case | None:
        return self._cases.get(case_id)  # one dict read: atomic

    def put(self, case: Case) -> None:
        with self._lock:
            cases = self._cases
            cases.pop(case.id, None)  # re-insert: the oldest go first
            cases[case.id] = case
            if len(cases) > self._size:
                del cases[next(iter(cases))]

    def drop(self, case_id: str) -> None:
        with self._lock:
            self._cases.pop(case_id, None)


class Engine:
    """Runs cases of the loaded workflows on a store.

    One engine per process is meant to be shared by all its threads: every
    method may be called from any thread.

    Args:
        workflows: workflow definitions (loaded files or models).
        calendars: calendar definitions; ``default`` is built in (Mon–Fri
            09:00–12:00, 13:00–18:00, Asia/Shanghai, Chinese holidays).
        store: where cases live; a new ``MemoryStore`` if omitted.
        clock: where time comes from; the system clock if omitted.
        hooks: the named conditions and action hooks the workflows use.
        notifier: delivers notifications; logs them if omitted.
        worker_id: names this engine in timer claims and outbox leases.
        id_factory: makes case, timer and outbox ids (random if omitted).
        delivery: how notices, hook calls and hand-overs are delivered after
            a commit: ``background`` (a thread, off the caller's path; the
            default with a real clock) or ``inline`` (in the caller's
            thread; the default with a virtual clock).
        lease: how long delivering an item is left to this engine before
            another may take it over.

    Raises:
        UnregisteredHookError: a workflow names a function not in ``hooks``.
        DefinitionChangedError: a workflow version is stored with other content.
    """

    def __init__(
        self,
        workflows: Iterable[LoadedWorkflow | Workflow] = (),
        *,
        calendars: Iterable[LoadedCalendar | CalendarDef | WorkingCalendar] = (),
        store: Store | None = None,
        clock: Clock | None = None,
        hooks: Hooks | None = None,
        notifier: Notifier | None = None,
        worker_id: str | None = None,
        id_factory: Callable[[], str] | None = None,
        delivery: Literal["auto", "inline", "background"] = "auto",
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store if store is not None else MemoryStore()
        if not isinstance(self.store, Store):
            raise InvalidArgumentError(
                f"store must be a cswork Store, not {type(store).__name__}"
            )
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.hooks = hooks if hooks is not None else Hooks()
        self.notifier: Notifier = (
            notifier if notifier is not None else LoggingNotifier()
        )
        self.worker_id = worker_id or f"{os.getpid()}-{new_id()[:8]}"
        self.new_id = id_factory or new_id
        self.calendars: dict[str, WorkingCalendar] = {"default": WorkingCalendar()}
        for cal in calendars:
            wc = _working_calendar(cal)
            self.calendars[wc.name] = wc
        if delivery not in ("auto", "inline", "background"):
            raise InvalidArgumentError(
                f"delivery is auto, inline or background, not {delivery!r}"
            )
        check_lease(lease)
        self.lease = lease
        if delivery == "auto":
            delivery = "inline" if self.clock.is_virtual else "background"
        self._outbox = Outbox(
            self.store, self.clock, self.worker_id, self.notifier, self.hooks,
            self._start_linked, delivery=delivery, lease=lease,
        )  # fmt: skip
        self._planners: dict[tuple[str, int], Planner] = {}
        self._latest: dict[str, int] = {}
        self._cache = _Cache(CACHE_SIZE)
        self.due_listeners: list[Callable[[datetime], None]] = []
        self.add_workflows(workflows)

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str], **kwargs: Any) -> Engine:
        """An engine with every workflow and calendar in a directory.

        Raises:
            DefinitionError: with every problem in every file (a missing
                directory is one problem: "no such directory").
        """
        if not os.path.isdir(path):  # not "cannot read"
            raise DefinitionError([Problem(os.fspath(path), 0, 0, "no such directory")])
        defs = load_paths([path])
        calendars = list(kwargs.pop("calendars", ()))
        return cls(defs.workflows, calendars=[*defs.calendars, *calendars], **kwargs)

    @classmethod
    def shipped(cls, **kwargs: Any) -> Engine:
        """An engine with the SOPs shipped with cswork (``cswork.shipped_workflows()``)."""
        from cswork.shipped import shipped_workflows

        return cls.from_directory(shipped_workflows(), **kwargs)

    # ------------------------------------------------------------ workflows
    def add_workflows(self, workflows: Iterable[LoadedWorkflow | Workflow]) -> None:
        """Load (newer versions of) workflows; running cases keep their version.

        Raises:
            UnregisteredHookError: a workflow names a function not registered.
            DefinitionChangedError: a version is stored with other content.
        """
        compiled = []
        problems: list[Problem] = []
        for item in workflows:
            wf, source = (
                (item.definition, item.source)
                if isinstance(item, LoadedWorkflow)
                else (item, Source(f"<workflow {item.workflow}>"))
            )
            problems += self.hooks.missing(wf, source)
            compiled.append(wf)
        if problems:
            raise UnregisteredHookError(problems)
        for wf in compiled:
            planner = self._compile(wf)
            self.store.save_definition(
                StoredDefinition(
                    workflow_id=wf.workflow,
                    version=wf.version,
                    digest=planner.wf.digest,
                    source=planner.wf.source,
                )
            )
            self._planners[(wf.workflow, wf.version)] = planner
            if wf.version >= self._latest.get(wf.workflow, 0):
                self._latest[wf.workflow] = wf.version

    def _compile(self, wf: Workflow) -> Planner:
        missing = [
            c
            for c in [wf.calendar, *(d.calendar for d in wf.deadlines.values())]
            if c is not None and c not in self.calendars
        ]
        if missing:
            raise DefinitionError(
                [
                    Problem(
                        f"<workflow {wf.workflow}>", 0, 0, f"unknown calendar {n!r}"
                    )
                    for n in missing
                ]
            )
        compiled = CompiledWorkflow(wf, self.hooks.conditions)
        return Planner(
            compiled, self.calendars, self.new_id, self.hooks.conditions,
            self._plan_linked, owner=self.worker_id, lease=self.lease,
        )  # fmt: skip

    def _planner(self, workflow_id: str, version: int | None = None) -> Planner:
        if version is None:
            if workflow_id not in self._latest:
                raise UnknownWorkflowError(workflow_id, None, list(self._latest))
            version = self._latest[workflow_id]
        planner = self._planners.get((workflow_id, version))
        if planner is None:
            # A case pinned to a version this process did not load from files.
            stored = self.store.load_definition(workflow_id, version)
            wf = Workflow.model_validate_json(stored.source)
            problems = self.hooks.missing(wf, Source(f"<stored {workflow_id}>"))
            if problems:
                raise UnregisteredHookError(problems)
            planner = self._planners[(workflow_id, version)] = self._compile(wf)
        return planner

    @property
    def workflows(self) -> dict[str, int]:
        """Loaded workflow ids → the version new cases start on."""
        return dict(self._latest)

    def definition(self, workflow_id: str, version: int | None = None) -> Workflow:
        """A workflow definition (the latest loaded version by default).

        Raises:
            UnknownWorkflowError: not loaded and not stored.
        """
        return self._planner(workflow_id, version).wf.definition

    # ---------------------------------------------------------------- cases
    def start(
        self,
        workflow_id: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        *,
        case_id: str | None = None,
        version: int | None = None,
    ) -> Case:
        """Start a case of a workflow (its latest loaded version by default).

        Raises:
            UnknownWorkflowError: no such workflow.
            PermissionDeniedError, InvalidDataError: refused; nothing written.
            ConflictError: ``case_id`` is taken.
            InvalidArgumentError: an argument of the wrong type.
        """
        check_name("workflow_id", workflow_id)
        if version is not None:
            check_count("version", version, minimum=1)
        actor, payload = check_actor(actor), check_data(data)
        if case_id is not None and not is_clean_id(case_id):
            raise InvalidArgumentError(
                f"case id {case_id!r:.60}: non-empty text of at most 200 characters"
            )
        planner = self._planner(workflow_id, version)
        now = self.clock.now()
        request = check_start(planner.wf, actor, payload, now, self.hooks.conditions)
        change = planner.start(case_id or self.new_id(), request, now)
        self.store.create_case(change)
        self._after([change])
        return change.case

    def fire(
        self,
        case_id: str,
        event: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        *,
        expected_version: int | None = None,
    ) -> Case:
        """Fire an event on a case.

        Args:
            case_id: the case.
            event: the event.
            actor: who fires it.
            data: the data given with the step.
            expected_version: if given, the step is refused with
                ``ConflictError`` unless the case is at this version (what a
                client saw: an HTTP ``If-Match``).

        Returns:
            The case after the step.

        Raises:
            CaseNotFoundError: no such case.
            IllegalEventError, PermissionDeniedError, InvalidDataError,
            ConditionNotMetError: refused; nothing was written.
            ConflictError: the case is not at ``expected_version``, or other
                writers changed it twice while this step was decided (the
                step is decided again once on the case as it is after a
                lost race); nothing was written.
            InvalidArgumentError: an argument of the wrong type.
        """
        check_name("event", event)
        actor, payload = check_actor(actor), check_data(data)
        if expected_version is not None:
            check_count("expected_version", expected_version, minimum=1)
        case = self._cache.get(case_id) if is_clean_id(case_id) else None
        fresh = case is None or (
            expected_version is not None and case.version != expected_version
        )
        if fresh:
            case = self.get(case_id)
        assert case is not None  # noqa: S101 - loaded above
        try:
            return self._fire(case, event, actor, payload, expected_version)
        except ConflictError:
            # Another writer committed after the case was read (or the cache
            # was stale): decide again, once, on the case as it is now.
            if expected_version is not None and fresh:
                raise
        except RejectedError:
            if fresh:
                raise
            # Refused on a cached case: the refusal counts only if the
            # stored case is the same version.
            current = self.get(case.id)
            if current.version == case.version:
                raise
            self._cache.drop(case.id)
            return self._fire(current, event, actor, payload, expected_version)
        self._cache.drop(case.id)
        return self._fire(self.get(case.id), event, actor, payload, expected_version)

    def _fire(
        self,
        case: Case,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any],
        expected_version: int | None,
    ) -> Case:
        if expected_version is not None and case.version != expected_version:
            raise ConflictError(
                case.id, f"expected version {expected_version}, found {case.version}"
            )
        now = self._time_for(case)
        if _overdue(case, now):
            # A deadline of this case fell due and no worker has fired it yet
            # (none running, or not yet woken): fire it first, so that a step
            # taken too late records the breach instead of cancelling it.
            self.run_due()
            case = self.get(case.id)
            now = self._time_for(case)
            if expected_version is not None and case.version != expected_version:
                raise ConflictError(case.id, "a deadline fell due meanwhile")
        planner = self._planner(case.workflow_id, case.workflow_version)
        request = check_event(
            planner.wf, case, event, actor, payload, self.hooks.conditions, now
        )
        change = planner.event(case, request, now)
        self.store.commit(change)
        self._after([change])
        return change.case

    def _time_for(self, case: Case) -> datetime:
        """Now, but never before the case's last step.

        A clock set back (a VM restored, an NTP step) would otherwise give
        history entries that go back in time and negative durations in the
        reports: the step is dated at its case's last step instead, and the
        jump logged.
        """
        now = self.clock.now()
        if now < case.updated_at:
            log.warning(
                "the clock is %s behind case %s's last step; dating the step at it",
                case.updated_at - now,
                case.id,
            )
            return case.updated_at
        return now

    def get(self, case_id: str) -> Case:
        """The case as stored. Raises ``CaseNotFoundError``."""
        if not is_clean_id(case_id):
            raise CaseNotFoundError(repr(case_id))
        return self.store.load_case(case_id)

    def history(self, case_id: str) -> list[HistoryEntry]:
        """Every step of the case, oldest first."""
        return self.store.history(case_id)

    def timers(self, case_id: str, *, pending_only: bool = True) -> list[Timer]:
        """The case's timers (pending ones by default), by due time."""
        return self.store.timers(case_id, pending_only=pending_only)

    def query(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        customer: str | None = None,
        owner: str | None = None,
        unit: str | None = None,
        assigned: bool | None = None,
        closed: bool | None = None,
        breached: bool | None = None,
        due_before: datetime | None = None,
        created_from: datetime | None = None,
        created_before: datetime | None = None,
        order: CaseOrder = "created",
        descending: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Case]:
        """Cases matching every filter given: one page, in the order asked.

        ``owner``/``unit``: the person or unit responsible; ``assigned``:
        with or without an owner; ``due_before``: cases whose next due time
        falls before it (a queue of what breaches soon); ``order``:
        ``created`` (the default, oldest first), ``due`` (soonest first,
        cases with nothing due last) or ``updated``. Served by the store's
        indexes, paginated by the store.

        Raises:
            InvalidArgumentError: a filter of the wrong type, or a bad page.
        """
        query = self._query(locals())
        return [] if query is None else self.store.query_cases(query)

    def count(self, **filters: Any) -> int:
        """How many cases ``query(**filters)`` would list if it had no page."""
        query = self._query({**filters, "offset": 0, "limit": None})
        return 0 if query is None else self.store.count_cases(query)

    @staticmethod
    def _query(args: Mapping[str, Any]) -> CaseQuery | None:
        """The store query for ``query()``'s arguments (None: nothing can match)."""
        given = {k: v for k, v in args.items() if k != "self"}
        wid = given.pop("workflow", None)
        query = CaseQuery(workflow_id=wid, **given)
        texts = (wid, query.state, query.customer, query.owner, query.unit)
        if any(v is not None and not is_clean_id(v) for v in texts):
            return None  # no stored case can match text no case may hold
        return query

    def allowed_events(self, case_id: str, actor: Actor | None = None) -> list[str]:
        """Events declared from the case's state; with ``actor``, those it may take.

        An actor may take an event when it holds one of its roles and, for a
        step limited to the case's owner or unit (``only``), is the owner or
        belongs to the unit. Data and conditions are checked when it fires.
        """
        case = self.get(case_id)
        planner = self._planner(case.workflow_id, case.workflow_version)
        steps = planner.wf.dispatch.get(case.state, {})
        if actor is None:
            return sorted(steps)
        who = check_actor(actor)
        return sorted(
            e for e, s in steps.items() if any(may_take(x, case, who) for x in s)
        )

    def stuck_handovers(self) -> list[OutboxItem]:
        """Hand-overs a deadline could not make: linked cases not yet started.

        They stay in the outbox and are retried by ``deliver`` (the worker
        calls it) until the target workflow accepts them.
        """
        return [i for i in self.store.outbox() if i.kind == "start_case"]

    # ------------------------------------------------------------ deadlines
    def explain(self, case_id: str, timer: str) -> Explanation:
        """How a timer's due time was derived.

        Args:
            case_id: the case.
            timer: a timer id, or a deadline name (its latest timer).

        Raises:
            CaseNotFoundError: no such case.
            CsworkError: the case has no such timer.
        """
        case = self.get(case_id)
        planner = self._planner(case.workflow_id, case.workflow_version)
        return explain(planner, case, self.store.timers(case_id), timer)

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

    # --------------------------------------------------------------- outbox
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

    def close(self) -> None:
        """Write what is pending (acknowledgements) and stop background work.

        Subscribers get what was committed before this call. The store is not
        closed: it belongs to whoever made it.
        """
        self._outbox.close()
        if self._bus is not None:
            self._bus.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _after(self, changes: list[CaseChange], *, due_now: bool = True) -> None:
        for change in changes:
            self._cache.put(change.case)
        self._outbox.after_commit(changes)
        if self._bus is not None:
            self._bus.publish(changes)
        dues = [t.due_at for c in changes for t in _armed(c)]
        if not dues:
            return
        earliest = min(dues)
        for listener in self.due_listeners:
            listener(earliest)
        if due_now and earliest <= self.clock.now():
            # A deadline armed already past (counted from acceptance, say):
            # it falls due at once, recorded with its true due time.
            self.run_due()

    # -------------------------------------------------------------- linking
    def _plan_linked(
        self, handover: Handover, actor: Actor, now: datetime, source_id: str
    ) -> CaseChange:
        planner = self._planner(handover.workflow_id)
        request = check_start(
            planner.wf, actor, handover.data, now, self.hooks.conditions,
            check_roles=False,
        )  # fmt: skip
        return planner.start(
            self.new_id(), request, now,
            linked_from=source_id, accepted_at=handover.accepted_at,
        )  # fmt: skip

    def _start_linked(
        self,
        workflow_id: str,
        actor: Actor,
        data: dict[str, object],
        case_id: str,
        accepted_at: datetime | None = None,
    ) -> object:
        planner = self._planner(workflow_id)
        now = self.clock.now()
        request = check_start(
            planner.wf, actor, data, now, self.hooks.conditions, check_roles=False
        )
        change = planner.start(case_id, request, now, accepted_at=accepted_at)
        self.store.create_case(change)
        self._after([change])
        return change.case

    # -------------------------------------------------------- subscriptions
    # (The machinery is in bus.py and events.py; these are its doors.)
    _bus: EventBus | None = None

    @property
    def events(self) -> EventBus:
        """The subscriptions of this engine (``flush``, ``close``, ``subscriptions``)."""
        with BUS_LOCK:
            if self._bus is None:
                self._bus = new_bus(self, self._outbox.delivery)
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
        return self.events.add(subscription(self, handler, kinds, workflow))

    def on_enter(self, workflow: str, state: str, handler: Handler) -> Subscription:
        """Call ``handler`` whenever a case of ``workflow`` enters ``state``.

        Raises:
            UnknownWorkflowError: no such workflow.
            InvalidArgumentError: the workflow has no such state.
        """
        return self.events.add(
            subscription(self, handler, None, workflow, "enter", state)
        )

    def on_exit(self, workflow: str, state: str, handler: Handler) -> Subscription:
        """Call ``handler`` whenever a case of ``workflow`` leaves ``state``.

        Raises:
            UnknownWorkflowError: no such workflow.
            InvalidArgumentError: the workflow has no such state.
        """
        return self.events.add(
            subscription(self, handler, None, workflow, "exit", state)
        )

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
        return read_events(self.store, since, until=until, workflow=workflow)


def _armed(change: CaseChange) -> list[Timer]:
    return [*change.arm, *(t for c in change.linked for t in _armed(c))]


def _overdue(case: Case, now: datetime) -> bool:
    """Has one of the case's armed deadlines fallen due?"""
    return any(due <= now for due in case.armed.values())


def _working_calendar(
    cal: LoadedCalendar | CalendarDef | WorkingCalendar,
) -> WorkingCalendar:
    if isinstance(cal, WorkingCalendar):
        return cal
    d = cal.definition if isinstance(cal, LoadedCalendar) else cal
    return WorkingCalendar.from_definition(d)
