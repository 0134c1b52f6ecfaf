"""What a simulation counts, so that its report shows a real week.

Arrivals are counted by the kind of hour and day they fall on — working
hours, night, weekend, public holiday, make-up working day (调休) — from the
workflows' calendar; steps by what they mean for the customer — a
conversion (a transition tagged ``convert``: an inquiry that turns out to be
a complaint), a reopening (``reopen``), an unreachable customer (a step
tagged ``unreachable``, or a customer who stays silent in a state that
``waits: customer`` until its deadline falls due).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from cswork.calendar import WorkingCalendar

#: Local hours counted as night: from 20:00 to 07:00.
NIGHT = (time(20), time(7))
#: Transition tags the simulator counts (and takes with their own odds).
CONVERT, REOPEN, UNREACHABLE = "convert", "reopen", "unreachable"
#: The order arrival kinds are shown in.
ARRIVAL_KINDS = ("working_hours", "off_hours", "night", "weekend", "holiday", "makeup")


def arrival_kinds(calendar: WorkingCalendar, when: datetime) -> list[str]:
    """The kinds an arrival at ``when`` counts under (an arrival may count twice).

    ``working_hours`` or ``off_hours`` (in the calendar's working time or
    not); ``night`` too between 20:00 and 07:00 local; and the kind of its
    day when it is not an ordinary working day: ``weekend``, ``holiday`` or
    ``makeup`` (see ``WorkingCalendar.day_kind``; a weekday without hours
    counts as ``weekend``).
    """
    local = when.astimezone(calendar.tz)
    kinds = ["working_hours" if calendar.is_working_time(when) else "off_hours"]
    if local.time() >= NIGHT[0] or local.time() < NIGHT[1]:
        kinds.append("night")
    day = calendar.day_kind(local.date())
    if day != "working":
        kinds.append("weekend" if day == "off" else day)
    return kinds


@dataclass
class SimulationStats:
    """Counts of what a simulation did.

    Attributes:
        started: cases started by arrivals, per workflow.
        steps: steps taken.
        refused: steps (and starts) the engine refused.
        timers_fired: deadlines (and warnings) that fell due.
        notifications: notices sent, per role.
        arrivals: arrivals by kind (``arrival_kinds``).
        conversions: steps tagged ``convert`` taken.
        reopenings: steps tagged ``reopen`` taken.
        unreachable: steps tagged ``unreachable`` taken.
        silent: times a customer stayed silent in a state that waits for
            them, until its deadline fell due.
    """

    started: Counter[str] = field(default_factory=Counter)
    steps: int = 0
    refused: int = 0
    timers_fired: int = 0
    notifications: Counter[str] = field(default_factory=Counter)
    arrivals: Counter[str] = field(default_factory=Counter)
    conversions: int = 0
    reopenings: int = 0
    unreachable: int = 0
    silent: int = 0

    def count_step(self, tags: list[str]) -> None:
        """Count a step taken, by the tags of its transition."""
        self.steps += 1
        self.conversions += CONVERT in tags
        self.reopenings += REOPEN in tags
        self.unreachable += UNREACHABLE in tags

    def traffic(self) -> dict[str, Any]:
        """The week's shape as plain data (for JSON and for the text table)."""
        return {
            "arrivals": sum(self.started.values()),
            **{f"arrivals_{k}": self.arrivals[k] for k in ARRIVAL_KINDS},
            "conversions": self.conversions,
            "reopenings": self.reopenings,
            "unreachable": self.unreachable + self.silent,
            "unreachable_steps": self.unreachable,
            "silent_until_deadline": self.silent,
            "steps": self.steps,
            "refused": self.refused,
            "deadlines_fired": self.timers_fired,
        }

    def lines(self) -> list[str]:
        """The traffic as a few lines of text, for the simulation's report."""
        a = self.arrivals
        total = sum(self.started.values())
        return [
            (
                f"arrivals: {total} — {a['working_hours']} in working hours, "
                f"{a['off_hours']} outside them ({a['night']} at night), "
                f"{a['weekend']} on weekends, {a['holiday']} on holidays, "
                f"{a['makeup']} on make-up working days"
            ),
            (
                f"customers: {self.conversions} conversion(s), "
                f"{self.reopenings} reopening(s), "
                f"{self.unreachable + self.silent} unreachable "
                f"({self.unreachable} step(s) tagged unreachable, "
                f"{self.silent} silent until the deadline)"
            ),
        ]
