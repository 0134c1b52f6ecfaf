"""The two JSON writers a store may use (orjson, the standard library) agree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cswork.storage import codec

orjson = pytest.importorskip("orjson")

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_both_writers_write_the_same_text_and_read_it_back(
    value: dict[str, Any],
) -> None:
    ours = codec._std_dumps(value)
    theirs = orjson.dumps(value).decode()
    assert codec._std_loads(ours) == codec._std_loads(theirs) == value
    assert orjson.loads(ours) == value
    if not any(isinstance(v, float) for v in _leaves(value)):
        # floats may be spelt differently (1e+16 / 1e16); everything else is not
        assert ours == theirs


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def test_nan_is_refused_by_both() -> None:
    with pytest.raises((TypeError, ValueError)):
        codec._std_dumps({"x": float("nan")})
