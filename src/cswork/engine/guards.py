"""The checks a step must pass: data given with it, and its conditions.

Everything here is compiled once per workflow version into plain closures, so
the hot path does no parsing and no pydantic validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cswork.definition.conditions import (
    NOW,
    AllOf,
    AnyOf,
    Check,
    Compare,
    Condition,
    Not,
    reference,
    render,
)
from cswork.definition.model import DataField
from cswork.engine.hooks import CaseView, ConditionFn
from cswork.errors import InvalidArgumentError, InvalidDataError
from cswork.records import Actor, Scalar

#: Checks one value; returns the normalised value or raises ValueError.
Validator = Callable[[Any], Scalar]
#: Evaluates a condition on (data, counters, view factory).
Predicate = Callable[[Mapping[str, Scalar], Mapping[str, int], "ViewFn"], bool]
ViewFn = Callable[[], CaseView]


def _text(spec: DataField) -> Validator:
    limit = spec.max_length

    def check(value: Any) -> Scalar:
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {type(value).__name__}")
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        if "\x00" in value:
            raise ValueError("contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("is not valid Unicode text (lone surrogate)") from None
        return value

    return check


def _enum(spec: DataField) -> Validator:
    allowed = frozenset(spec.values or ())
    listing = ", ".join(spec.values or ())

    def check(value: Any) -> Scalar:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"{value!r} is not one of {listing}")
        return value

    return check


def _number(spec: DataField) -> Validator:
    whole = spec.type == "integer"
    lo, hi = spec.min, spec.max

    def check(value: Any) -> Scalar:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {type(value).__name__}")
        if whole and not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"{value!r} is outside {lo}..{hi}")
        if whole and abs(value) > 2**63 - 1:
            raise ValueError("too large")
        return value if whole else float(value)

    return check


def _boolean(spec: DataField) -> Validator:
    def check(value: Any) -> Scalar:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value

    return check


#: Datetimes case data may hold: far enough from datetime's limits that
#: deadline arithmetic on them never overflows.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def to_utc_text(value: Any) -> str:
    """Normalise an aware datetime (or ISO 8601 text with an offset) to UTC text.

    Raises:
        ValueError: not a datetime, no timezone, or outside the years
            1900–8999.
    """
    if isinstance(value, str):
        if len(value) > 64:
            raise ValueError("not an ISO 8601 datetime")
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 datetime") from None
    if not isinstance(value, datetime):
        raise ValueError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no timezone")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"{value.isoformat()} is outside the years 1900–8999")
    return utc.isoformat()


def _datetime(spec: DataField) -> Validator:
    return to_utc_text


_MAKERS: dict[str, Callable[[DataField], Validator]] = {
    "string": _text,
    "enum": _enum,
    "integer": _number,
    "number": _number,
    "boolean": _boolean,
    "datetime": _datetime,
}


def validator_for(spec: DataField) -> Validator:
    """The validator of one declared field."""
    return _MAKERS[spec.type](spec)


def validate_payload(
    payload: Mapping[str, Any],
    validators: Mapping[str, Validator],
    requires: tuple[str, ...],
    allowed: frozenset[str],
) -> tuple[dict[str, Scalar], dict[str, str]]:
    """Check the data given with a step.

    Returns:
        The normalised data and a field → error mapping (empty when valid).
    """
    clean: dict[str, Scalar] = {}
    errors: dict[str, str] = {}
    for key, value in payload.items():
        if key not in allowed:
            # Keys come from untrusted callers: they may not even be strings.
            name = key if isinstance(key, str) else repr(key)  # type: ignore[redundant-expr]
            errors[name[:100]] = "not accepted by this step"
            continue
        if value is None:
            clean[key] = None
            continue
        try:
            clean[key] = validators[key](value)
        except ValueError as exc:
            errors[key] = str(exc)
    for key in requires:
        if clean.get(key) is None and key not in errors:
            errors[key] = "required"
    return clean, errors


# -------------------------------------------------------------- conditions
def _value(name: str) -> Callable[[Mapping[str, Scalar], Mapping[str, int]], Any]:
    def get(data: Mapping[str, Scalar], counters: Mapping[str, int]) -> Any:
        if name in counters:
            return counters[name]
        return data.get(name)

    return get


def _ordered(op: str, right: Any) -> Callable[[Any], bool]:
    def test(left: Any) -> bool:
        if left is None or isinstance(left, bool) != isinstance(right, bool):
            return False
        try:
            if op == ">":
                return bool(left > right)
            if op == ">=":
                return bool(left >= right)
            if op == "<":
                return bool(left < right)
            return bool(left <= right)
        except TypeError:
            return False

    return test


def _test(cmp: Compare, is_datetime: bool) -> Callable[[Any], bool]:
    op, right = cmp.op, cmp.value
    if is_datetime and isinstance(right, str):
        right = to_utc_text(right)
    if is_datetime and isinstance(right, list):  # stored datetimes are UTC text
        right = [to_utc_text(v) if isinstance(v, str) else v for v in right]
    if op == "==":
        return lambda left: bool(left == right)
    if op == "!=":
        return lambda left: bool(left != right)
    if op == "in":
        options = list(right) if isinstance(right, list) else [right]
        return lambda left: left in options
    if op == "not in":
        options = list(right) if isinstance(right, list) else [right]
        return lambda left: left not in options
    if op == "is set":
        return lambda left: left is not None
    if op == "is not set":
        return lambda left: left is None
    if is_datetime:
        # ISO texts in UTC with the same layout compare in time order; parse to
        # be safe with fractions of seconds.
        order = _ordered(op, datetime.fromisoformat(str(right)))
        return lambda left: left is not None and order(datetime.fromisoformat(left))
    return _ordered(op, right)


def _between(
    cmp: Compare, ref: str, is_datetime: bool
) -> Callable[[Mapping[str, Scalar], Mapping[str, int], ViewFn], bool]:
    """A comparison of two values of the case, or of a datetime with now."""
    left = _value(cmp.field)
    right = _value(ref)
    op = cmp.op

    def test(
        data: Mapping[str, Scalar], counters: Mapping[str, int], view: ViewFn
    ) -> bool:
        a = left(data, counters)
        if ref == NOW:
            b: Any = view().now
        else:
            b = right(data, counters)
        if a is None or b is None:
            return False  # an unset value compares with nothing
        if is_datetime:
            a = datetime.fromisoformat(a)
            b = b if isinstance(b, datetime) else datetime.fromisoformat(b)
        if op == "==":
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        return _ordered(op, b)(a)

    return test


def compile_condition(
    cond: Condition,
    fields: Mapping[str, DataField],
    registered: Mapping[str, ConditionFn],
    counters: Collection[str] = (),
) -> Predicate:
    """Turn a condition into a predicate over (data, counters, view).

    ``counters`` are the workflow's counter names: a comparison's right side
    may name one (or another field, or ``now``) instead of a literal.
    """
    if isinstance(cond, Compare):
        spec = fields.get(cond.field)
        is_datetime = spec is not None and spec.type == "datetime"
        kinds = {n: f.type for n, f in fields.items()} | dict.fromkeys(
            counters, "counter"
        )
        ref = reference(cond, kinds)
        if ref is not None:
            return _between(cond, ref, is_datetime)
        get = _value(cond.field)
        test = _test(cond, is_datetime)
        return lambda data, counters, view: test(get(data, counters))
    if isinstance(cond, Check):
        fn = registered[cond.check]
        return lambda data, counters, view: bool(fn(view()))
    if isinstance(cond, Not):
        inner = compile_condition(cond.not_, fields, registered, counters)
        return lambda data, counters, view: not inner(data, counters, view)
    parts = [
        compile_condition(c, fields, registered, counters)
        for c in (cond.all if isinstance(cond, AllOf) else cond.any)
    ]
    if isinstance(cond, AnyOf):
        return lambda data, counters, view: any(p(data, counters, view) for p in parts)
    return lambda data, counters, view: all(p(data, counters, view) for p in parts)


def _shown(value: Any) -> str:
    """A value as the YAML would write it (``true``, not Python's ``True``)."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def explain_condition(
    cond: Condition,
    data: Mapping[str, Scalar],
    counters: Mapping[str, int],
    view: ViewFn,
    fields: Mapping[str, DataField],
    registered: Mapping[str, ConditionFn],
) -> list[str]:
    """Why ``cond`` is false: the failing clauses, each with the value it saw.

    Returns an empty list when the condition holds. Only called on the
    refusal path; it interprets the condition rather than compiling it.
    """
    if isinstance(cond, Compare):
        if compile_condition(cond, fields, registered, counters)(data, counters, view):
            return []
        seen = counters[cond.field] if cond.field in counters else data.get(cond.field)
        shown = _shown(seen)
        kinds = {n: f.type for n, f in fields.items()} | dict.fromkeys(
            counters, "counter"
        )
        ref = reference(cond, kinds)
        if ref is None:
            return [f"{render(cond)} ({cond.field} is {shown})"]
        other: Any = view().now.isoformat() if ref == NOW else (
            counters[ref] if ref in counters else data.get(ref)
        )  # fmt: skip
        other_shown = _shown(other)
        return [f"{render(cond)} ({cond.field} is {shown}, {ref} is {other_shown})"]
    if isinstance(cond, Check):
        ok = bool(registered[cond.check](view()))
        return [] if ok else [f"{cond.check}() returned false"]
    if isinstance(cond, Not):
        inner = explain_condition(cond.not_, data, counters, view, fields, registered)
        return [f"{render(cond)} (its inner condition holds)"] if not inner else []
    parts = cond.all if isinstance(cond, AllOf) else cond.any
    reasons = [
        explain_condition(c, data, counters, view, fields, registered) for c in parts
    ]
    if isinstance(cond, AllOf):
        return [r for rs in reasons for r in rs]
    if all(reasons):
        return ["none of: " + "; ".join(r for rs in reasons for r in rs)]
    return []


