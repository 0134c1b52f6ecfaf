"""Quickstart: one complaint through its whole path, on a SQLite file.

Needs: cswork installed (``pip install .``). Run from anywhere:

    python examples/quickstart.py

It loads the shipped SOPs, walks a complaint from intake to the return visit
on a virtual clock (so deadlines run without waiting), and prints its history.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cswork import Actor, Engine, VirtualClock
from cswork.shipped import shipped_workflows
from cswork.storage import SQLiteStore

TZ = ZoneInfo("Asia/Shanghai")
agent = Actor("li.na", {"cs_agent"})
lead = Actor("wang.fang", {"cs_lead"})
head = Actor("zhao.lei", {"dept_head"}, units={"technical"})


def main(db: Path) -> None:
    clock = VirtualClock(datetime(2026, 3, 9, 10, 0, tzinfo=TZ))  # a Monday
    engine = Engine.from_directory(
        shipped_workflows(), store=SQLiteStore(db), clock=clock
    )
    case = engine.start(
        "complaint",
        agent,
        {
            "customer_id": "C-001",
            "channel": "phone",
            "summary": "Scanner keeps failing",
        },
    )
    engine.fire(
        case.id,
        "record",
        lead,
        {
            "organisation": "ACME",
            "contact_person": "Ms Chen",
            "phone": "021-5555",
            "request": "Replace it",
            "expectation": "This week",
            "apologised": True,
            "current_situation": "Scans fail twice a day",
        },
    )
    engine.fire(case.id, "classify", lead, {"type": "product", "severity": "important"})
    print(
        "deadlines now:",
        {
            t.deadline: t.due_at.astimezone(TZ).strftime("%a %H:%M")
            for t in engine.timers(case.id)
        },
    )
    engine.advance(timedelta(hours=3))
    engine.fire(case.id, "contact_customer", lead, {"contact_note": "Collected logs"})
    engine.fire(
        case.id,
        "plan",
        head,
        {
            "expected_resolution_at": "2026-03-11T18:00:00+08:00",
            "measures": "New unit",
            "handler": "zhao.lei",
        },
    )
    engine.advance(timedelta(days=2, hours=2))  # one daily contact is missed
    engine.fire(
        case.id,
        "resolve",
        head,
        {
            "resolution": "Unit replaced",
            "evidence": "Crash logs from three days",
            "responsible_person": "zhao.lei",
        },
    )
    engine.fire(case.id, "inform_result", lead, {"result_note": "Told Ms Chen"})
    engine.fire(case.id, "accept", lead)
    engine.fire(case.id, "return_visit", agent, {"visit_note": "Works fine"})
    for h in engine.history(case.id):
        outcome = h.detail.get("outcome", "")
        print(
            f"{h.seq:2} {h.at.astimezone(TZ):%a %m-%d %H:%M} {h.kind:8} "
            f"{h.event:26} -> {h.to_state} {outcome}"
        )
    final = engine.get(case.id)
    print(f"{final.state}: {final.breaches} missed deadline(s)")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp) / "quickstart.db")
