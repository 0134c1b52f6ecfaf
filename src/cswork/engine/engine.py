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
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Self

from cswork.calendar import WorkingCalendar
from cswork.clock import Clock, SystemClock
from cswork.definition.loader import load_paths
from cswork.definition.model import CalendarDef, Workflow
from cswork.definition.source import LoadedCalendar, LoadedWorkflow
from cswork.engine.cache import CaseCache
from cswork.engine.catalogue import Catalogue
from cswork.engine.check import check_event, check_start
from cswork.engine.compile import CompiledWorkflow
from cswork.engine.driving import Driving
from cswork.engine.effects import Handover
from cswork.engine.guards import check_actor, check_data, check_name, is_clean_id
from cswork.engine.hooks import Hooks, LoggingNotifier, Notifier
from cswork.engine.outbox import LEASE, Outbox
from cswork.engine.plan import Planner
from cswork.engine.reads import Reads
from cswork.engine.subscribing import Subscribing
from cswork.errors import (
    ConflictError,
    DefinitionError,
    InvalidArgumentError,
    Problem,
    RejectedError,
)
from cswork.records import (
    Actor,
    Case,
    CaseChange,
    check_count,
)
from cswork.storage.base import Store, check_lease
from cswork.storage.memory import MemoryStore

log = logging.getLogger("cswork.engine")

#: Cases whose last committed version an engine remembers (saves a read per step).
CACHE_SIZE = 4096


def new_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


class Engine(Reads, Driving, Subscribing):
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
        self._catalogue = Catalogue(
            self.store, self.hooks, self.calendars, self._new_planner
        )
        self._cache = CaseCache(CACHE_SIZE)
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

        Nothing is loaded if one of them is refused.

        Raises:
            UnregisteredHookError: a workflow names a function not registered.
            DefinitionError: a workflow names an unknown calendar.
            DefinitionChangedError: a version is stored with other content.
        """
        self._catalogue.add(workflows)

    def _new_planner(self, compiled: CompiledWorkflow) -> Planner:
        return Planner(
            compiled, self.calendars, self.new_id, self.hooks.conditions,
            self._plan_linked, owner=self.worker_id, lease=self.lease,
        )  # fmt: skip

    def _planner(self, workflow_id: str, version: int | None = None) -> Planner:
        return self._catalogue.planner(workflow_id, version)

    @property
    def workflows(self) -> dict[str, int]:
        """Loaded workflow ids → the version new cases start on."""
        return dict(self._catalogue.latest)

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
        dues = [t.due_at for c in changes for t in c.all_armed()]
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


def _overdue(case: Case, now: datetime) -> bool:
    """Has one of the case's armed deadlines fallen due?"""
    return any(due <= now for due in case.armed.values())


def _working_calendar(
    cal: LoadedCalendar | CalendarDef | WorkingCalendar,
) -> WorkingCalendar:
    if isinstance(cal, WorkingCalendar):
        return cal
    d = cal.definition if isinstance(cal, LoadedCalendar) else cal
    return d.working_calendar()
