"""Loaded definitions and where their parts came from (file:line:column)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cswork.definition._yaml import Mark, Path, Positions
from cswork.definition.model import CalendarDef, Workflow
from cswork.errors import Problem


@dataclass(frozen=True)
class Source:
    """Where a loaded document came from, for pointing at its parts."""

    file: str
    positions: Positions = field(default_factory=Positions, repr=False)

    def mark(self, path: Sequence[str | int], *, key: bool = False) -> Mark:
        """The (0-based) position of the deepest known part of ``path``."""
        found: Path = ()
        mark: Mark = self.positions.values.get((), (0, 0))
        for part in path:
            candidate = (*found, part)
            if candidate in self.positions.values:
                found = candidate
                mark = self.positions.values[candidate]
        if key and found in self.positions.keys:
            return self.positions.keys[found]
        return mark

    def problem(
        self,
        path: Sequence[str | int],
        message: str,
        hint: str = "",
        *,
        key: bool = False,
        warning: bool = False,
    ) -> Problem:
        """A problem located at ``path`` (the key itself when ``key``)."""
        line, col = self.mark(path, key=key)
        severity: Literal["error", "warning"] = "warning" if warning else "error"
        return Problem(self.file, line + 1, col + 1, message, hint, severity)


@dataclass(frozen=True)
class LoadedWorkflow:
    """A validated workflow, where it came from, and what it should look at.

    Attributes:
        definition: the workflow.
        source: its file and positions.
        warnings: problems that do not stop it from running (states a case
            may wait in for ever, or without an owner).
    """

    definition: Workflow
    source: Source
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class LoadedCalendar:
    """A validated calendar and where it came from."""

    definition: CalendarDef
    source: Source


Loaded = LoadedWorkflow | LoadedCalendar


@dataclass(frozen=True)
class DefinitionSet:
    """Workflows and calendars loaded together and checked against each other."""

    workflows: tuple[LoadedWorkflow, ...]
    calendars: tuple[LoadedCalendar, ...]

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Every warning of every workflow, by file then position."""
        return tuple(p for w in self.workflows for p in w.warnings)
