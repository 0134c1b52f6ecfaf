"""Register a named condition (and an action hook) for a workflow to use.

Workflows contain no code: a rule that needs more than comparing case data
names a function, and the program registers it. Here a "VIP fast track" lets a
group lead skip the department's planning step for VIP customers only.

Needs: cswork installed. Run: ``python examples/named_condition.py``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from zoneinfo import ZoneInfo

from cswork import (
    Actor,
    CaseView,
    ConditionNotMetError,
    Engine,
    HookCall,
    Hooks,
    UnregisteredHookError,
    VirtualClock,
)
from cswork.definition import load_text

WORKFLOW = """
workflow: vip_request
version: 1
title: Requests with a VIP fast track
roles: {cs_agent: takes requests, cs_lead: leads the group}
fields:
  customer_id: {type: string}
  request: {type: string}
states:
  new: {initial: true}
  planned: {}
  done: {final: true, outcome: resolved}
start: {roles: [cs_agent], requires: [customer_id, request]}
transitions:
  - {event: plan, from: new, to: planned, roles: [cs_lead]}
  - event: fast_track
    from: new
    to: done
    roles: [cs_lead]
    when: is_vip()
    actions: [{call: tell_account_manager}]
  - {event: finish, from: planned, to: done, roles: [cs_lead]}
"""

VIPS = {"C-007"}


def main() -> None:
    definition = load_text(WORKFLOW, "vip_request.yaml")
    clock = VirtualClock(datetime(2026, 3, 9, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    try:
        Engine([definition], clock=clock)  # type: ignore[list-item]
    except UnregisteredHookError as err:
        print("without the functions the workflow is refused:")
        for problem in err.problems:
            print("  ", problem)

    hooks = Hooks()

    @hooks.condition("is_vip")
    def is_vip(case: CaseView) -> bool:
        return case.data.get("customer_id") in VIPS

    told: list[str] = []

    @hooks.action("tell_account_manager")
    def tell(call: HookCall) -> None:  # runs after the commit, at least once
        told.append(call.case_id)
        print(f"   account manager told about case {call.case_id[:8]}")

    engine = Engine([definition], clock=clock, hooks=hooks)  # type: ignore[list-item]
    agent, lead = Actor("li", {"cs_agent"}), Actor("wang", {"cs_lead"})
    vip = engine.start("vip_request", agent, {"customer_id": "C-007", "request": "x"})
    other = engine.start("vip_request", agent, {"customer_id": "C-100", "request": "y"})
    print("fast track for the VIP:", engine.fire(vip.id, "fast_track", lead).state)
    try:
        engine.fire(other.id, "fast_track", lead)
    except ConditionNotMetError as err:
        print("fast track for anyone else is refused:", err.condition)
    assert told == [vip.id]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as _tmp:
        main()
