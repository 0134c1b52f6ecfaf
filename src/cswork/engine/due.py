"""The due path: claimed timers in, the changes that fire them out.

The engine claims a batch of due timers from the store (which holds them for
this worker), plans each in order here — pure, no I/O — and commits the
changes in the claim's transaction. The store never calls engine code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cswork.records import Case, CaseChange, Timer
from cswork.storage.base import DueBatch


def plan_batch(
    batch: DueBatch, plan_timer: Callable[[Case, Timer], CaseChange]
) -> list[CaseChange]:
    """The changes that fire a batch's timers, in order.

    Earlier timers of the batch may change later ones: firing one can cancel
    another (it is skipped) or meet a period (it is fired as met). Each timer
    is planned on its case as of the previous change.
    """
    cases = dict(batch.cases)
    closed: set[str] = set()
    met: set[str] = set()
    changes: list[CaseChange] = []
    for timer in batch.timers:
        if timer.id in closed:
            continue
        if timer.kind == "period" and timer.id in met:
            timer = replace(timer, met=True)
        change = plan_timer(cases[timer.case_id], timer)
        cases[timer.case_id] = change.case
        closed.update(change.cancel)
        met.update(change.meet)
        changes.append(change)
    return changes
