"""Positional constructors of frozen records, for the engine's hot path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

R = TypeVar("R")


def fast_maker(cls: type[R]) -> Callable[..., R]:
    """A positional constructor of a frozen record, for the engine's hot path.

    A frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, which costs more than the rest of building a
    case. This sets the slots through their descriptors instead: the record
    made is the same (equal, frozen). The arguments are every field, in
    declaration order, defaults included.
    """
    setters = tuple(getattr(cls, f.name).__set__ for f in fields(cls))  # type: ignore[arg-type]
    if len(setters) == 12:
        return _maker12(cls, setters)
    if len(setters) == 16:
        return _maker16(cls, setters)
    raise TypeError(
        f"no fast constructor for {len(setters)} fields"
    )  # pragma: no cover


_new = object.__new__


def _maker12(cls: type[R], s: tuple[Any, ...]) -> Callable[..., R]:
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 = s

    def make(
        a0: Any, a1: Any, a2: Any, a3: Any, a4: Any, a5: Any, a6: Any, a7: Any,
        a8: Any, a9: Any, a10: Any, a11: Any,
    ) -> R:  # fmt: skip
        o = _new(cls)
        s0(o, a0), s1(o, a1), s2(o, a2), s3(o, a3), s4(o, a4), s5(o, a5)
        s6(o, a6), s7(o, a7), s8(o, a8), s9(o, a9), s10(o, a10), s11(o, a11)
        return o

    return make


def _maker16(cls: type[R], s: tuple[Any, ...]) -> Callable[..., R]:
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 = s

    def make(
        a0: Any, a1: Any, a2: Any, a3: Any, a4: Any, a5: Any, a6: Any, a7: Any,
        a8: Any, a9: Any, a10: Any, a11: Any, a12: Any, a13: Any, a14: Any, a15: Any,
    ) -> R:  # fmt: skip
        o = _new(cls)
        s0(o, a0), s1(o, a1), s2(o, a2), s3(o, a3), s4(o, a4), s5(o, a5), s6(o, a6)
        s7(o, a7), s8(o, a8), s9(o, a9), s10(o, a10), s11(o, a11), s12(o, a12)
        s13(o, a13), s14(o, a14), s15(o, a15)
        return o

    return make
