"""Whether a value written in a definition fits the field it is meant for.

A ``set:`` action stores its values without the checks a step's data goes
through, and a condition compares a field with a literal once it is compiled.
So each literal is checked here, at load time, by the same rules as the
engine's field validators (``engine/guards.py``): what the engine would
refuse at run time, or could never match, is a problem in the file.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from cswork.definition.conditions import Compare
from cswork.definition.model import DataField

MAX_INTEGER = 2**63 - 1  # what every store keeps exactly
YAML11_BOOLEANS = frozenset(
    {"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO"}
)


def literal_error(spec: DataField, value: object) -> str:
    """Why ``value`` cannot be stored in a field like ``spec``, or ""."""
    if value is None:
        return ""
    t = spec.type
    if t in ("string", "enum", "datetime") and not isinstance(value, str):
        return f"expected a {t} (text), got {type(value).__name__}"
    if t == "string" and isinstance(value, str):
        if len(value) > spec.max_length:
            return f"longer than the field's {spec.max_length} characters"
        if "\x00" in value:
            return "contains a NUL character"
    if t == "enum" and value not in (spec.values or []):
        return f"{value!r} is not one of {', '.join(spec.values or [])}"
    if t == "datetime":
        return datetime_error(value)
    if t == "boolean" and not isinstance(value, bool):
        return f"expected true or false, got {value!r}"
    if t in ("integer", "number"):
        return _number_error(spec, value)
    return ""


def _number_error(spec: DataField, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {value!r}"
    if spec.type == "integer" and isinstance(value, float):
        return f"expected a whole number, got {value!r}"
    if not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if (spec.min is not None and value < spec.min) or (
        spec.max is not None and value > spec.max
    ):
        return f"{value!r} is outside {spec.min}..{spec.max}"
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        return f"{value!r} is too large to store"
    return ""


def datetime_error(value: object) -> str:
    """Why ``value`` is not an aware ISO 8601 datetime the engine can use, or ""."""
    if not isinstance(value, str) or len(value) > 64:
        return f"{value!r} is not an ISO 8601 datetime"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an ISO 8601 datetime"
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return f"{value!r} has no timezone offset"
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        return f"{value!r} is out of range once in UTC"
    return ""


def comparison_error(spec: DataField | None, cmp: Compare) -> tuple[str, str]:
    """(why a comparison of a field like ``spec`` can never work, a hint), or ("", "").

    ``spec`` is None for a counter (a whole number). Enum values are checked
    by the caller, which knows the names to suggest.
    """
    if cmp.op in ("is set", "is not set"):
        if cmp.value is not None:
            return f"{cmp.field} {cmp.op} takes no value", "remove its 'value'"
        return "", ""
    kind = "counter" if spec is None else spec.type
    values = cmp.value if isinstance(cmp.value, list) else [cmp.value]
    ordered = cmp.op in (">", ">=", "<", "<=")
    for v in values:
        if v is None and not ordered:
            continue
        why = _mismatch(kind, v, ordered=ordered)
        if why:
            hint = ""
            if kind == "boolean" and v in YAML11_BOOLEANS:
                hint = "write true or false: yes/no/on/off are text in YAML 1.2"
            return f"{cmp.field!r} is a {kind} field: {why}", hint
    return "", ""


def _mismatch(kind: str, v: object, *, ordered: bool) -> str:
    number = isinstance(v, int | float) and not isinstance(v, bool)
    if kind == "datetime":
        err = datetime_error(v)
        return f"{err}, so it compares with nothing" if err else ""
    if kind in ("integer", "number", "counter") and not number:
        return f"{v!r} is not a number, so it never matches"
    if kind == "boolean" and not isinstance(v, bool):
        return f"{v!r} is not true or false, so it never matches"
    if kind in ("string", "enum") and not isinstance(v, str):
        return f"{v!r} is not text, so it never matches"
    return ""
