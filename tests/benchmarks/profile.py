"""Where an in-memory step's CPU goes: the W1 path under ``cProfile``, by area.

Own time (``tottime``) of every function is summed per area of the code —
the check stage, planning, deadlines, actions, the store, ``transitions`` —
so the table says what a step is made of, not only how long it takes. The
profiler slows everything alike, so the shares, not the absolute times, are
the result. The top functions go to stderr.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys

from cswork.storage import MemoryStore

from .common import STEPS_PER_CASE, Row, close_store, complaints, engine_on

#: Areas, first match wins: (name, path fragments of the functions' files).
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("check stage (check, guards, conditions)", ("engine/check.py", "engine/guards.py",
                                                 "definition/conditions.py")),
    ("deadlines (planning, calendar)", ("engine/deadlines.py", "cswork/calendar/",
                                       "engine/due.py")),
    ("actions and notices", ("engine/effects.py", "engine/addressing.py", "engine/chain.py")),
    ("plan stage (new case, history entry)", ("engine/plan.py", "cswork/records.py",
                                              "cswork/_makers.py")),
    ("engine facade, cache, outbox", ("engine/engine.py", "engine/cache.py",
                                      "engine/outbox.py", "engine/reads.py",
                                      "engine/driving.py")),
    ("store (MemoryStore)", ("cswork/storage/",)),
    ("transitions", ("/transitions/",)),
)  # fmt: skip


def _area(filename: str) -> str:
    for name, parts in AREAS:
        if any(p in filename for p in parts):
            return name
    return "other (builtins, copies, stdlib)"


def profile(cases: int) -> list[Row]:
    """Profile ``cases`` complaints on a MemoryStore; one row per area."""
    store = MemoryStore()
    engine = engine_on(store)
    complaints(engine, 20)()  # warm caches: compiled workflows, calendar years
    run = complaints(engine, cases)
    profiler = cProfile.Profile()
    profiler.runcall(run)
    close_store(store)
    stats = pstats.Stats(profiler)
    by_area: dict[str, float] = {}
    calls = 0
    for (filename, _, _), (_, ncalls, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        area = _area(filename)
        by_area[area] = by_area.get(area, 0.0) + tottime
        calls += ncalls
    total = sum(by_area.values())
    steps = cases * STEPS_PER_CASE
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue(), file=sys.stderr)
    rows = [
        Row("profile", f"share of step CPU: {area}", 100 * t / total, "%")
        for area, t in sorted(by_area.items(), key=lambda kv: -kv[1])
    ]
    rows.append(
        Row("profile", "Python function calls per step", calls / steps, "calls")
    )
    return rows
