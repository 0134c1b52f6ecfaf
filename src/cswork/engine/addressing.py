"""Notices addressed to people, and held outside working hours.

A ``notify`` action names roles, ``owner`` (the case's owner after the step)
and ``unit:ROLE`` (the holders of ROLE in the case's unit). Outside the
calendar's working time a notice waits for the next working period (it keeps
the time it was made), unless it may go at any hour: then the workflow's
on-call roles are told as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from cswork.calendar import WorkingCalendar
from cswork.records import JSON, OutboxItem


def address(
    outbox: Sequence[OutboxItem],
    now: datetime,
    calendar: WorkingCalendar,
    on_call: Sequence[str],
    *,
    owner: str | None,
    unit: str | None,
) -> list[OutboxItem]:
    """The step's outbox with its notices addressed and, off hours, held."""
    working = calendar.is_working_time(now)
    out = []
    for item in outbox:
        if item.kind != "notify" or "to" not in item.payload:
            out.append(item)
            continue
        to = [t for t in item.payload.get("to") or [] if isinstance(t, str)]  # type: ignore[union-attr]
        payload: dict[str, JSON] = {
            "persons": [owner] if "owner" in to and owner else [],
            "unit": unit if any(t.startswith("unit:") for t in to) else None,
            "unit_roles": [
                t.removeprefix("unit:") for t in to if t.startswith("unit:")
            ],
        }
        roles, held = item.roles, None
        if not working:
            if item.payload.get("at_any_hour"):
                roles = (*roles, *(r for r in on_call if r not in roles))
            else:
                held = calendar.next_working_time(now)
        out.append(replace(item, roles=roles, payload=payload, not_before=held))
    return out
