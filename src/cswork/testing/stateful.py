"""A hypothesis state machine that drives any workflow and checks the invariants.

No subclassing needed::

    from cswork.testing import workflow_state_machine

    TestComplaint = workflow_state_machine("workflows/complaint.yaml").TestCase

It starts cases, fires random legal and illegal events with valid and
invalid data by actors with and without the right roles, moves a virtual
clock (biased to closing time, lunch breaks, holiday eves and make-up days),
restarts the engine on the same store, and after every step checks the
invariants of ``cswork.testing.invariants`` — on every backend it was given,
which must also agree with each other.

Subclass it to add rules (``@rule``) or invariants (``@invariant``) of your own.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from cswork.clock import VirtualClock
from cswork.definition import load_paths
from cswork.definition.actions import StartCase
from cswork.definition.links import all_actions
from cswork.definition.loader import yaml_files
from cswork.definition.model import Transition, Workflow
from cswork.definition.source import DefinitionSet, LoadedWorkflow
from cswork.engine import Engine, Hooks
from cswork.errors import RejectedError
from cswork.records import SYSTEM_ROLE, Actor, Case
from cswork.storage.base import Store
from cswork.storage.memory import MemoryStore
from cswork.testing import invariants as inv
from cswork.testing import strategies as cst

StoreFactory = Callable[[], Store]


class _QuietNotifier:
    def notify(self, notice: object) -> None:
        pass


class WorkflowStateMachine(RuleBasedStateMachine):
    """Drives one workflow on one or more stores; set the class attributes first.

    Attributes:
        paths: YAML files or directories holding the workflow (and calendars,
            and any workflows it starts).
        workflow_id: the workflow to drive.
        store_factories: one factory per backend; every backend gets the same
            operations and must return equal results.
        hooks: the named conditions and action hooks the workflow uses.
        start_at: where the virtual clock starts.
    """

    paths: Sequence[str | os.PathLike[str]] = ()
    workflow_id: str = ""
    store_factories: Sequence[StoreFactory] = (MemoryStore,)
    hooks: Hooks | None = None
    start_at: datetime = datetime(2026, 2, 12, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        defs = _load(tuple(self.paths))
        wf = next(
            (
                w.definition
                for w in defs.workflows
                if w.definition.workflow == self.workflow_id
            ),
            None,
        )
        if wf is None:
            raise ValueError(f"no workflow {self.workflow_id!r} in {list(self.paths)}")
        self.wf: Workflow = wf
        # Only the workflow and those it starts: every engine (one per store,
        # again at each restart) compiles what it is given.
        self.defs = DefinitionSet(_linked(defs, wf.workflow), defs.calendars)
        self.stores = [make() for make in self.store_factories]
        self.clocks = [VirtualClock(self.start_at) for _ in self.stores]
        self.counters = [itertools.count() for _ in self.stores]
        self.engines = [self._engine(i) for i in range(len(self.stores))]
        self.case_ids: list[str] = []

    def _engine(self, i: int) -> Engine:
        counter = self.counters[i]
        return Engine(
            self.defs.workflows,
            calendars=self.defs.calendars,
            store=self.stores[i],
            clock=self.clocks[i],
            hooks=self.hooks,
            notifier=_QuietNotifier(),
            worker_id="worker",  # the same on every backend: it is in the history
            id_factory=lambda: f"id{next(counter):06d}",
        )

    def teardown(self) -> None:
        """Close every store."""
        for store in self.stores:
            store.close()

    # ---------------------------------------------------------------- helpers
    def _all(self, call: Callable[[Engine], Any]) -> Any:
        """Run ``call`` on every engine; all must succeed or all refuse alike."""
        outcomes: list[tuple[str, Any]] = []
        for engine in self.engines:
            try:
                outcomes.append(("ok", call(engine)))
            except RejectedError as exc:
                outcomes.append((type(exc).__name__, exc))
        kinds = {k for k, _ in outcomes}
        assert len(kinds) == 1, f"backends disagree: {outcomes}"  # noqa: S101
        return outcomes[0]

    @staticmethod
    def _then_run_due(engine: Engine, result: Any) -> Any:
        # A real worker wakes at once for a timer armed already due (an
        # appointment in the past): do what it would do.
        engine.run_due()
        return result

    @property
    def engine(self) -> Engine:
        """The first backend's engine."""
        return self.engines[0]

    # ------------------------------------------------------------------ rules
    @initialize(target=cases, data=st.data())
    def start_first(self, data: st.DataObject) -> str:
        """Begin with one case, so every run has something to work on."""
        return self._start(data, valid=True)

    @precondition(lambda self: len(self.case_ids) < 4)
    @rule(target=cases, data=st.data())
    def start_case(self, data: st.DataObject) -> str:
        """Start a case with valid data by someone allowed to."""
        return self._start(data, valid=True)

    @rule(data=st.data())
    def start_refused(self, data: st.DataObject) -> None:
        """Try to start a case with bad data or without the role: refused, no case."""
        before = len(self.engine.query())
        self._start(data, valid=False)
        assert len(self.engine.query()) == before  # noqa: S101

    def _start(self, data: st.DataObject, *, valid: bool) -> str:
        role_ok = valid or data.draw(st.booleans(), label="role ok")
        actor = data.draw(
            cst.actors(self.wf, self.wf.start.roles, allowed=role_ok), label="actor"
        )
        payload = data.draw(
            cst.payloads(self.wf, self.wf.start, valid=valid or not role_ok),
            label="payload",
        )
        kind, result = self._all(
            lambda e: self._then_run_due(e, e.start(self.wf.workflow, actor, payload))
        )
        assert (kind == "ok") == valid, f"start {kind}: {result}"  # noqa: S101
        if kind != "ok":
            return ""
        self.case_ids.append(result.id)
        return str(result.id)

    @rule(case_id=cases, data=st.data())
    def progress(self, case_id: str, data: st.DataObject) -> None:
        """Take a declared step with good input by someone allowed to.

        It may still be refused (a condition on earlier data); then nothing
        may change.
        """
        state = self.engine.get(case_id).state
        # Lean away from steps that abandon the case (withdraw, cancel), so
        # that runs get deep into the workflow.
        ending = {
            n
            for n, s in self.wf.states.items()
            if s.final and s.outcome not in (None, "resolved")
        }
        # Steps only a deadline (the system) may take are the clock's business.
        legal = cst.events(self.wf, state=state, legal=True).filter(_by_people)
        onward = legal.filter(lambda t: t.to not in ending)
        t = data.draw(st.one_of(onward, onward, onward, legal), label="transition")
        actor = _as_allowed(
            data.draw(cst.actors(self.wf, t.roles), label="actor"),
            t,
            self.engine.get(case_id),
        )
        payload = data.draw(cst.payloads(self.wf, t), label="payload")
        self._fire(case_id, t.event, actor, payload, must_fail=False)

    @rule(case_id=cases, data=st.data())
    def fire_legal(self, case_id: str, data: st.DataObject) -> None:
        """Fire an event declared from the case's state, with good or bad input."""
        state = self.engine.get(case_id).state
        t = data.draw(cst.events(self.wf, state=state, legal=True), label="transition")
        # Other transitions may share the event from this state (different
        # conditions or roles): a refusal is only certain when none can apply.
        variants = [
            v
            for v in self.wf.transitions
            if v.event == t.event and (state in v.from_ or "*" in v.from_)
        ]
        roles = sorted({r for v in variants for r in v.roles})
        # Nobody but the system may fire it: a person is always refused.
        people = any(_by_people(v) for v in variants)
        role_ok = people and data.draw(st.booleans(), label="role ok")
        actor = data.draw(cst.actors(self.wf, roles, allowed=role_ok), label="actor")
        valid = data.draw(st.booleans(), label="valid data")
        payload = data.draw(cst.payloads(self.wf, t, valid=valid), label="payload")
        must_fail = not role_ok or (not valid and len(variants) == 1)
        self._fire(case_id, t.event, actor, payload, must_fail=must_fail)

    @rule(case_id=cases, data=st.data())
    def fire_illegal(self, case_id: str, data: st.DataObject) -> None:
        """Fire an event not declared from the case's state: always refused."""
        state = self.engine.get(case_id).state
        t = data.draw(cst.events(self.wf, state=state, legal=False), label="transition")
        roles = t.roles if _by_people(t) else None  # None: any role of the workflow
        actor = data.draw(cst.actors(self.wf, roles), label="actor")
        payload = data.draw(cst.payloads(self.wf, t), label="payload")
        self._fire(case_id, t.event, actor, payload, must_fail=True)

    def _fire(
        self,
        case_id: str,
        event: str,
        actor: Actor,
        payload: dict[str, Any],
        *,
        must_fail: bool,
    ) -> None:
        before = [inv.snapshot(e, case_id) for e in self.engines]
        kind, _ = self._all(
            lambda e: self._then_run_due(e, e.fire(case_id, event, actor, payload))
        )
        if kind != "ok":
            for engine, snap in zip(self.engines, before, strict=True):
                inv.check_unchanged(snap, inv.snapshot(engine, case_id), case_id)
        elif must_fail:
            raise inv.InvariantViolation(f"{event!r} by {actor} was not refused")

    @rule(data=st.data())
    def advance_clock(self, data: st.DataObject) -> None:
        """Move time on, firing each deadline at its own due time."""
        cal = self.engine.calendars[self.wf.calendar]
        jump = data.draw(cst.clock_jumps(cal, self.clocks[0].now()), label="jump")
        counts = [engine.advance(jump) for engine in self.engines]
        assert len(set(counts)) == 1, f"backends fired {counts} timers"  # noqa: S101

    @precondition(lambda self: bool(self.case_ids))
    @rule()
    def restart_engine(self) -> None:
        """Drop the engines and carry on with new ones on the same stores."""
        self.engines = [self._engine(i) for i in range(len(self.stores))]

    # ------------------------------------------------------------- invariants
    @invariant()
    def every_case_holds(self) -> None:
        """Invariants 1, 3, 4 and 5 for every case, on every backend; and 6."""
        for engine, clock in zip(self.engines, self.clocks, strict=True):
            for cid in self.case_ids:
                inv.check_case(engine, cid, clock.now())
        inv.check_engines_agree(self.engines, self.case_ids)


