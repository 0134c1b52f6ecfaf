"""Safe YAML reading that remembers where every key and value came from.

We do not use PyYAML's composer or constructor. We read the event stream
(libyaml's C parser when available) and build plain Python values with an
explicit stack, which lets us:

- follow YAML 1.2 for plain scalars (``on``/``no``/``yes``/``off`` are strings,
  ``1:30`` is a string, ``010`` is 10, dates stay strings);
- refuse what a definition never needs and an attacker loves: aliases (the
  "billion laughs"), tags other than the core ones (``!!python/object``),
  complex keys, deep nesting, several documents;
- report duplicate keys, which PyYAML silently lets the last one win;
- record the ``line:column`` of every value and key.

Positions here are 0-based; ``Problem`` objects are 1-based.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
Mark = tuple[int, int]

_Parser: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 64
MAX_EVENTS = 400_000
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels"

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True}
_BOOL.update({"false": False, "False": False, "FALSE": False})
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$")

_MAX_NUMBER = 100  # characters

_DISCARD = "\x00duplicate"  # the key under which a duplicate's value is dropped

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null")}
_ALLOWED_TAGS |= {f"{_CORE}map", f"{_CORE}seq", "!"}


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """A problem found while reading YAML (0-based position)."""

    line: int
    column: int
    message: str
    hint: str = ""


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document starts."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)


def resolve_plain(text: str) -> Any:
    """Type a plain (unquoted) scalar the YAML 1.2 core-schema way.

    Raises:
        ValueError: a decimal integer longer than Python converts
            (``sys.get_int_max_str_digits()``, 4,300 digits by default).
    """
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if len(text) > _MAX_NUMBER:
        # Python refuses to convert or print integers of over 4,300 digits,
        # and no definition needs a number this long: it stays text.
        return text
    if _INT.match(text):
        return int(text, 10)
    if _OCT.match(text) or _HEX.match(text):
        return int(text, 0)
    if _SPECIAL_FLOAT.match(text):
        value = math.nan if text[-1] in "nN" else math.inf
        return -value if text.startswith("-") else value
    if _FLOAT.match(text):
        return float(text)
    return text


class _Frame:
    __slots__ = ("container", "key", "key_mark", "path")

    def __init__(self, container: dict[str, Any] | list[Any], path: Path) -> None:
        self.container = container
        self.path = path
        self.key: str | None = None
        self.key_mark: Mark = (0, 0)


class _Reader:
    def __init__(self) -> None:
        self.positions = Positions()
        self.problems: list[YamlProblem] = []
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0

    def problem(self, mark: Any, message: str, hint: str = "") -> None:
        self.problems.append(YamlProblem(mark.line, mark.column, message, hint))

    def child_path(self) -> Path | None:
        """The path of the next value, or None when it is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            return (*top.path, len(top.container))
        return None if top.key is None else (*top.path, top.key)

    def add(self, value: Any, mark: Any) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.container, list):
            top.container.append(value)
        else:
            key = top.key
            assert key is not None  # noqa: S101 - add() is only called for values
            if key is not _DISCARD:
                top.container[key] = value
            top.key = None

    def take_key(self, event: Any) -> None:
        top = self.stack[-1]
        assert isinstance(top.container, dict)  # noqa: S101 - caller checked
        key = str(event.value)
        mark = (event.start_mark.line, event.start_mark.column)
        if key in top.container:
            first = self.positions.keys.get((*top.path, key), (0, 0))
            self.problem(
                event.start_mark,
                f"duplicate key {key!r}",
                f"first given at line {first[0] + 1}",
            )
            key = _DISCARD
        top.key, top.key_mark = key, mark
        self.positions.keys[(*top.path, key)] = mark

    def scalar(self, event: Any) -> None:
        if self.stack and self.child_path() is None:
            self.take_key(event)
            return
        path = self.child_path()
        assert path is not None  # noqa: S101 - None handled above
        self.positions.values[path] = (event.start_mark.line, event.start_mark.column)
        self.add(self.typed(event), event.start_mark)

    def typed(self, event: Any) -> Any:
        tag = event.tag
        if tag is not None and tag not in _ALLOWED_TAGS:
            self.problem(event.start_mark, f"the tag {tag!r} is not allowed")
            return None
        plain = event.implicit[0] and not event.style  # C parser: "", pure: None
        if (tag is None and not plain) or tag in ("!", f"{_CORE}str"):
            return event.value  # quoted, or tagged as text
        try:
            value = resolve_plain(event.value)
        except ValueError:  # Python's own limit on converting long integers
            self.problem(event.start_mark, "the number has too many digits")
            return None
        if tag is None:
            return value
        expected = tag.rsplit(":", 1)[-1]
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "null": value is None,
        }[expected]
        if not ok:
            self.problem(event.start_mark, f"{event.value!r} is not a valid {expected}")
        return float(value) if expected == "float" and ok else value

    def start_collection(
        self, event: Any, container: dict[str, Any] | list[Any]
    ) -> None:
        if event.tag is not None and event.tag not in _ALLOWED_TAGS:
            self.problem(event.start_mark, f"the tag {event.tag!r} is not allowed")
        if self.stack and self.child_path() is None:
            raise _Abort(event.start_mark, "a mapping key must be a plain value")
        path = self.child_path()
        assert path is not None  # noqa: S101 - keys handled above
        if len(self.stack) >= MAX_DEPTH:
            raise _Abort(event.start_mark, _TOO_DEEP)
        self.positions.values[path] = (event.start_mark.line, event.start_mark.column)
        self.add(container, event.start_mark)
        self.stack.append(_Frame(container, path))

    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.ScalarEvent):
            self.scalar(event)
        elif isinstance(event, yaml.MappingStartEvent):
            self.start_collection(event, {})
        elif isinstance(event, yaml.SequenceStartEvent):
            self.start_collection(event, [])
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self.stack.pop()
        elif isinstance(event, yaml.AliasEvent):
            raise _Abort(event.start_mark, "aliases (*name) are not allowed")
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Abort(event.start_mark, "only one YAML document per file")


