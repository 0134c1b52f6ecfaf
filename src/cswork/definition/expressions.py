"""Condition expressions: the parser from text to the mapping form.

``severity == urgent and not (channel in [email, chat])`` becomes
``{all: [{field: severity, op: "==", value: urgent}, {not: {...}}]}``. A
recursive-descent parser, with no ``eval``: the text is at most 2,000
characters and nests at most ``MAX_DEPTH`` levels, so it cannot exhaust the
stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Literal_ = str | int | float | bool | None
COMPARISON_OPS: tuple[str, ...] = ("==", "!=", ">=", "<=", ">", "<")
#: How deeply conditions may nest: parentheses, ``not``, ``all``, ``any``.
#: Everything that walks a condition (the checks, rendering, the engine's
#: compiler) recurses once per level, so the limit is checked before any of
#: them runs, on the text and on the mapping form alike.
MAX_DEPTH = 32


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
