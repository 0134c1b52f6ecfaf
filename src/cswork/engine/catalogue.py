"""The workflow versions an engine runs, each compiled once.

New cases start on the latest version loaded; a case keeps the version it
started on. A version a case needs but this process did not load (another
process loaded it) is read back from the store, where every loaded version
is saved with its digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from cswork.calendar import WorkingCalendar
from cswork.definition.model import Workflow
from cswork.definition.source import LoadedWorkflow, Source
from cswork.engine.compile import CompiledWorkflow
from cswork.engine.hooks import Hooks
from cswork.engine.plan import Planner
from cswork.errors import (
    DefinitionError,
    Problem,
    UnknownWorkflowError,
    UnregisteredHookError,
)
from cswork.records import StoredDefinition
from cswork.storage.base import Store


class Catalogue:
    """Compiled workflow versions by (id, version), and the latest of each.

    Args:
        store: where loaded versions are saved and missing ones read back.
        hooks: the named conditions and action hooks workflows may use.
        calendars: the calendars workflows and deadlines may name.
        planner: makes the planner of a compiled workflow.
    """

    def __init__(
        self,
        store: Store,
        hooks: Hooks,
        calendars: Mapping[str, WorkingCalendar],
        planner: Callable[[CompiledWorkflow], Planner],
    ) -> None:
        self._store = store
        self._hooks = hooks
        self._calendars = calendars
        self._make = planner
        self._planners: dict[tuple[str, int], Planner] = {}
        self.latest: dict[str, int] = {}

    def add(self, workflows: Iterable[LoadedWorkflow | Workflow]) -> None:
        """Load (newer versions of) workflows; nothing is loaded if one is refused.

        Raises:
            UnregisteredHookError: a workflow names a function not registered.
            DefinitionError: a workflow names an unknown calendar.
            DefinitionChangedError: a version is stored with other content.
        """
        models: list[Workflow] = []
        problems: list[Problem] = []
        for item in workflows:
            wf, source = (
                (item.definition, item.source)
                if isinstance(item, LoadedWorkflow)
                else (item, Source(f"<workflow {item.workflow}>"))
            )
            problems += self._hooks.missing(wf, source)
            models.append(wf)
        if problems:
            raise UnregisteredHookError(problems)
        planners = [self._compile(wf) for wf in models]
        for wf, planner in zip(models, planners, strict=True):
            self._store.save_definition(
                StoredDefinition(
                    workflow_id=wf.workflow,
                    version=wf.version,
                    digest=planner.wf.digest,
                    source=planner.wf.source,
                )
            )
            self._planners[(wf.workflow, wf.version)] = planner
            if wf.version >= self.latest.get(wf.workflow, 0):
                self.latest[wf.workflow] = wf.version

    def planner(self, workflow_id: str, version: int | None = None) -> Planner:
        """The planner of a workflow version (the latest loaded by default).

        Raises:
            UnknownWorkflowError: not loaded and not stored.
            UnregisteredHookError: a stored version names an unregistered hook.
        """
        if version is None:
            if workflow_id not in self.latest:
                raise UnknownWorkflowError(workflow_id, None, list(self.latest))
            version = self.latest[workflow_id]
        planner = self._planners.get((workflow_id, version))
        if planner is None:
            # A case pinned to a version this process did not load from files.
            stored = self._store.load_definition(workflow_id, version)
            wf = Workflow.model_validate_json(stored.source)
            problems = self._hooks.missing(wf, Source(f"<stored {workflow_id}>"))
            if problems:
                raise UnregisteredHookError(problems)
            planner = self._planners[(workflow_id, version)] = self._compile(wf)
        return planner

    def _compile(self, wf: Workflow) -> Planner:
        named = [wf.calendar, *(d.calendar for d in wf.deadlines.values())]
        missing = [c for c in named if c is not None and c not in self._calendars]
        if missing:
            raise DefinitionError(
                [
                    Problem(
                        f"<workflow {wf.workflow}>", 0, 0, f"unknown calendar {n!r}"
                    )
                    for n in missing
                ]
            )
        return self._make(CompiledWorkflow(wf, self._hooks.conditions))
