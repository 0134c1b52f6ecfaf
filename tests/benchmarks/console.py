"""W9: the console's queue page over many open cases on SQLite.

The store holds ``n`` open desk tickets (tests/console/desk.yaml) of two
units, some owned, a third of them breached (a wall-clock deadline fired),
all with deadlines pending. A queue page is one paged query and one count
per queue tab, so its time should not grow with the cases: the issue's
target is under 300 ms for 10,000 open cases. Each page is fetched through
the ASGI app in-process (Starlette's test client: routing, the person, the
queries, the template), the median of several fetches after a warm-up. The
floor is the same queries made directly on the engine, without the page.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from cswork import Actor, Engine, VirtualClock
from cswork.definition import load_paths
from cswork.simulation import CountingNotifier
from cswork.storage import SQLiteStore

from .workloads import ROOT, T0, Row

DESK = ROOT / "tests" / "console" / "desk.yaml"
TARGET = 300.0  # milliseconds, from the issue
BATCH = 2_000
MANAGER = Actor("mgr", {"cs_manager"})
LEAD = Actor("lead.1", {"lead"}, {"technical"})
AGENT = Actor("agent", {"agent"})


def fill(path: Path, n: int) -> Engine:
    """An engine on a new SQLite file holding ``n`` open tickets."""
    counter = itertools.count()
    engine = Engine(
        load_paths([DESK]).workflows,
        store=SQLiteStore(path),
        clock=VirtualClock(T0.replace(hour=16)),  # a Tuesday afternoon
        notifier=CountingNotifier(),
        id_factory=lambda: f"w9-{next(counter):09d}",
    )
    for start in range(0, n, BATCH):
        with engine.store.batch():
            for k in range(start, min(start + BATCH, n)):
                unit = "technical" if k % 2 else "billing"
                data = {"customer_id": f"C-{k % 3000:05d}", "summary": f"ticket {k}",
                        "unit": unit, "severity": "high" if k % 5 == 0 else "low"}  # fmt: skip
                case = engine.start("desk", AGENT, data)
                if k % 3 == 0:  # taken: its 8-hour answer deadline will breach
                    engine.fire(case.id, "take", LEAD, {"owner": f"lead.{k % 7}"})
    engine.advance(
        timedelta(hours=9)
    )  # 01:00: answers breached, responses due at 11:00
    return engine


def median_ms(runs: int, call: Callable[[], Any]) -> float:
    """The median time of ``call`` in milliseconds over ``runs`` runs, after one warm-up."""
    call()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def w9(n: int, runs: int) -> list[Row]:
    """Queue pages over ``n`` open cases: the default page, due soon, a deep page."""
    from starlette.testclient import TestClient

    from cswork.console import fixed_actor, make_console

    with tempfile.TemporaryDirectory() as tmp:
        engine = fill(Path(tmp) / "console.db", n)
        assert engine.count(closed=False) == n
        assert engine.count(breached=True) == -(-n // 3)
        reps = max(5, runs * 5)
        rows = []
        pages = {
            "open, page 1": "/?queue=open",
            "due within 24 h": "/?queue=due&hours=24",
            "breached": "/?queue=breached",
            "last page (offset)": f"/?queue=open&page={max(1, -(-n // 50))}",
        }
        app = make_console(engine, actor_of=fixed_actor(MANAGER))
        with TestClient(app) as client:
            floor = median_ms(reps, lambda: _queries(engine))
            for label, path in pages.items():

                def fetch(path: str = path) -> None:
                    answer = client.get(path)
                    assert answer.status_code == 200, answer.text[:500]

                value = median_ms(reps, fetch)
                rows.append(
                    Row("W9 console", f"queue page {label}, {n:,} open (ms)", value,
                        "ms", floor, target=f"< {TARGET:g} ms", ok=value < TARGET)
                )  # fmt: skip
        lead_app = make_console(engine, actor_of=fixed_actor(LEAD))
        with TestClient(lead_app) as client:
            value = median_ms(reps, lambda: client.get("/?queue=open"))
            rows.append(
                Row("W9 console", f"queue page of a unit, {n:,} open (ms)", value,
                    "ms", floor, target=f"< {TARGET:g} ms", ok=value < TARGET)
            )  # fmt: skip
        engine.close()
        engine.store.close()
    return rows


def _queries(engine: Engine) -> None:
    """What the default page asks the store: five counts and one page."""
    engine.count(closed=False)
    engine.count(closed=False, due_before=engine.clock.now() + timedelta(hours=2))
    engine.count(closed=False, breached=True)
    engine.count(closed=False, assigned=False)
    engine.count()
    engine.query(closed=False, limit=50)