class _Abort(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        self.mark = mark
        self.message = message


# PyYAML's C parser (the libyaml in PyYAML's wheels since 6.0.4; not 6.0.1-6.0.3)
# stops at 1,000 levels of nesting itself. Its scanner reads ahead of the
# events we check, so on a run of "[[[[…" it can stop before our 64-level check
# sees level 65 — and where it stops depends on the PyYAML release. Its limit is
# above ours, so what it refuses is too deep for us as well: one message,
# whichever layer noticed first. (Matching its wording is the only way to tell
# this error from a syntax error; should the wording change, the document is
# still refused, as "YAML syntax: …" with the same position.)
_PARSER_NESTING_LIMIT = re.compile(r"(?i)nesting (?:depth|level)|too deep")


def _parser_problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
    """A problem for an error of PyYAML's parser, at the position it names."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line, mark.column) if mark else (0, 0)
    what = exc.problem or str(exc)
    if _PARSER_NESTING_LIMIT.search(what):
        return YamlProblem(line, col, _TOO_DEEP)
    ctx = f" ({exc.context})" if exc.context else ""
    return YamlProblem(line, col, f"YAML syntax: {what}{ctx}")


def _line_col(text: str, offset: int) -> Mark:
    """The 0-based line and column of a character offset."""
    before = text[:offset]
    line = before.count("\n")
    return line, offset - (before.rfind("\n") + 1)


def read_yaml(text: str) -> tuple[Any, Positions, list[YamlProblem]]:
    """Read one YAML document safely.

    Returns:
        The document as plain Python values (``None`` if the problems make it
        unusable), where each value and key came from, and the problems.
    """
    reader = _Reader()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line, col = _line_col(text, exc.start)
        return (
            None,
            reader.positions,
            [YamlProblem(line, col, "not valid Unicode text (a lone surrogate)")],
        )
    loader = None
    try:
        loader = _Parser(text)  # the pure-Python reader checks each character here
        count = 0
        while True:
            event = loader.get_event()
            if event is None:
                break
            count += 1
            if count > MAX_EVENTS:
                raise _Abort(event.start_mark, "the document is too large")
            reader.feed(event)
    except yaml.MarkedYAMLError as exc:
        reader.problems.append(_parser_problem(exc))
        return None, reader.positions, reader.problems
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        char = exc.character  # the C parser gives a code, the pure one a str
        code = ord(char) if isinstance(char, str) else int(char)
        reader.problems.append(
            YamlProblem(line, col, f"character U+{code:04X} is not allowed in YAML")
        )
        return None, reader.positions, reader.problems
    except yaml.YAMLError as exc:
        reader.problems.append(YamlProblem(0, 0, f"YAML error: {exc}"))
        return None, reader.positions, reader.problems
    except _Abort as exc:
        reader.problem(exc.mark, exc.message)
        return None, reader.positions, reader.problems
    finally:
        if loader is not None:
            loader.dispose()
    return reader.root, reader.positions, reader.problems
