"""``cswork demo``: the README's main job.

Validates every shipped SOP, then walks one complaint along its whole path on
a SQLite file in the current directory, on a virtual clock, and prints its
history: every step, deadline, warning and notification.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from cswork import Actor, Engine, VirtualClock
from cswork.definition import load_paths
from cswork.shipped import shipped_workflows
from cswork.storage import SQLiteStore

TZ = ZoneInfo("Asia/Shanghai")

AGENT = Actor("li.na", {"cs_agent"})
LEAD = Actor("wang.fang", {"cs_lead"})
HEAD = Actor("zhao.lei", {"dept_head"})

#: (hours to wait before the step, event, actor, data)
COMPLAINT_PATH: list[tuple[float, str, Actor, dict[str, Any]]] = [
    (
        0.2,
        "record",
        LEAD,
        {
            "organisation": "Haitong Logistics",
            "contact_person": "Ms Chen",
            "phone": "+86 21 5555 0101",
            "request": "Replace the failing scanner",
            "expectation": "Working scanner this week",
            "apologised": True,
        },
    ),
    (0.3, "classify", LEAD, {"type": "product", "severity": "important"}),
    (2.0, "contact_customer", LEAD, {"contact_note": "Called Ms Chen, collected logs"}),
    (
        1.0,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-06T18:00:00+08:00",
            "measures": "Firmware fix, replacement unit as fallback",
        },
    ),
    (20.0, "report_progress", HEAD, {"progress_note": "Firmware fix in test"}),
    (24.0, "resolve", HEAD, {"resolution": "Firmware 2.4.1 installed remotely"}),
    (0.5, "inform_result", LEAD, {"result_note": "Told Ms Chen personally"}),
    (4.0, "reopen", LEAD, {"reopen_reason": "Scanner still drops connections"}),
    (3.0, "contact_customer", LEAD, {"contact_note": "Engineer on the way"}),
    (20.0, "resolve", HEAD, {"resolution": "Unit replaced"}),
    (0.5, "inform_result", LEAD, {"result_note": "Told Ms Chen personally"}),
    (2.0, "accept", LEAD, {}),
    (48.0, "return_visit", AGENT, {"visit_note": "Working fine for two days"}),
]


def walk_complaint(engine: Engine, clock: VirtualClock) -> str:
    """Start one complaint and take it along its whole path; return its id."""
    case = engine.start(
        "complaint",
        AGENT,
        {
            "customer_id": "C-1001",
            "channel": "phone",
            "summary": "Barcode scanner keeps failing",
        },
    )
    for hours, event, actor, data in COMPLAINT_PATH:
        engine.advance(timedelta(hours=hours))
        engine.fire(case.id, event, actor, data)
    return case.id


def history_table(engine: Engine, case_id: str) -> Table:
    """The case's history as a table (local time of the default calendar)."""
    table = Table(title=f"History of complaint {case_id}", show_lines=False)
    for col in ("#", "time (+08:00)", "step", "by", "state", "what changed / happened"):
        table.add_column(col)
    for h in engine.history(case_id):
        what = [f"{k}={v}" for k, v in h.changes.items()]
        what += [f"{k}: {v}" for k, v in h.detail.items()]
        what += [f"{k}={v}" for k, v in h.counters.items() if v]
        step = h.event if h.kind in ("start", "event") else f"{h.kind}: {h.event}"
        table.add_row(
            str(h.seq),
            h.at.astimezone(TZ).strftime("%a %m-%d %H:%M"),
            step,
            h.actor,
            h.to_state,
            "; ".join(what)[:160],
        )
    return table


def demo(
    db: Annotated[Path, typer.Option(help="SQLite file to create.")] = Path(
        "cswork-demo.db"
    ),
    workflows: Annotated[
        Path | None, typer.Option(help="Workflow directory (default: shipped SOPs).")
    ] = None,
) -> None:
    """Validate the shipped SOPs and walk one complaint through its whole path."""
    console = Console()
    source = workflows or shipped_workflows()
    defs = load_paths([source])
    console.print(
        f"[green]valid[/]: {len(defs.workflows)} workflows, "
        f"{len(defs.calendars)} calendar(s) in {source}"
    )
    for w in defs.workflows:
        d = w.definition
        console.print(
            f"  {d.workflow} v{d.version}: {len(d.states)} states, "
            f"{len(d.transitions)} transitions, {len(d.deadlines)} deadlines"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    clock = VirtualClock(datetime(2026, 3, 2, 9, 30, tzinfo=TZ))
    store = SQLiteStore(db)
    try:
        engine = Engine.from_directory(source, store=store, clock=clock)
        case_id = walk_complaint(engine, clock)
        console.print(history_table(engine, case_id))
        case = engine.get(case_id)
        console.print(
            f"complaint {case_id} is [bold]{case.state}[/] after "
            f"{case.version} steps, {case.breaches} missed deadline(s); "
            f"stored in {db}"
        )
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("demo")(demo)