@functools.cache
def _load(paths: tuple[str | os.PathLike[str], ...]) -> DefinitionSet:
    """The files' definitions, read once per run (each example starts afresh)."""
    return load_paths(paths)


def _linked(defs: DefinitionSet, workflow_id: str) -> tuple[LoadedWorkflow, ...]:
    """``workflow_id`` and every workflow its hand-overs may start, transitively."""
    by_id = {w.definition.workflow: w for w in defs.workflows}
    needed, todo = set(), [workflow_id]
    while todo:
        wid = todo.pop()
        if wid in needed or wid not in by_id:
            continue
        needed.add(wid)
        todo += [
            a.start_case
            for _, a in all_actions(by_id[wid].definition)
            if isinstance(a, StartCase)
        ]
    return tuple(w for w in defs.workflows if w.definition.workflow in needed)


def _as_allowed(actor: Actor, t: Transition, case: Case) -> Actor:
    """``actor``, as the case's owner or a member of its unit if ``t`` needs it.

    A step with ``only: owner|unit`` is taken by the person it names, so that
    random walks get past assignment.
    """
    if t.only == "owner" and case.owner is not None:
        return Actor(case.owner, actor.roles, actor.units)
    if t.only == "unit" and case.unit is not None:
        return Actor(actor.id, actor.roles, actor.units | {case.unit})
    return actor


