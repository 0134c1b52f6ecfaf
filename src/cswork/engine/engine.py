"""``Engine``: the one door every change goes through.

The facade only orchestrates: it loads what it needs from the store, asks the
pure ``Stepper`` for the change (which enforces every rule), commits that
change in one transaction, and then delivers the outbox.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cswork.calendar import WorkingCalendar
from cswork.clock import Clock, SystemClock
from cswork.definition.checks import hook_names
from cswork.definition.loader import load_paths
from cswork.definition.model import CalendarDef, Workflow
from cswork.definition.source import LoadedCalendar, LoadedWorkflow, Source
from cswork.engine.compile import CompiledWorkflow
from cswork.engine.explain import Explanation, explain
from cswork.engine.guards import check_actor, check_data, is_clean_id
from cswork.engine.hooks import Hooks, LoggingNotifier, Notifier
from cswork.engine.outbox import Outbox
from cswork.engine.steps import Stepper
from cswork.errors import (
    CaseNotFoundError,
    ClockError,
    DefinitionError,
    InvalidDataError,
    Problem,
    UnknownWorkflowError,
    UnregisteredHookError,
)
from cswork.records import (
    Actor,
    Case,
    CaseChange,
    CaseQuery,
    HistoryEntry,
    StoredDefinition,
    Timer,
)
from cswork.storage.base import Store
from cswork.storage.memory import MemoryStore

log = logging.getLogger("cswork.engine")


def new_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


class Engine:
    """Runs cases of the loaded workflows on a store.

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
    ) -> None:
        self.store = store if store is not None else MemoryStore()
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
        self._outbox = Outbox(
            self.store,
            self.clock,
            self.worker_id,
            self.notifier,
            self.hooks,
            self._start_linked,
        )
        self._steppers: dict[tuple[str, int], Stepper] = {}
        self._latest: dict[str, int] = {}
        self.due_listeners: list[Callable[[datetime], None]] = []
        self.add_workflows(workflows)

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str], **kwargs: Any) -> Engine:
        """An engine with every workflow and calendar in a directory.

        Raises:
            DefinitionError: with every problem in every file.
        """
        defs = load_paths([path])
        calendars = list(kwargs.pop("calendars", ()))
        return cls(defs.workflows, calendars=[*defs.calendars, *calendars], **kwargs)

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
            problems += self._unregistered(wf, source)
            compiled.append(wf)
        if problems:
            raise UnregisteredHookError(problems)
        for wf in compiled:
            stepper = self._compile(wf)
            self.store.save_definition(
                StoredDefinition(
                    workflow_id=wf.workflow,
                    version=wf.version,
                    digest=stepper.wf.digest,
                    source=stepper.wf.source,
                )
            )
            self._steppers[(wf.workflow, wf.version)] = stepper
            if wf.version >= self._latest.get(wf.workflow, 0):
                self._latest[wf.workflow] = wf.version

    def _unregistered(self, wf: Workflow, source: Source) -> list[Problem]:
        problems = []
        for loc, kind, name in hook_names(wf):
            known = self.hooks.conditions if kind == "condition" else self.hooks.actions
            if name not in known:
                problems.append(
                    source.problem(
                        loc,
                        f"{kind} {name!r} is not registered with the engine's Hooks",
                    )
                )
        return sorted(problems, key=lambda p: (p.line, p.column))

    def _compile(self, wf: Workflow) -> Stepper:
        missing = [
            c
            for c in [wf.calendar, *(d.calendar for d in wf.deadlines.values())]
            if c is not None and c not in self.calendars
        ]
        if missing:
            raise DefinitionError(
                [
                    Problem(
                        f"<workflow {wf.workflow}>", 0, 0, f"unknown calendar {name!r}"
                    )
                    for name in missing
                ]
            )
        return Stepper(
            CompiledWorkflow(wf, self.hooks.conditions), self.calendars, self.new_id
        )

    def _stepper(self, workflow_id: str, version: int | None = None) -> Stepper:
        if version is None:
            if workflow_id not in self._latest:
                raise UnknownWorkflowError(workflow_id, None, list(self._latest))
            version = self._latest[workflow_id]
        stepper = self._steppers.get((workflow_id, version))
        if stepper is None:
            # A case pinned to a version this process did not load from files.
            stored = self.store.load_definition(workflow_id, version)
            wf = Workflow.model_validate_json(stored.source)
            problems = self._unregistered(wf, Source(f"<stored {workflow_id}>"))
            if problems:
                raise UnregisteredHookError(problems)
            stepper = self._steppers[(workflow_id, version)] = self._compile(wf)
        return stepper

    @property
    def workflows(self) -> dict[str, int]:
        """Loaded workflow ids → the version new cases start on."""
        return dict(self._latest)

    def definition(self, workflow_id: str, version: int | None = None) -> Workflow:
        """A workflow definition (the latest loaded version by default).

        Raises:
            UnknownWorkflowError: not loaded and not stored.
        """
        return self._stepper(workflow_id, version).wf.definition

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
        """
        stepper = self._stepper(workflow_id, version)
        if case_id is not None and not is_clean_id(case_id):
            raise InvalidDataError(
                f"case id {case_id!r:.60}: non-empty text of at most 200 characters",
                field_errors={"case_id": "invalid"},
            )
        change = stepper.start(
            case_id or self.new_id(),
            check_actor(actor),
            check_data(data),
            self.clock.now(),
        )
        change = self._outbox.lease(change)
        self.store.create_case(change)
        self._after(change)
        return change.case

    def fire(
        self,
        case_id: str,
        event: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
    ) -> Case:
        """Fire an event on a case.

        Returns:
            The case after the step.

        Raises:
            CaseNotFoundError: no such case.
            IllegalEventError, PermissionDeniedError, InvalidDataError,
            ConditionNotMetError: refused; nothing was written.
            ConflictError: another writer changed the case meanwhile; nothing
                was written (reload and retry).
        """
        actor, payload = check_actor(actor), check_data(data)
        case = self.get(case_id)
        now = self.clock.now()
        if _overdue(case, now):
            # A deadline of this case fell due and no worker has fired it yet
            # (none running, or not yet woken): fire it first, so that a step
            # taken too late records the breach instead of cancelling it.
            self.run_due()
            case = self.get(case_id)
        stepper = self._stepper(case.workflow_id, case.workflow_version)
        change = self._outbox.lease(stepper.event(case, event, actor, payload, now))
        self.store.commit(change)
        self._after(change)
        return change.case

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
        closed: bool | None = None,
        breached: bool | None = None,
        limit: int | None = None,
    ) -> list[Case]:
        """Cases matching every filter given, oldest first."""
        if any(
            v is not None and not is_clean_id(v) for v in (workflow, state, customer)
        ):
            return []  # no stored case can match text no case may hold
        return self.store.query_cases(
            CaseQuery(
                workflow_id=workflow,
                state=state,
                customer=customer,
                closed=closed,
                breached=breached,
                limit=limit,
            )
        )

    def allowed_events(self, case_id: str, actor: Actor | None = None) -> list[str]:
        """Events declared from the case's state (for which ``actor`` has a role)."""
        case = self.store.load_case(case_id)
        stepper = self._stepper(case.workflow_id, case.workflow_version)
        return stepper.wf.allowed_events(case.state, actor)

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
        case = self.store.load_case(case_id)
        stepper = self._stepper(case.workflow_id, case.workflow_version)
        return explain(stepper, case, self.store.timers(case_id), timer)

    def run_due(self, *, limit: int = 200) -> int:
        """Fire every timer due now (claimed exactly once across workers).

        Returns:
            How many timers this call fired.
        """
        now = self.clock.now()

        def handle(case: Case, timer: Timer) -> CaseChange:
            stepper = self._stepper(case.workflow_id, case.workflow_version)
            return self._outbox.lease(stepper.timer(case, timer, now, self.worker_id))

        fired = 0
        while True:
            changes = self.store.fire_due_timers(
                now, handle, worker_id=self.worker_id, limit=limit
            )
            fired += len(changes)
            self._outbox.after_commit(changes)
            self._announce(changes)
            if len(changes) < limit:
                self._outbox.flush()
                return fired

    def advance(self, delta: timedelta) -> int:
        """Move a virtual clock forward, firing each timer at its own due time.

        Returns:
            How many timers fired on the way.

        Raises:
            ClockError: the engine's clock is not virtual, or delta < 0.
        """
        clock = self.clock
        if not clock.is_virtual or not hasattr(clock, "set"):
            raise ClockError("advance() needs a VirtualClock")
        if delta < timedelta(0):
            raise ClockError(f"cannot advance by a negative {delta}")
        target = clock.now() + delta
        fired = self.run_due()
        while True:
            nxt = self.store.next_due_at()
            if nxt is None or nxt > target:
                break
            if nxt > clock.now():
                clock.set(nxt)
            fired += self.run_due()
        clock.set(target)
        return fired

    # --------------------------------------------------------------- outbox
    def deliver(self, *, case_id: str | None = None, limit: int = 100) -> int:
        """Deliver queued notifications, hook calls and linked-case starts.

        Items this engine wrote are delivered right after their commit; this
        delivers the rest: items other engines left behind, and items whose
        delivery failed, once their lease has expired. Delivery is at least
        once; the item id is the idempotency key.

        Returns:
            How many items were delivered.
        """
        return self._outbox.deliver(case_id=case_id, limit=limit)

    def flush(self) -> None:
        """Acknowledge delivered outbox items now (also done in batches by itself)."""
        self._outbox.flush()

    def _after(self, change: CaseChange) -> None:
        self._outbox.after_commit([change])
        self._announce([change])

    def _announce(self, changes: Iterable[CaseChange]) -> None:
        if not self.due_listeners:
            return
        dues = [t.due_at for c in changes for t in c.arm]
        if dues:
            earliest = min(dues)
            for listener in self.due_listeners:
                listener(earliest)

    def _start_linked(
        self, workflow_id: str, actor: Actor, data: dict[str, object], case_id: str
    ) -> object:
        return self.start(workflow_id, actor, data, case_id=case_id)


def _overdue(case: Case, now: datetime) -> bool:
    """Has one of the case's armed deadlines fallen due?"""
    return any(datetime.fromisoformat(due) <= now for due in case.armed.values())


def _working_calendar(
    cal: LoadedCalendar | CalendarDef | WorkingCalendar,
) -> WorkingCalendar:
    if isinstance(cal, WorkingCalendar):
        return cal
    d = cal.definition if isinstance(cal, LoadedCalendar) else cal
    return WorkingCalendar.from_definition(d)
