"""Static checks of deadlines: what they name exists, and their timing adds up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cswork.definition.actions import FromField
from cswork.definition.deadline_model import Deadline, FromEvent
from cswork.durations import parse_duration

if TYPE_CHECKING:
    from cswork.definition.checks import Checker, Loc


def check_deadlines(c: Checker) -> None:
    """Every deadline of the checker's workflow."""
    for name, d in c.wf.deadlines.items():
        loc: Loc = ("deadlines", name)
        for j, state in enumerate(d.scope):
            c.known((*loc, "scope", j), "state", state, c.wf.states)
        for j, state in enumerate(d.met_in):
            c.known((*loc, "met_in", j), "state", state, c.wf.states)
        c.condition((*loc, "when"), d.when)
        if d.at is not None:
            c.datetime_field((*loc, "at"), d.at)
        _anchor(c, loc, d)
        for j, ev in enumerate(d.met_by):
            c.known((*loc, "met_by", j), "event", ev, c.events)
        if d.warn is not None:
            if d.every is not None:
                c.add((*loc, "warn"), "a recurring deadline ('every') has no warning")
            c.recipients((*loc, "warn", "notify"), d.warn.notify)
            _warning_fits(c, loc, d)
        _window(c, loc, d)
        c.actions((*loc, "on_due"), d.on_due, on_due=True)


def _anchor(c: Checker, loc: Loc, d: Deadline) -> None:
    anchor = d.from_
    if isinstance(anchor, FromEvent):
        c.known((*loc, "from", "event"), "event", anchor.event, c.events)
    elif isinstance(anchor, FromField):
        c.datetime_field((*loc, "from", "field"), anchor.field)


def _warning_fits(c: Checker, loc: Loc, d: Deadline) -> None:
    if not (d.warn and d.warn.before and d.after):
        return
    before, after = parse_duration(d.warn.before), parse_duration(d.after)
    if before.months or after.months:
        return
    if before.wall() >= after.wall():
        c.add((*loc, "warn", "before"), "the warning comes before the deadline starts")


def _window(c: Checker, loc: Loc, d: Deadline) -> None:
    if d.not_before is None or d.after is None:
        return
    opens, closes = parse_duration(d.not_before), parse_duration(d.after)
    if (opens.months, opens.days, opens.time) >= (
        closes.months,
        closes.days,
        closes.time,
    ):
        c.add(
            (*loc, "not_before"),
            f"the window opens ({d.not_before}) no earlier than it closes ({d.after})",
        )
    if not (d.met_by or d.met_in):
        c.add((*loc, "not_before"), "a window needs 'met_by' events or 'met_in' states")
