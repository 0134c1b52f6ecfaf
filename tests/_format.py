"""Shared by the format scenario tests: a workflow from inline YAML on a virtual clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cswork import Engine, VirtualClock
from cswork.definition import load_text
from cswork.storage import MemoryStore

from .conftest import TZ, Recorder


def engine_for(
    *texts: str, at: datetime, notifier: Recorder | None = None, **kwargs: Any
) -> tuple[Engine, VirtualClock]:
    """An engine running the workflows ``texts`` from ``at``, and its clock."""
    clock = VirtualClock(at)
    loaded = [load_text(text, f"w{n}.yaml") for n, text in enumerate(texts)]
    engine = Engine(
        loaded,  # type: ignore[arg-type]
        clock=clock,
        store=MemoryStore(),
        notifier=notifier or Recorder(),
        **kwargs,
    )
    return engine, clock


def dues(engine: Engine, case_id: str, kind: str = "due") -> dict[str, datetime]:
    """Pending timers of one kind: deadline name → due time, in Shanghai time."""
    return {
        t.deadline: t.due_at.astimezone(TZ)
        for t in engine.timers(case_id)
        if t.kind == kind
    }


def entries(engine: Engine, case_id: str, kind: str) -> list[Any]:
    """The history entries of one kind."""
    return [h for h in engine.history(case_id) if h.kind == kind]
