"""The workflow pages: each SOP's roles, steps and deadlines, and its files.

The engine holds definitions, not files: it refuses invalid files when it
loads them. When the console is given the workflow files or directories
(``make_console(sources=...)``), it validates them again (cached until a
file changes) and says, per file, whether it is valid now and whether the
engine runs the version the file declares.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cswork.console.queues import ConsoleInputError
from cswork.definition import load_file, load_paths, yaml_files
from cswork.definition.conditions import render
from cswork.definition.model import Workflow
from cswork.definition.source import LoadedWorkflow
from cswork.diagram import deadline_label
from cswork.engine import Engine
from cswork.errors import DefinitionError

if TYPE_CHECKING:
    from cswork.console.diagrams import Diagrams


@dataclass(frozen=True)
class FileStatus:
    """One definition file as it is now.

    Attributes:
        path: the file.
        problems: every problem found (``file:line:column: message``); empty
            when valid.
        workflow: the workflow id it declares (None for calendars, or when
            unreadable).
        version: the version it declares.
        loaded: the version the engine runs for that workflow (None: not loaded).
    """

    path: str
    problems: tuple[str, ...]
    workflow: str | None = None
    version: int | None = None
    loaded: int | None = None

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


class SourceChecker:
    """Validates the workflow files given to the console; cached per file state."""

    def __init__(self, sources: Sequence[str | os.PathLike[str]]) -> None:
        self.sources = [os.fspath(s) for s in sources]
        self._key: tuple[object, ...] | None = None
        self._result: list[FileStatus] = []
        self._lock = threading.Lock()

    def status(self, loaded: dict[str, int]) -> list[FileStatus]:
        """Every file's status (an empty list when no sources were given)."""
        if not self.sources:
            return []
        files = yaml_files(self.sources)
        key = (tuple(_stamp(f) for f in files), tuple(sorted(loaded.items())))
        with self._lock:
            if key != self._key:
                self._result = _check(files, self.sources, loaded)
                self._key = key
            return list(self._result)


def _stamp(path: str) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, st.st_mtime_ns, st.st_size)


def _check(
    files: list[str], sources: list[str], loaded: dict[str, int]
) -> list[FileStatus]:
    problems: dict[str, list[str]] = {f: [] for f in files}
    try:
        load_paths(sources)  # the checks across files too (calendars named...)
    except DefinitionError as exc:
        for p in exc.problems:
            problems.setdefault(p.file, []).append(str(p))
    out = []
    for f in files:
        wid: str | None = None
        version: int | None = None
        try:
            item = load_file(f)
        except DefinitionError:
            item = None
        if isinstance(item, LoadedWorkflow):
            wid, version = item.definition.workflow, item.definition.version
        out.append(
            FileStatus(
                path=f,
                problems=tuple(problems.get(f, ())),
                workflow=wid,
                version=version,
                loaded=loaded.get(wid) if wid else None,
            )
        )
    return out


@dataclass(frozen=True)
class DeadlineRow:
    """One deadline of a workflow, in words."""

    name: str
    title: str
    timing: str
    scope: str
    met_by: str
    warn: str
    on_due: str


def deadline_rows(wf: Workflow) -> list[DeadlineRow]:
    """The workflow's deadlines: when each falls due, where it runs, what meets it."""
    rows = []
    for name, d in wf.deadlines.items():
        warn = ""
        if d.warn is not None:
            ahead = d.warn.before or f"{d.warn.percent} %"
            warn = f"{ahead} before, to {', '.join(d.warn.notify)}"
        rows.append(
            DeadlineRow(
                name=name,
                title=d.title,
                timing=deadline_label(name, d).split(": ", 1)[-1],
                scope=", ".join(d.scope),
                met_by=", ".join(d.met_by),
                warn=warn,
                on_due="; ".join(_action(a) for a in d.on_due),
            )
        )
    return rows


def _action(action: object) -> str:
    for key in ("notify", "fire", "call", "start_case", "set", "increment"):
        value = getattr(action, key, None)
        if value is not None:
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            return f"{key} {shown}"
    return type(action).__name__.lower()


def transition_rows(wf: Workflow) -> list[tuple[str, str, str, str, str, str]]:
    """Each transition: event, from, to, roles, fields required, condition."""
    return [
        (t.event, ", ".join(t.from_), t.to or "(stays)", ", ".join(t.roles),
         ", ".join(t.requires), render(t.when) if t.when is not None else "")
        for t in wf.transitions
    ]  # fmt: skip


def workflows_context(engine: Engine, checker: SourceChecker) -> dict[str, Any]:
    """The workflow list: every loaded workflow (latest version) and the files."""
    loaded = engine.workflows
    defs = [engine.definition(w) for w in sorted(loaded)]
    return {"defs": defs, "files": checker.status(loaded)}


def workflow_context(
    engine: Engine,
    diagrams: Diagrams,
    checker: SourceChecker,
    workflow_id: str,
    version: str | None,
) -> dict[str, Any]:
    """One workflow's page (the latest version, or ``version``).

    Raises:
        ConsoleInputError: ``version`` is not a number.
        UnknownWorkflowError: no such workflow or version.
    """
    wf = engine.definition(workflow_id, parse_version(version))
    return {
        "wf": wf,
        "diagram": diagrams.draw(wf),
        "deadlines": deadline_rows(wf),
        "transitions": transition_rows(wf),
        "files": [
            f for f in checker.status(engine.workflows) if f.workflow == workflow_id
        ],
    }


def parse_version(text: str | None) -> int | None:
    """A version from a URL (None: the latest).

    Raises:
        ConsoleInputError: not a whole number.
    """
    if not text:
        return None
    if not text.isdigit():
        raise ConsoleInputError(f"version {text!r:.20} is not a number")
    return int(text)
