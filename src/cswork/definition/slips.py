"""Hints for the slips people make when they write YAML by hand.

A process owner who leaves a comma in unquoted text, indents with a tab or
forgets the space after a colon gets an error from the YAML parser, or from
the model about something that only looks unrelated. Each function here
looks at one such problem and at the text around it, and returns a hint that
says how to fix the file, or "" when it recognises nothing.

Only the text and the problem's position are used: no guess changes what
was loaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cswork.definition.expressions import NAME_PATTERN

_KEY_NO_SPACE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*):(\S.*)$")
_KEY_VALUE = re.compile(r"^(\s*)(?:-\s+)?([^\s:#][^:#]*?):(?:\s+(.*))?$")
_QUOTE_FIRST = {
    "@": "'@'",
    "`": "a backtick",
    "%": "'%'",
    "*": "'*' (YAML reads it as an alias)",
    "&": "'&' (YAML reads it as an anchor)",
    "!": "'!' (YAML reads it as a tag)",
    "|": "'|'",
    ">": "'>'",
}
_UNITS = {
    "d": "d",
    "day": "d",
    "days": "d",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "m": "m",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
}
TRUE_FALSE = "write true or false: yes/no/on/off are text in YAML 1.2"


def _line(lines: Sequence[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def _quoted(key: str, text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    if len(escaped) > 60:
        escaped = escaped[:57] + "..."  # a hint, not a copy of a long line
    return f'{key[:40]}: "{escaped}"'


# ------------------------------------------------------------ YAML syntax
def syntax_hint(lines: Sequence[str], line: int, column: int, message: str) -> str:
    """A hint for a YAML syntax problem at 0-based ``line``/``column``, or ""."""
    if message.startswith("aliases"):
        return ""  # a well-formed alias is meant as one: nothing to suggest
    here, before = _line(lines, line), _line(lines, line - 1)
    for text, number in ((here, line), (before, line - 1)):
        if "\t" in text[: len(text) - len(text.lstrip())] or (
            text is here and "\t" in text[column : column + 1]
        ):
            return (
                f"YAML indents with spaces, not tabs: replace the tab on line "
                f"{number + 1} with spaces"
            )
        if "\uff1a" in text:
            return "use the ASCII colon ':' followed by a space, not '\uff1a'"
    if "mapping values are not allowed" in message:
        return _colon_in_value(lines, line, column)
    if "expected '-' indicator" in message and re.match(r"^\s*-\S", here):
        return "put a space after the '-' of a list item: '- item'"
    mixed = _list_and_mapping(lines, line, message)
    if mixed:
        return mixed
    for text in (here, before):
        m = _KEY_NO_SPACE.match(text)
        if m and not m.group(2).startswith(("/", ":")):
            return f"put a space after the colon: '{m.group(1)}: {m.group(2)}'"
    return quote_hint(here, column)


def _colon_in_value(lines: Sequence[str], line: int, column: int) -> str:
    here = _line(lines, line)
    m = _KEY_VALUE.match(here)
    if m is None:
        return ""
    indent, key, value = len(m.group(1)), m.group(2).strip(), m.group(3) or ""
    if here.index(":") < column and value:
        # A second ': ' on the line: the value itself has a colon in it.
        return f"quote text that contains ': ': {_quoted(key, value)}"
    above = _line(lines, line - 1)
    m_above = _KEY_VALUE.match(above)
    if m_above and len(m_above.group(1)) < indent and m_above.group(3):
        return (
            f"line {line + 1} is indented under {m_above.group(2).strip()!r}, which "
            f"already has a value: indent {key!r} like {m_above.group(2).strip()!r} "
            "(or quote the text if it belongs to that value)"
        )
    return ""


def _list_and_mapping(lines: Sequence[str], line: int, message: str) -> str:
    """A hint when '- ' items and other lines share one indentation."""
    if not any(
        m in message for m in ("expected '-' indicator", "expected key", "expected ':'")
    ):
        return ""
    while line > 0 and not _line(lines, line).strip():
        line -= 1  # the parser often stops on the line after the slip
    here = _line(lines, line)
    indent = len(here) - len(here.lstrip())
    item = here.lstrip().startswith("- ")
    for above in reversed(lines[max(0, line - 50) : line]):
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        level = len(above) - len(above.lstrip())
        if level < indent:
            break
        if level == indent and above.lstrip().startswith("- ") != item:
            return (
                f"line {line + 1} mixes '- ' items and 'key: value' lines at one "
                "indentation: a list has '- ' before every item, a mapping before none"
            )
    return ""


def quote_hint(text: str, column: int) -> str:
    """A hint when the value on ``text`` starts with a character YAML reserves."""
    m = _KEY_VALUE.match(text)
    if m is None or not m.group(3):
        return ""
    key, value = m.group(2).strip(), m.group(3)
    first = value[0]
    what = _QUOTE_FIRST.get(first)
    closing = {"[": "]", "{": "}"}.get(first)
    if closing and not value.rstrip().endswith(closing):
        # '[draft] call back': a list, then text YAML cannot place.
        what = f"'{first}' (YAML reads it as the start of a list or mapping)"
    if what is None:
        return ""
    return f"a value that starts with {what} must be quoted: {_quoted(key, value)}"


# ------------------------------------------------------- model validation
def comma_hint(
    lines: Sequence[str],
    mapping: dict[str, object],
    key: str,
    key_at: tuple[int, int],
    names: Sequence[str],
    index: int,
) -> str:
    """A hint when ``key`` is the tail of a text value cut at an unquoted comma.

    ``{type: string, description: as promised, to the customer}`` reads as a
    key ``to the customer`` with no value: the comma ended the description.
    ``names`` is ``list(mapping)`` and ``index`` the position of ``key`` in
    it (callers asking about many keys of one large mapping compute them once).
    """
    if key not in mapping or mapping[key] is not None:
        return ""
    # Only a few characters either side: the line may be a megabyte long.
    text, column = _line(lines, key_at[0]), key_at[1]
    before = text[max(0, column - 80) : column].rstrip()
    after = text[column + len(key) : column + len(key) + 80].lstrip()
    if not before.endswith(",") or after[:1] not in (",", "}", ""):
        return ""  # not a bare word between commas of a flow mapping
    i = index
    tail = [key]
    while i > 0 and mapping.get(names[i - 1]) is None and len(tail) < 20:
        i -= 1
        tail.insert(0, names[i])
    if i == 0 or not isinstance(mapping.get(names[i - 1]), str):
        return ""
    owner = names[i - 1]
    whole = ", ".join([str(mapping[owner]), *tail])
    return f"quote the text, or its comma ends it: {_quoted(owner, whole)}"


def name_hint(value: object) -> str:
    """A hint for a name that is not snake_case (``In-Progress``)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    fixed = re.sub(r"[^a-z0-9_]+", "_", value.strip().lower()).strip("_")
    if fixed and not fixed[0].isalpha():
        fixed = "n_" + fixed
    if not fixed or not re.match(NAME_PATTERN, fixed):
        return "names are lower-case letters, digits and '_', starting with a letter"
    return (
        "names are lower-case letters, digits and '_', starting with a letter: "
        f"write {fixed!r}"
    )