def _by_people(t: Transition) -> bool:
    """May a person (a role other than ``system``) take this step?"""
    return any(r != SYSTEM_ROLE for r in t.roles)


def _files(paths: Sequence[str | os.PathLike[str]]) -> tuple[str, ...]:
    """The YAML files in ``paths``, each once (a file may be named twice)."""
    seen: dict[Path, str] = {}
    for name in yaml_files(paths):
        seen.setdefault(Path(name).resolve(), name)
    return tuple(seen.values())


def workflow_state_machine(
    path: str | os.PathLike[str],
    *,
    workflow_id: str | None = None,
    extra_paths: Sequence[str | os.PathLike[str]] = (),
    stores: Sequence[StoreFactory] = (MemoryStore,),
    hooks: Hooks | None = None,
    start_at: datetime | None = None,
) -> type[WorkflowStateMachine]:
    """A ready ``WorkflowStateMachine`` class for one YAML file.

    Warning:
        Property tests are slow: each example plays ``stateful_step_count``
        steps (hypothesis' default: 50) on every backend and checks every
        invariant of every case after each step. Measured on a 2-core
        machine (CPU time of one process; wall time on a busy machine was 2–5
        times more), an example of 50 steps of a shipped SOP takes 0.35–0.6 s
        with ``MemoryStore`` and 0.45–0.85 s with SQLite as well, and twice
        the steps cost 1.5–3.5 times as much: hypothesis' default of 100
        examples takes about a minute per SOP, 200 examples on two backends
        1.5–3 minutes. Set ``.TestCase.settings`` for a quick run (10
        examples of 30 steps: seconds) and a thorough one (docs/testing.md).

    Args:
        path: the workflow file.
        workflow_id: which workflow in it (default: the file's).
        extra_paths: more files or directories to load besides the file's
            directory (which is always loaded, so that the workflow itself,
            shipped calendars and linked workflows next to it are found):
            calendars or linked workflows kept elsewhere. A file named twice
            is loaded once.
        stores: one factory per backend to compare.
        hooks: named conditions and hooks the workflow needs.
        start_at: where the virtual clock starts.

    Returns:
        A subclass whose ``.TestCase`` runs under pytest or unittest.
    """
    from cswork.definition import load_file

    loaded = load_file(path)
    wid = workflow_id or str(getattr(loaded.definition, "workflow", ""))
    paths = _files([Path(path).parent, *extra_paths])
    attrs: dict[str, Any] = {
        "paths": paths,
        "workflow_id": wid,
        "store_factories": tuple(stores),
        "hooks": hooks,
    }
    if start_at is not None:
        attrs["start_at"] = start_at
    return type(
        f"{wid.title().replace('_', '')}StateMachine", (WorkflowStateMachine,), attrs
    )


__all__ = ["WorkflowStateMachine", "workflow_state_machine"]
