"""Conditions: data, never code.

A condition is either a mapping::

    {field: severity, op: "==", value: urgent}
    {all: [...]} / {any: [...]} / {not: ...}
    {check: is_vip_customer}        # a function the embedding program registers

or the same thing written as one expression string, which
``expressions.py`` parses (no ``eval``) into exactly that mapping::

    severity == urgent and reopen_count >= 2
    channel in [email, chat] or not drill
    appointment_at is set
    is_vip_customer()

The left of a comparison is always a field or counter name; the right is a
literal: a number, ``true``/``false``/``null``, a quoted string, or a bare
word (read as a string) — except where the left is a datetime, a number or a
counter: there a bare word names another field or counter, or ``now`` (the
time of the step), so that ``delivered_at <= promised_at`` and
``promised_at > now`` compare the case's own values. (The mapping form says
so explicitly: ``{field: delivered_at, op: "<=", value_field: promised_at}``.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from cswork.definition.expressions import (
    COMPARISON_OPS,
    MAX_DEPTH,
    NAME_PATTERN,
    ConditionSyntaxError,
    Literal_,
    parse_condition,
)

__all__ = [
    "COMPARISON_OPS",
    "MAX_DEPTH",
    "NAME_PATTERN",
    "NOW",
    "REFERABLE",
    "AllOf",
    "AnyOf",
    "Check",
    "Compare",
    "Condition",
    "ConditionSyntaxError",
    "Literal_",
    "Name",
    "Not",
    "checks_of",
    "coerce_condition",
    "fields_of",
    "finite",
    "nesting",
    "parse_condition",
    "reference",
    "render",
    "satisfying_values",
]

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
#: A number as a definition may write it: finite (``.inf`` and ``.nan`` compare
#: oddly and are not JSON, so a stored definition could not be read back).
FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def finite(value: Any) -> Any:
    """Pydantic before-validator: refuse ``.inf`` and ``.nan``, alone or in a list.

    (One check before the union, rather than a finite float inside it: a
    union reports one error per member it tried.)
    """
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{v} is not a finite number")
    return value


Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not in", "is set", "is not set"]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Compare(_Node):
    """Compare a field (or counter) of the case with a literal or another value."""

    field: Name = Field(description="The field or counter on the left.")
    op: Op = Field(description="The comparison.")
    value: Annotated[Literal_ | list[Literal_], BeforeValidator(finite)] = Field(
        default=None, description="The literal on the right (a list for in)."
    )
    value_field: Name | None = Field(
        default=None,
        description="Compare with this field or counter of the case instead, or "
        "with 'now' (the time of the step).",
    )

    @model_validator(mode="after")
    def _one_right(self) -> Compare:
        if self.value_field is not None and self.value is not None:
            raise ValueError("a comparison has a 'value' or a 'value_field', not both")
        return self


#: What the right of a comparison may name: another field or counter, or now.
NOW = "now"
#: Field types whose comparisons read a bare word as a reference.
REFERABLE = frozenset({"datetime", "integer", "number", "counter"})


def reference(cmp: Compare, kinds: Mapping[str, str]) -> str | None:
    """The field, counter or ``now`` the right of ``cmp`` names, or None (a literal).

    Args:
        cmp: the comparison.
        kinds: field and counter names → their type (``counter`` for counters).
    """
    if cmp.value_field is not None:
        return cmp.value_field
    value = cmp.value
    if (
        isinstance(value, str)
        and cmp.op in ("==", "!=", ">", ">=", "<", "<=")
        and kinds.get(cmp.field) in REFERABLE
        and (value == NOW or value in kinds)
    ):
        return value
    return None


class AllOf(_Node):
    """True when every condition holds."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(_Node):
    """True when at least one condition holds."""

    any: list[Condition] = Field(min_length=1)


class Not(_Node):
    """True when the condition does not hold."""

    not_: Condition = Field(alias="not")


class Check(_Node):
    """Calls a named function registered by the embedding program."""

    check: Name = Field(description="Name of a registered condition function.")


def _tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not", "check", "field"):
            if key in value:
                return "compare" if key == "field" else key
        return None
    return _TAGS.get(type(value))


_TAGS: dict[type, str] = {
    Compare: "compare",
    AllOf: "all",
    AnyOf: "any",
    Not: "not",
    Check: "check",
}

