"""Load workflow and calendar files into validated models, or say precisely why not.

Every problem carries ``file:line:column``; all problems of a file (and of a
directory) are collected and raised together as one ``DefinitionError``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path as FsPath
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from cswork.definition._yaml import read_yaml
from cswork.definition.checks import check_set, check_workflow
from cswork.definition.model import CalendarDef, Workflow
from cswork.definition.source import (
    DefinitionSet,
    Loaded,
    LoadedCalendar,
    LoadedWorkflow,
    Source,
    did_you_mean,
)
from cswork.errors import DefinitionError, Problem

MAX_FILE_BYTES = 1_000_000
YAML_SUFFIXES = (".yaml", ".yml")


def _all_keys(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys.add(info.alias or name)
        for sub in _models_in(info.annotation):
            keys |= _all_keys(sub, seen)
    return keys


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    # typing's public introspection: for Annotated[T, m, ...] get_args gives
    # (T, m, ...), so the metadata (discriminated-union tags) is searched too
    for arg in get_args(annotation):
        yield from _models_in(arg)
    origin = get_origin(annotation)
    if origin is not None and origin is not annotation:
        yield from _models_in(origin)


_KNOWN_KEYS = {
    Workflow: _all_keys(Workflow, set()),
    CalendarDef: _all_keys(CalendarDef, set()),
}


def _validation_problems(
    exc: ValidationError, source: Source, model: type[BaseModel]
) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        kind = err["type"]
        msg = err["msg"].replace("Value error, ", "")
        where = ".".join(str(p) for p in loc if not str(p).startswith("function-"))
        hint = ""
        if kind == "extra_forbidden":
            name = str(loc[-1])
            msg = f"unknown key {name!r}"
            hint = did_you_mean(name, _KNOWN_KEYS[model])
            problems.append(source.problem(loc, f"{where}: {msg}", hint, key=True))
            continue
        if kind == "missing":
            msg = f"missing required key {str(loc[-1])!r}"
            where = ".".join(str(p) for p in loc[:-1]) or "document"
        elif kind in ("literal_error", "enum"):
            expected = str(err.get("ctx", {}).get("expected", ""))
            choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
            hint = did_you_mean(str(err.get("input")), choices)
        problems.append(source.problem(loc, f"{where}: {msg}", hint))
    return problems


def load_text(text: str, file: str = "<string>") -> Loaded:
    """Load one workflow or calendar document from text.

    Raises:
        DefinitionError: with every problem found in the text.
    """
    data, positions, yaml_problems = read_yaml(text)
    source = Source(file, positions)
    problems = [
        Problem(file, p.line + 1, p.column + 1, p.message, p.hint)
        for p in yaml_problems
    ]
    if data is None:
        raise DefinitionError(problems or [Problem(file, 1, 1, "the file is empty")])
    model = _document_model(data, source)
    try:
        definition = model.model_validate(data)
    except ValidationError as exc:
        problems += _validation_problems(exc, source, model)
        raise DefinitionError(_in_order(problems)) from None
    loaded: Loaded
    if isinstance(definition, Workflow):
        loaded = LoadedWorkflow(definition, source)
        problems += check_workflow(definition, source)
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

    Raises:
        DefinitionError: the file cannot be read or is invalid.
    """
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
        if size > MAX_FILE_BYTES:
            raise DefinitionError(
                [Problem(name, 1, 1, f"the file is larger than {MAX_FILE_BYTES} bytes")]
            )
        with open(name, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(name, 0, 0, f"cannot read: {exc}")]) from exc
    return load_text(text, name)


def yaml_files(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The YAML files named, or found (recursively, sorted) in named directories."""
    files: list[str] = []
    for p in paths:
        fp = FsPath(p)
        if fp.is_dir():
            files += sorted(
                str(f)
                for f in fp.rglob("*")
                if f.suffix in YAML_SUFFIXES and f.is_file()
            )
        else:
            files.append(str(fp))
    return files


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> DefinitionSet:
    """Load every YAML file in the given files and directories.

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
    if problems:
        raise DefinitionError(problems)
    return result