def duration_hint(value: object) -> str:
    """A hint for a duration such as ``4 hours`` or ``2 days``."""
    if not isinstance(value, str):
        return "a duration is text such as 30m, 4h, 1h30m or 2d"
    parts = re.findall(r"(\d+)\s*([A-Za-z]+)", value)
    units = [(n, _UNITS.get(u.lower())) for n, u in parts]
    if units and all(u for _, u in units):
        return f"write {''.join(f'{n}{u}' for n, u in units)!r}, without spaces"
    return "write e.g. 30m, 4h, 1h30m or 2d (d, h, m, s; no spaces)"


def shape_hint(name: str, expected: str, given: object) -> str:
    """A hint when a list was written for a mapping, or the other way round."""
    if expected == "mapping" and isinstance(given, list):
        return (
            f"{name!r} is a mapping ('key: value' lines): remove the '- ' in front "
            "of its items"
        )
    if expected == "list" and isinstance(given, dict):
        if name in ("requires", "optional") and any(
            isinstance(v, dict) for v in given.values()
        ):
            return (
                f"{name!r} lists field names, e.g. [{', '.join(given)}]; declare "
                "the fields themselves under 'fields:'"
            )
        hint = f"{name!r} is a list: start each item with '- '"
        if not any(isinstance(v, dict) for v in given.values()):
            hint += f", or write [{', '.join(str(k) for k in given)}]"
        return hint
    if expected == "mapping" and isinstance(given, str):
        m = re.match(r"^([A-Za-z_][\w-]*):(\S.*)$", given)
        if m:
            return f"put a space after the colon: '{m.group(1)}: {m.group(2)}'"
        if "\uff1a" in given:
            return "use the ASCII colon ':' followed by a space, not '\uff1a'"
    return ""
