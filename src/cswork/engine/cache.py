"""The cases an engine last committed, so that the next step need not read them."""

from __future__ import annotations

import threading

from cswork.records import Case


class CaseCache:
    """The cases this engine last committed, so the next step need not read them.

    A cached case may be stale when other engines share the store: every
    commit is checked against the stored version anyway, and a conflict or a
    refusal computed on a cached case is retried once on a fresh read.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._cases: dict[str, Case] = {}
        self._lock = threading.Lock()

    def get(self, case_id: str) -> Case | None:
        """The case as this engine last committed it, if remembered."""
        return self._cases.get(case_id)  # one dict read: atomic

    def put(self, case: Case) -> None:
        """Remember a committed case (the least recently put are forgotten)."""
        with self._lock:
            cases = self._cases
            cases.pop(case.id, None)  # re-insert: the oldest go first
            cases[case.id] = case
            if len(cases) > self._size:
                del cases[next(iter(cases))]

    def drop(self, case_id: str) -> None:
        """Forget a case (it proved stale)."""
        with self._lock:
            self._cases.pop(case_id, None)
