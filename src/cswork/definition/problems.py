"""Pydantic's validation errors as problems a process owner can act on.

Each error becomes a ``Problem`` at the position of the value (or the key)
it is about, with pydantic's message and a hint: "did you mean", a refusal's
own hint, or one of the hints for common YAML slips (``slips.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from cswork.definition import model as m
from cswork.definition import slips
from cswork.definition.expressions import NAME_PATTERN
from cswork.definition.literals import YAML11_BOOLEANS
from cswork.definition.source import Source
from cswork.durations import DURATION_PATTERN
from cswork.errors import Problem
from cswork.hints import Refusal, did_you_mean, short

Loc = tuple[str | int, ...]
#: How many unknown keys get a "did you mean" (each compares with every key).
HINTED_KEYS = 200


@dataclass
class _Doc:
    """The document being explained, and what is worked out once for it."""

    data: Any
    lines: Sequence[str]
    # id(mapping) → its keys in order and each key's position: once per
    # mapping, as a mapping of thousands of entries may have an error at each.
    orders: dict[int, tuple[list[str], dict[str, int]]] = field(default_factory=dict)
    hints_left: int = HINTED_KEYS


# Where each model's keys belong, in words, for "check its indentation".
_PLACES: dict[type[BaseModel], str] = {
    m.Workflow: "the workflow's top level",
    m.CalendarDef: "the calendar's top level",
    m.DataField: "a field",
    m.State: "a state",
    m.Start: "'start'",
    m.Transition: "a transition",
    m.Deadline: "a deadline",
    m.Warn: "a deadline's 'warn'",
    m.Notify: "an action",
    m.SetData: "an action",
    m.Increment: "an action",
    m.Call: "an action",
    m.Fire: "an action",
    m.StartCase: "an action",
}


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _models_in(arg)
    for meta in getattr(annotation, "__metadata__", ()) or ():
        yield from _models_in(meta)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        yield from _models_in(origin)


def _keys(root: type[BaseModel]) -> dict[str, set[type[BaseModel]]]:
    """Every key in documents of ``root`` → the models that have it."""
    owners: dict[str, set[type[BaseModel]]] = {}
    todo, seen = [root], set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            owners.setdefault(info.alias or name, set()).add(model)
            todo.extend(_models_in(info.annotation))
    return owners


_KNOWN_KEYS = {m.Workflow: _keys(m.Workflow), m.CalendarDef: _keys(m.CalendarDef)}


def validation_problems(
    exc: ValidationError,
    source: Source,
    model: type[BaseModel],
    data: Any,
    lines: Sequence[str],
) -> list[Problem]:
    """One problem per validation error, each with its position and a hint."""
    problems = []
    doc = _Doc(data, lines)
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(p for p in err["loc"] if p != "[key]")
        at_key = len(loc) < len(err["loc"])
        kind = err["type"]
        msg = err["msg"].replace("Value error, ", "")
        where = ".".join(str(p) for p in loc if not str(p).startswith("function-"))
        hint = ""
        if kind == "extra_forbidden":
            msg, at_key = f"unknown key {str(loc[-1])!r}", True
            hint = _unknown_key_hint(str(loc[-1]), source, model, doc, loc)
        elif kind == "missing":
            msg = f"missing required key {str(loc[-1])!r}"
            where = ".".join(str(p) for p in loc[:-1]) or "document"
        else:
            hint = _hint(err, kind, loc) or _comma_hint(source, doc, loc)
        problems.append(source.problem(loc, f"{where}: {msg}", short(hint), key=at_key))
    return problems


def _hint(err: Any, kind: str, loc: Loc) -> str:
    value = err.get("input")
    ctx = err.get("ctx", {})
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    if isinstance(ctx.get("error"), Refusal):
        return str(ctx["error"].hint)
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
        return did_you_mean(str(value), choices)
    if kind == "bool_type" and value in YAML11_BOOLEANS:
        return slips.TRUE_FALSE
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return slips.shape_hint(name, "mapping", value)
    if kind == "list_type":
        return slips.shape_hint(name, "list", value)
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        return slips.name_hint(value)
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == DURATION_PATTERN:
        return slips.duration_hint(value)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{name!r} is a whole number, written without quotes or decimals"
    return ""


def _unknown_key_hint(
    name: str, source: Source, model: type[BaseModel], doc: _Doc, loc: Loc
) -> str:
    comma = _comma_hint(source, doc, loc)
    if comma:
        return comma
    owners = _KNOWN_KEYS[model].get(name)
    if owners:
        # A real key, in the wrong place: most often a wrong indentation.
        places = sorted({_PLACES.get(o, o.__name__) for o in owners})
        return f"{name!r} belongs in {' or '.join(places)}: check its indentation"
    doc.hints_left -= 1
    if doc.hints_left < 0:
        return ""  # thousands of unknown keys: the first ones say enough
    return did_you_mean(name, _KNOWN_KEYS[model])


def _comma_hint(source: Source, doc: _Doc, loc: Loc) -> str:
    found = _container(doc.data, loc)
    if found is None or found[0].get(found[1], "") is not None:
        return ""
    mapping, key = found
    if id(mapping) not in doc.orders:
        names = list(mapping)
        doc.orders[id(mapping)] = (names, {n: i for i, n in enumerate(names)})
    names, index = doc.orders[id(mapping)]
    line, column = source.mark(loc, key=True)
    return slips.comma_hint(doc.lines, mapping, key, (line, column), names, index[key])


def _container(data: Any, loc: Loc) -> tuple[dict[str, Any], str] | None:
    """The mapping holding the last key of ``loc`` that exists in ``data``.

    ``loc`` also holds pydantic's own steps (union members, validators):
    those that name nothing in the data are skipped.
    """
    found = None
    here = data
    for part in loc:
        if isinstance(here, dict) and part in here:
            found = (here, str(part))
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and part < len(here):
            here = here[part]
    return found
