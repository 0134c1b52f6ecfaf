"""Conditions: data, never code.

A condition is either a mapping::

    {field: severity, op: "==", value: urgent}
    {all: [...]} / {any: [...]} / {not: ...}
    {check: is_vip_customer}        # a function the embedding program registers

or the same thing written as one expression string, which is parsed here
(no ``eval``) into exactly that mapping::

    severity == urgent and reopen_count >= 2
    channel in [email, chat] or not drill
    appointment_at is set
    is_vip_customer()

The left of a comparison is always a field or counter name; the right is a
literal: a number, ``true``/``false``/``null``, a quoted string, or a bare
word (read as a string).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
Literal_ = str | int | float | bool | None

#: How deeply conditions may nest: parentheses, ``not``, ``all``, ``any``.
#: Everything that walks a condition (the checks, rendering, the engine's
#: compiler) recurses once per level, so the limit is checked before any of
#: them runs, on the text and on the mapping form alike.
MAX_DEPTH = 32

Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not in", "is set", "is not set"]
COMPARISON_OPS: tuple[str, ...] = ("==", "!=", ">=", "<=", ">", "<")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Compare(_Node):
    """Compare a field (or counter) of the case with a literal."""

    field: Name = Field(description="The field or counter on the left.")
    op: Op = Field(description="The comparison.")
    value: Literal_ | list[Literal_] = Field(
        default=None, description="The literal on the right (a list for in)."
    )


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


# ------------------------------------------------------------------ parsing
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<str>'[^']*'|"[^"]*")
      | (?P<op>==|!=|>=|<=|>|<|\(|\)|\[|\]|,)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
    )""",
    re.VERBOSE,
)


class ConditionSyntaxError(ValueError):
    """An expression string could not be parsed (message says where)."""


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            return
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].lstrip().startswith("="):
                raise ConditionSyntaxError(f"use '==' to compare (offset {pos})")
            raise ConditionSyntaxError(
                f"unexpected {text[pos:].strip()[:10]!r} at offset {pos}"
            )
        kind = m.lastgroup or ""
        yield kind, m.group(kind), m.start(kind)
        pos = m.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = list(_tokens(text))
        self.i = 0
        self.depth = 0

    def deeper(self) -> None:
        """Enter one more level of nesting, refusing the level past the limit."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionSyntaxError(
                f"nested more than {MAX_DEPTH} levels deep (parentheses and "
                f"'not') at offset {self.peek()[2]}"
            )

    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else ("end", "", len(self.text))

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, want: str) -> ConditionSyntaxError:
        kind, val, pos = self.peek()
        got = "the end" if kind == "end" else repr(val)
        return ConditionSyntaxError(f"expected {want} at offset {pos}, found {got}")

    def expect(self, value: str) -> None:
        if self.peek()[1] != value:
            raise self.fail(repr(value))
        self.i += 1

    def word_is(self, word: str, ahead: int = 0) -> bool:
        kind, val, _ = self.peek(ahead)
        return kind == "word" and val == word

    def parse(self) -> dict[str, Any]:
        node = self.or_()
        if self.peek()[0] != "end":
            raise self.fail("'and', 'or' or the end")
        return node

    def or_(self) -> dict[str, Any]:
        items = [self.and_()]
        while self.word_is("or"):
            self.i += 1
            items.append(self.and_())
        return items[0] if len(items) == 1 else {"any": items}

    def and_(self) -> dict[str, Any]:
        items = [self.not_()]
        while self.word_is("and"):
            self.i += 1
            items.append(self.not_())
        return items[0] if len(items) == 1 else {"all": items}

    def not_(self) -> dict[str, Any]:
        negations = 0
        while self.word_is("not"):
            self.deeper()
            self.i += 1
            negations += 1
        node = self.atom()
        self.depth -= negations
        for _ in range(negations):
            node = {"not": node}
        return node

    def atom(self) -> dict[str, Any]:
        kind, val, _ = self.peek()
        if val == "(" and kind == "op":
            self.deeper()
            self.i += 1
            node = self.or_()
            self.expect(")")
            self.depth -= 1
            return node
        if kind != "word" or val in ("and", "or", "not", "in", "is"):
            raise self.fail("a field name, 'not' or '('")
        if not re.match(NAME_PATTERN, val):
            raise ConditionSyntaxError(f"{val!r} is not a valid field name")
        self.i += 1
        return self.rest_of_comparison(val)

    def rest_of_comparison(self, name: str) -> dict[str, Any]:
        kind, val, _ = self.peek()
        if kind == "op" and val == "(":
            self.i += 1
            self.expect(")")
            return {"check": name}
        if kind == "op" and val in COMPARISON_OPS:
            self.i += 1
            return {"field": name, "op": val, "value": self.literal()}
        if self.word_is("in"):
            self.i += 1
            return {"field": name, "op": "in", "value": self.list_()}
        if self.word_is("not") and self.word_is("in", 1):
            self.i += 2
            return {"field": name, "op": "not in", "value": self.list_()}
        if self.word_is("is"):
            self.i += 1
            negate = self.word_is("not")
            self.i += negate
            if not self.word_is("set"):
                raise self.fail("'set'")
            self.i += 1
            return {"field": name, "op": "is not set" if negate else "is set"}
        raise self.fail("a comparison (==, !=, >, >=, <, <=, in, not in, is set)")

    def list_(self) -> list[Literal_]:
        self.expect("[")
        items: list[Literal_] = []
        if self.peek()[1] != "]":
            items.append(self.literal())
            while self.peek()[1] == ",":
                self.i += 1
                items.append(self.literal())
        self.expect("]")
        return items

    def literal(self) -> Literal_:
        kind, val, _ = self.peek()
        if kind == "num":
            self.i += 1
            return float(val) if "." in val else int(val)
        if kind == "str":
            self.i += 1
            return val[1:-1]
        if kind == "word" and val not in ("and", "or", "not", "in", "is"):
            self.i += 1
            return {"true": True, "false": False, "null": None}.get(val, val)
        raise self.fail("a value")


def parse_condition(text: str) -> dict[str, Any]:
    """Parse an expression string into the mapping form of a condition.

    Raises:
        ConditionSyntaxError: the text is not a valid expression.
    """
    if len(text) > 2000:
        raise ConditionSyntaxError("a condition expression is limited to 2000 chars")
    return _Parser(text).parse()


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
