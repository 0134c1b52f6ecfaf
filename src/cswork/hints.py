"""Hints that come with a refusal: "did you mean …?" and refusals that carry one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class Refusal(ValueError):
    """A value refused by a model validator, with a hint on how to fix it.

    Pydantic keeps the exception in the error's context; the loader turns
    its message into the problem and ``hint`` into the problem's hint.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean ...?" hint, or "" when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def short(hint: str, limit: int = 300) -> str:
    """``hint`` cut to ``limit`` characters: it may quote a megabyte-long line."""
    return hint if len(hint) <= limit else hint[: limit - 3] + "..."
