"""The rows the engine writes for each step of the complaint path, from a real run.

The same-rows floors (``floors.py``, ``pg_workloads.py``) replay these counts
with hand-written SQL, so they follow the workflow when it changes. The counts
are read through the public API only (``history``, ``timers`` and the
notifier), so the recording does not depend on how a store is built inside:

- history rows: new entries in ``engine.history(case)``;
- timers armed: new ids in ``engine.timers(case, pending_only=False)``;
- timers closed: timers that left ``pending`` (cancelled, or fired);
- periods met: period timers whose ``met`` flag went up;
- outbox items: notices delivered for the step (``engine.deliver()`` after
  each step, so an engine that delivers later is counted at the same step).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cswork import Engine
from cswork.records import Timer
from cswork.storage import MemoryStore

from .common import AGENT, PATH, START, engine_on


@dataclass(frozen=True)
class StepRows:
    """What one step wrote, besides inserting or updating its case row.

    Attributes:
        event: ``start`` or the event name.
        state: the case's state after the step.
        history: history rows inserted.
        armed: the deadlines of the timers armed, one per timer row.
        closed: timers that stopped being pending (cancelled or fired).
        met: period timers marked met.
        outbox: outbox items inserted (and, once delivered, acknowledged).
        data: the case's data after the step, as JSON text.
        changes: the data given with the step, as JSON text.
    """

    event: str
    state: str
    history: int
    armed: tuple[str, ...]
    closed: int
    met: int
    outbox: int
    data: str
    changes: str


class _Notices:
    """A notifier that remembers the ids of the notices it was given."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def notify(self, notice: Any) -> None:
        self.ids.add(notice.id)


def _timers(engine: Engine, case_id: str) -> dict[str, Timer]:
    return {t.id: t for t in engine.timers(case_id, pending_only=False)}


def record(path: list[tuple[str, Any, dict[str, Any]]] = PATH) -> list[StepRows]:
    """Run one complaint along ``path`` and return what each step wrote.

    The clock stands still, as in ``drive()``: every case of the benchmark
    takes the same steps at the same moment, so one case tells them all.
    """
    notices = _Notices()
    engine = engine_on(MemoryStore(), notifier=notices)
    steps: list[StepRows] = []
    case_id = ""
    seen_history = 0
    before: dict[str, Timer] = {}
    for event, actor, data in [("start", AGENT, START), *path]:
        delivered = len(notices.ids)
        if event == "start":
            case = engine.start("complaint", actor, data)
            case_id = case.id
        else:
            case = engine.fire(case_id, event, actor, data)
        engine.deliver()
        engine.flush()
        history = len(engine.history(case_id))
        after = _timers(engine, case_id)
        was_pending = {i for i, t in before.items() if t.state == "pending"}
        steps.append(
            StepRows(
                event=event,
                state=case.state,
                history=history - seen_history,
                armed=tuple(after[i].deadline for i in after if i not in before),
                closed=sum(1 for i in was_pending if after[i].state != "pending"),
                met=sum(1 for i in before if after[i].met and not before[i].met),
                outbox=len(notices.ids) - delivered,
                data=json.dumps(dict(case.data), separators=(",", ":")),
                changes=json.dumps(data, separators=(",", ":")),
            )
        )
        seen_history, before = history, after
    return steps


def summary(steps: list[StepRows]) -> str:
    """What the steps write in all, on one line (for the benchmark's log)."""
    return (
        f"{len(steps)} case writes, {sum(s.history for s in steps)} history rows, "
        f"{sum(len(s.armed) for s in steps)} timers armed, "
        f"{sum(s.closed for s in steps)} closed, {sum(s.met for s in steps)} met, "
        f"{sum(s.outbox for s in steps)} outbox items"
    )
