"""Coverage-guided fuzzing of the engine API with atheris.

    python tests/fuzz/fuzz_engine.py -max_total_time=300 -timeout=10

Each input starts a case and fires events built from the fuzzer's bytes:
event names, payloads of any shape, actors with any roles. A step may be
refused (a RejectedError or another cswork error); anything else escaping is
a crash. After every accepted step the invariants must hold, and a refused
step must have changed nothing.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import atheris

with atheris.instrument_imports():
    from cswork import Actor, CsworkError, Engine, VirtualClock
    from cswork.storage import MemoryStore
    from cswork.testing.invariants import check_case, snapshot

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
ENGINE = Engine.from_directory(
    WORKFLOWS,
    store=MemoryStore(),
    clock=VirtualClock(datetime(2026, 3, 3, 10, tzinfo=ZoneInfo("Asia/Shanghai"))),
    notifier=type("Quiet", (), {"notify": lambda self, n: None})(),
)
DEF = ENGINE.definition("complaint")
EVENTS = [*sorted({t.event for t in DEF.transitions}), "", "start", "x" * 300]
FIELDS = [*sorted(DEF.fields), "", "undeclared"]
ROLES = [*sorted(DEF.roles), "system", ""]


def value(fdp: atheris.FuzzedDataProvider) -> object:
    kind = fdp.ConsumeIntInRange(0, 7)
    if kind == 0:
        return fdp.ConsumeUnicode(40)
    if kind == 1:
        return fdp.ConsumeInt(8)
    if kind == 2:
        return fdp.ConsumeRegularFloat()
    if kind == 3:
        return fdp.ConsumeBool()
    if kind == 4:
        return None
    if kind == 5:
        return [fdp.ConsumeUnicode(5)]
    if kind == 6:
        return {"k": fdp.ConsumeUnicode(5)}
    return fdp.PickValueInList(
        ["urgent", "product", "2026-03-05T10:00:00+08:00", "2026-03-05 10:00", True]
    )


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    case = ENGINE.start(
        "complaint",
        Actor("a", {"cs_agent"}),
        {"customer_id": "C", "channel": "phone", "summary": "s"},
    )
    for _ in range(fdp.ConsumeIntInRange(1, 8)):
        event = fdp.PickValueInList(EVENTS)
        roles = {fdp.PickValueInList(ROLES) for _ in range(fdp.ConsumeIntInRange(0, 2))}
        payload: object = {
            fdp.PickValueInList(FIELDS): value(fdp)
            for _ in range(fdp.ConsumeIntInRange(0, 8))
        }
        if fdp.ConsumeIntInRange(0, 9) == 0:
            payload = value(fdp)
        before = snapshot(ENGINE, case.id)
        try:
            actor = Actor(fdp.ConsumeUnicode(8) or "x", {r for r in roles if r})
            ENGINE.fire(case.id, event, actor, payload)  # type: ignore[arg-type]
        except CsworkError:
            if snapshot(ENGINE, case.id) != before:
                raise AssertionError("a refused step changed the store") from None
        check_case(ENGINE, case.id)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