# -------------------------------------------------------------- callers' input
def check_actor(actor: object) -> Actor:
    """The actor, checked.

    Raises:
        InvalidArgumentError: not an ``Actor``.
        InvalidDataError: its id or a role cannot be stored.
    """
    if not isinstance(actor, Actor):
        raise InvalidArgumentError(
            f"actor must be a cswork.Actor, not {type(actor).__name__}"
        )
    bad = _unusable_names(actor)
    if bad:
        raise InvalidDataError(
            f"actor {actor.id!r}: ids and roles are non-empty text of at most 200 "
            "characters, without NUL or lone surrogates",
            field_errors={"actor": f"invalid: {bad[0]!r:.60}"},
        )
    return actor


@lru_cache(maxsize=4096)  # the same actors come back step after step
def _unusable_names(actor: Actor) -> tuple[str, ...]:
    return tuple(x for x in (actor.id, *actor.roles) if not is_clean_id(x))


def is_clean_id(value: object) -> bool:
    """Is this usable as an id: non-empty text every backend can store?"""
    if not isinstance(value, str) or not 0 < len(value) <= 200 or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_name(what: str, value: object) -> str:
    """A workflow id, event or state name given by a caller, checked to be text.

    Raises:
        InvalidArgumentError: not text.
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be text, not {type(value).__name__}")
    return value


def check_data(data: object) -> Mapping[str, Any]:
    """A step's data, checked to be a mapping (None is no data)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidDataError(
            f"the data of a step is a mapping of field names to values, not "
            f"{type(data).__name__}",
            field_errors={"": f"expected a mapping, got {type(data).__name__}"},
        )
    return data