Condition: TypeAlias = Annotated[
    Annotated[Compare, Tag("compare")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Check, Tag("check")],
    Discriminator(
        _tag,
        custom_error_type="condition",
        custom_error_message=(
            "a condition is an expression such as 'severity == urgent', or a "
            "mapping with 'field'/'op'/'value', 'all', 'any', 'not' or 'check'"
        ),
    ),
]

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def coerce_condition(value: Any) -> Any:
    """Pydantic before-validator: strings are parsed, mappings checked for depth.

    Raises:
        ValueError: the text is not a valid expression, or either form nests
            more than ``MAX_DEPTH`` levels.
    """
    if isinstance(value, str):
        return parse_condition(value)
    if nesting(value) > MAX_DEPTH:
        raise ValueError(
            f"a condition may nest at most {MAX_DEPTH} levels of all/any/not"
        )
    return value


def nesting(value: Any) -> int:
    """How many levels of all/any/not a condition (mapping or model) has.

    Iterative, and it stops counting one level past ``MAX_DEPTH``, so neither
    a very deep nor a self-referencing structure can exhaust the stack.
    """
    deepest = 0
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        for child in _children(node):
            todo.append((child, depth + 1))
    return deepest


def _children(node: Any) -> list[Any]:
    if isinstance(node, AllOf):
        return list(node.all)
    if isinstance(node, AnyOf):
        return list(node.any)
    if isinstance(node, Not):
        return [node.not_]
    if not isinstance(node, dict):
        return []
    children: list[Any] = []
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            children += node[key]
    if "not" in node:
        children.append(node["not"])
    return children


# ---------------------------------------------------------------- rendering
def render(cond: Condition) -> str:
    """Render a condition back as an expression string (one canonical form)."""
    if isinstance(cond, Compare):
        if cond.op in ("is set", "is not set"):
            return f"{cond.field} {cond.op}"
        if cond.value_field is not None:
            return f"{cond.field} {cond.op} {cond.value_field}"
        return f"{cond.field} {cond.op} {_lit(cond.value)}"
    if isinstance(cond, Check):
        return f"{cond.check}()"
    if isinstance(cond, Not):
        return f"not {_wrap(cond.not_)}"
    if isinstance(cond, AllOf):
        return " and ".join(_wrap(c) for c in cond.all)
    return " or ".join(_wrap(c) for c in cond.any)


def _wrap(cond: Condition) -> str:
    text = render(cond)
    return f"({text})" if isinstance(cond, AllOf | AnyOf) else text


def _lit(value: Literal_ | list[Literal_]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", value)
        return value if bare and value not in _RESERVED else repr(value)
    return repr(value)


_RESERVED = {"and", "or", "not", "in", "is", "true", "false", "null", "set"}


def satisfying_values(cond: Condition | None) -> dict[str, list[Any]]:
    """Values that would make simple comparisons in ``cond`` true, per field.

    Used by generators of test data and simulated traffic: ``field == v``
    suggests ``v``, ``field in [a, b]`` suggests ``a`` and ``b``, and
    ``field is set`` suggests giving the field at all (an empty list).
    """
    out: dict[str, list[Any]] = {}
    if isinstance(cond, AllOf | AnyOf):
        for part in cond.all if isinstance(cond, AllOf) else cond.any:
            for name, values in satisfying_values(part).items():
                out.setdefault(name, []).extend(values)
    elif isinstance(cond, Compare):
        if cond.op == "==":
            out[cond.field] = [cond.value]
        elif cond.op == "in" and isinstance(cond.value, list):
            out[cond.field] = list(cond.value)
        elif cond.op == "is set":
            out[cond.field] = []
    return out


def fields_of(cond: Condition) -> Iterator[Compare]:
    """Every comparison in a condition (to check the names it uses)."""
    if isinstance(cond, Compare):
        yield cond
    elif isinstance(cond, Not):
        yield from fields_of(cond.not_)
    elif isinstance(cond, AllOf | AnyOf):
        for c in cond.all if isinstance(cond, AllOf) else cond.any:
            yield from fields_of(c)


def checks_of(cond: Condition) -> Iterator[str]:
    """Every registered-function name a condition calls."""
    if isinstance(cond, Check):
        yield cond.check
    elif isinstance(cond, Not):
        yield from checks_of(cond.not_)
    elif isinstance(cond, AllOf | AnyOf):
        for c in cond.all if isinstance(cond, AllOf) else cond.any:
            yield from checks_of(c)
