"""Conditions: the expression parser, the mapping form, and how they evaluate."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from cswork.definition import load_text
from cswork.definition.conditions import (
    ConditionSyntaxError,
    parse_condition,
    render,
)
from cswork.definition.model import ConditionField, DataField
from cswork.engine.guards import compile_condition
from cswork.errors import DefinitionError

from .test_loader import GOOD

ADAPTER: TypeAdapter[object] = TypeAdapter(ConditionField)
FIELDS = {
    "severity": DataField(type="enum", values=["general", "important", "urgent"]),
    "amount": DataField(type="number"),
    "due": DataField(type="datetime"),
    "note": DataField(type="string"),
}


def holds(
    text: str,
    data: dict[str, object],
    counters: dict[str, int] | None = None,
    checks: dict[str, object] | None = None,
) -> bool:
    cond = ADAPTER.validate_python(text)
    pred = compile_condition(cond, FIELDS, checks or {})  # type: ignore[arg-type]
    return pred(data, counters or {}, lambda: None)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("severity == urgent", {"field": "severity", "op": "==", "value": "urgent"}),
        ("n >= 3", {"field": "n", "op": ">=", "value": 3}),
        ("x != 'a b'", {"field": "x", "op": "!=", "value": "a b"}),
        ("c in [email, chat]", {"field": "c", "op": "in", "value": ["email", "chat"]}),
        ("c not in []", {"field": "c", "op": "not in", "value": []}),
        ("d is set", {"field": "d", "op": "is set"}),
        ("d is not set", {"field": "d", "op": "is not set"}),
        ("vip()", {"check": "vip"}),
        ("not a == true", {"not": {"field": "a", "op": "==", "value": True}}),
        (
            "a == 1 and b == 2 or c == null",
            {
                "any": [
                    {
                        "all": [
                            {"field": "a", "op": "==", "value": 1},
                            {"field": "b", "op": "==", "value": 2},
                        ]
                    },
                    {"field": "c", "op": "==", "value": None},
                ]
            },
        ),
        (
            "a == 1 and (b == 2 or c == -1.5)",
            {
                "all": [
                    {"field": "a", "op": "==", "value": 1},
                    {
                        "any": [
                            {"field": "b", "op": "==", "value": 2},
                            {"field": "c", "op": "==", "value": -1.5},
                        ]
                    },
                ]
            },
        ),
    ],
)
def test_parse(text: str, tree: dict[str, object]):
    assert parse_condition(text) == tree


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("severity = urgent", "use '=='"),
        ("severity ==", "expected a value"),
        ("== 3", "expected a field name"),
        ("a == 1 b == 2", "expected 'and', 'or' or the end"),
        ("(a == 1", "expected ')'"),
        ("a in b", "expected '['"),
        ("a is maybe", "expected 'set'"),
        ("Foo == 1", "not a valid field name"),
        ("a == 1 && b == 2", "unexpected"),
        ("x" * 2001, "limited to 2000"),
    ],
)
def test_syntax_errors(text: str, message: str):
    with pytest.raises(ConditionSyntaxError, match=re.escape(message)):
        parse_condition(text)


def test_render_round_trips_through_the_parser():
    text = "(a == 1 or b in [x, 'y z']) and not c is set and vip()"
    cond = ADAPTER.validate_python(text)
    assert render(cond) == "(a == 1 or b in [x, 'y z']) and not c is set and vip()"  # type: ignore[arg-type]
    assert ADAPTER.validate_python(render(cond)) == cond  # type: ignore[arg-type]


@given(
    st.recursive(
        st.sampled_from(
            ["a == 1", "b != x", "c in [p, q]", "d is set", "e >= 2.5", "f()"]
        ),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from([" and ", " or "]), inner).map(
                lambda t: f"({t[0]}){t[1]}({t[2]})"
            ),
            inner.map(lambda s: f"not ({s})"),
        ),
        max_leaves=8,
    )
)
@settings(max_examples=150, deadline=None)
def test_render_parse_is_a_fixed_point(text: str):
    cond = ADAPTER.validate_python(text)
    again = ADAPTER.validate_python(render(cond))  # type: ignore[arg-type]
    assert again == cond


def test_evaluation():
    assert holds("severity == urgent", {"severity": "urgent"})
    assert not holds("severity == urgent", {})
    assert holds("severity in [important, urgent]", {"severity": "important"})
    assert holds("amount > 10", {"amount": 10.5})
    assert not holds("amount > 10", {})  # missing never compares
    assert not holds("amount > 10", {"amount": "11"})  # wrong type never compares
    assert holds("reopens >= 2", {}, {"reopens": 2})  # counters by name
    assert holds("note is not set", {"note": None})
    assert holds(
        "due < '2026-03-06T10:00:00+08:00'", {"due": "2026-03-06T01:59:59+00:00"}
    )
    assert not holds(
        "due < '2026-03-06T10:00:00+08:00'", {"due": "2026-03-06T02:00:00.5+00:00"}
    )
    assert holds(
        "not vip() or amount >= 0", {"amount": 1}, checks={"vip": lambda v: True}
    )


def test_mapping_form_is_accepted_and_validated():
    cond = ADAPTER.validate_python(
        {"all": [{"field": "a", "op": "==", "value": 1}, {"not": {"check": "vip"}}]}
    )
    assert render(cond) == "a == 1 and not vip()"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a condition is an expression"):
        ADAPTER.validate_python({"every": []})


# ------------------------------------------------------------- nesting limit
def _when(condition: str) -> str:
    return GOOD.replace(
        "{event: take, from: new, to: open, roles: [agent]}",
        "{event: take, from: new, to: open, roles: [agent], when: " + condition + "}",
    )


@pytest.mark.parametrize(
    "text",
    [
        "(" * 300 + "severity == low" + ")" * 300,  # crashed with RecursionError
        "not " * 450 + "severity == low",
        "not (" * 17 + "severity == low" + ")" * 17,
    ],
)
def test_deeply_nested_expressions_are_refused_with_their_position(text: str):
    with pytest.raises(DefinitionError) as err:
        load_text(_when(f"'{text}'"), "wf.yaml")
    (problem,) = err.value.problems
    assert (problem.line, problem.column) == (14, 62)  # the 'when' value
    assert "nested more than 32 levels" in problem.message
    offset = int(re.search(r"offset (\d+)", problem.message)[1])  # type: ignore[index]
    assert text[offset] in "(n"  # the '(' or 'not' one level too deep


def test_nesting_up_to_the_limit_is_accepted_and_runs():
    for text in (
        "(" * 32 + "severity == low" + ")" * 32,
        "not " * 32 + "severity == low",
        "not (" * 16 + "severity == low" + ")" * 16,
    ):
        wf = load_text(_when(f"'{text}'")).definition
        when = wf.transitions[0].when
        assert when is not None
        assert parse_condition(render(when)) == parse_condition(text)


def _nested(levels: int, kind: str) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "severity", "op": "==", "value": "low"}
    for _ in range(levels):
        node = {"not": node} if kind == "not" else {kind: [node]}
    return node


def test_deep_mapping_form_is_refused_in_files():
    # (all/any take two YAML levels each: the YAML depth limit comes first.)
    with pytest.raises(DefinitionError) as err:
        load_text(_when(str(_nested(33, "not")).replace("'", "")), "wf.yaml")
    (problem,) = err.value.problems
    assert (problem.line, problem.column) == (14, 62)
    assert "at most 32 levels" in problem.message
    load_text(_when(str(_nested(32, "not")).replace("'", "")))


@pytest.mark.parametrize("kind", ["not", "all", "any"])
def test_deep_mapping_form_is_refused_from_python(kind: str):
    # Built in Python a mapping may be far deeper than YAML allows, or even
    # contain itself: refused without recursing.
    ADAPTER.validate_python(_nested(32, kind))
    with pytest.raises(ValidationError, match="at most 32 levels"):
        ADAPTER.validate_python(_nested(33, kind))
    with pytest.raises(ValidationError, match="at most 32 levels"):
        ADAPTER.validate_python(_nested(5_000, kind))
    loop: dict[str, Any] = {}
    loop[kind] = loop if kind == "not" else [loop]
    with pytest.raises(ValidationError, match="at most 32 levels"):
        ADAPTER.validate_python(loop)
