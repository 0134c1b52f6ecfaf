"""Load workflow and calendar files into validated models, or say precisely why not.

Every problem carries ``file:line:column``; all problems of a file (and of a
directory) are collected and raised together as one ``DefinitionError``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path as FsPath

from pydantic import ValidationError

from cswork.definition import slips
from cswork.definition._yaml import read_yaml
from cswork.definition.checks import check_set, check_workflow
from cswork.definition.model import CalendarDef, Workflow
from cswork.definition.problems import validation_problems
from cswork.definition.source import (
    DefinitionSet,
    Loaded,
    LoadedCalendar,
    LoadedWorkflow,
    Source,
)
from cswork.errors import DefinitionError, Problem
from cswork.hints import did_you_mean, short

MAX_FILE_BYTES = 1_000_000
YAML_SUFFIXES = (".yaml", ".yml")


def load_text(text: str, file: str = "<string>") -> Loaded:
    """Load one workflow or calendar document from text.

    Raises:
        DefinitionError: with every problem found in the text.
    """
    data, positions, yaml_problems = read_yaml(text)
    source = Source(file, positions)
    lines = text.splitlines()
    problems = [
        Problem(
            file,
            p.line + 1,
            p.column + 1,
            p.message,
            p.hint or short(slips.syntax_hint(lines, p.line, p.column, p.message)),
        )
        for p in yaml_problems
    ]
    if data is None:
        raise DefinitionError(problems or [Problem(file, 1, 1, "the file is empty")])
    model = _document_model(data, source)
    try:
        definition = model.model_validate(data)
    except ValidationError as exc:
        problems += validation_problems(exc, source, model, data, lines)
        raise DefinitionError(_in_order(problems)) from None
    loaded: Loaded
    if isinstance(definition, Workflow):
        found = check_workflow(definition, source)
        problems += [p for p in found if p.severity == "error"]
        warnings = tuple(p for p in found if p.severity == "warning")
        loaded = LoadedWorkflow(definition, source, warnings)
    else:
        loaded = LoadedCalendar(definition, source)
    if problems:
        raise DefinitionError(_in_order(problems))
    return loaded


def _in_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.column))


def _document_model(data: object, source: Source) -> type[Workflow | CalendarDef]:
    if isinstance(data, dict) and "workflow" in data:
        return Workflow
    if isinstance(data, dict) and "calendar" in data:
        return CalendarDef
    first = next(iter(data), "") if isinstance(data, dict) else ""
    raise DefinitionError(
        [
            source.problem(
                (),
                "a definition is a mapping that starts with 'workflow:' or 'calendar:'",
                did_you_mean(str(first), ["workflow", "calendar"]),
            )
        ]
    )


def load_file(path: str | os.PathLike[str]) -> Loaded:
    """Load one YAML file (a workflow or a calendar).

    Only a regular file (or a link to one) is read, and at most
    ``MAX_FILE_BYTES`` of it: a FIFO would block for ever and a device such
    as ``/dev/zero`` never ends, so they are refused without reading.

    Raises:
        DefinitionError: the file cannot be read or is invalid.
    """
    name = os.fspath(path)
    return load_text(_read(name), name)


def _read(name: str) -> str:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (no effect
        # on regular files). The type is checked on the open descriptor, so
        # the path cannot be swapped for something else in between.
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DefinitionError([Problem(name, 0, 0, f"cannot read: {exc}")]) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise DefinitionError(
                [Problem(name, 0, 0, f"not a regular file ({_kind(mode)}): not read")]
            )
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:  # even a regular file may grow or lie
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise DefinitionError(
                [Problem(name, 1, 1, f"the file is larger than {MAX_FILE_BYTES} bytes")]
            )
        return b"".join(chunks).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(name, 0, 0, f"cannot read: {exc}")]) from exc
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((what for test, what in kinds if test(mode)), "not a file")


def yaml_files(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The YAML files named, or found (recursively, sorted) in named directories.

    Anything with a YAML name that is not a directory is listed, whatever it
    is (a FIFO, a link to a device, a broken link), so that loading it
    reports why it cannot be read instead of skipping it in silence.
    """
    files: list[str] = []
    for p in paths:
        fp = FsPath(p)
        if fp.is_dir():
            files += sorted(
                str(f)
                for f in fp.rglob("*")
                if f.suffix in YAML_SUFFIXES and not f.is_dir()
            )
        else:
            files.append(str(fp))
    return files


def load_paths(
    paths: Iterable[str | os.PathLike[str]], *, strict: bool = False
) -> DefinitionSet:
    """Load every YAML file in the given files and directories.

    Args:
        paths: files and directories (searched recursively).
        strict: treat warnings (states a case may wait in for ever or without
            an owner) as problems too.

    Raises:
        DefinitionError: with every problem of every file.
    """
    problems: list[Problem] = []
    workflows: list[LoadedWorkflow] = []
    calendars: list[LoadedCalendar] = []
    for name in yaml_files(paths):
        try:
            loaded = load_file(name)
        except DefinitionError as exc:
            problems += exc.problems
            continue
        if isinstance(loaded, LoadedWorkflow):
            workflows.append(loaded)
        else:
            calendars.append(loaded)
    result = DefinitionSet(tuple(workflows), tuple(calendars))
    problems += check_set(result)
    if strict:
        problems += result.warnings
    if problems:
        raise DefinitionError(problems)
    return result
