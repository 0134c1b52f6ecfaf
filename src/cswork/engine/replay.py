"""Rebuild a case's state, data and counters from its history alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cswork.records import HistoryEntry, Scalar


@dataclass(frozen=True)
class Replayed:
    """What replaying a history gives.

    Attributes:
        state: the state after the last entry.
        data: every field's last value.
        counters: every counter's last value.
        version: how many entries were replayed.
    """

    state: str | None
    data: dict[str, Scalar]
    counters: dict[str, int]
    version: int


def replay(entries: Iterable[HistoryEntry]) -> Replayed:
    """Replay history entries in order.

    Raises:
        ValueError: the entries are not numbered 1, 2, 3… or a step does not
            start where the previous one ended.
    """
    state: str | None = None
    data: dict[str, Scalar] = {}
    counters: dict[str, int] = {}
    n = 0
    for n, entry in enumerate(entries, start=1):
        if entry.seq != n:
            raise ValueError(f"history entry {entry.seq} found where {n} was expected")
        if entry.from_state != state:
            raise ValueError(
                f"entry {n} starts in {entry.from_state!r}, but the case was in {state!r}"
            )
        state = entry.to_state
        data.update(entry.changes)
        counters.update(entry.counters)
    return Replayed(state, data, counters, n)
