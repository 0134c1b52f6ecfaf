"""Deadlines as process owners write them: what starts the count, how long, and then what.

A deadline runs while a case is in its scope (a set of states). It counts
``after`` a duration from the moment named by ``from`` (entering the scope,
the case's start, the last time an event happened, or a datetime field), or
falls due ``at`` a datetime field (with an ``offset``), or recurs ``every``
period. It ends when an event of ``met_by`` happens or the case enters a
state of ``met_in``, or when the case leaves its scope; otherwise it falls
due, its breach is recorded and its ``on_due`` actions run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from cswork.definition._base import DurationText, OffsetText, StrictBool, _Model
from cswork.definition.actions import (
    Action,
    ConditionField,
    FromField,
    RecipientList,
)
from cswork.definition.conditions import Name
from cswork.durations import parse_duration

Basis = Literal["working", "wall"]


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


NameList = Annotated[
    list[Name], BeforeValidator(_listify, json_schema_input_type=list[Name] | Name)
]


class Warn(_Model):
    """An early warning before a deadline falls due."""

    before: DurationText | None = Field(
        default=None, description="Warn this long before the due time."
    )
    percent: Annotated[int, Field(strict=True)] | None = Field(
        default=None, ge=1, le=99, description="Warn when this share has elapsed."
    )
    notify: RecipientList = Field(
        min_length=1,
        description="Who to warn: roles, 'owner' or 'unit:ROLE' (as for notify).",
    )
    at_any_hour: StrictBool = Field(
        default=False,
        description="Warn at once whatever the hour; otherwise a warning outside "
        "working time waits for the next working period.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> Warn:
        if (self.before is None) == (self.percent is None):
            raise ValueError("a warning has exactly one of 'before' or 'percent'")
        return self


class FromEvent(_Model):
    """Count from the last time an event happened on the case."""

    event: Name


#: What a deadline counts from.
Anchor = Literal["scope", "start"] | FromEvent | FromField


class OffHours(_Model):
    """The timing used instead when the count starts outside working time."""

    after: DurationText = Field(description="Due this long after the start.")
    basis: Basis = Field(description="Count working time or wall-clock time.")


class Deadline(_Model):
    """A time limit that runs while a case is in some states."""

    title: str = ""
    scope: NameList = Field(
        min_length=1,
        description="Armed when the case enters these states, cancelled when "
        "it leaves them.",
    )
    when: ConditionField | None = Field(
        default=None, description="Armed only if this holds on entering."
    )
    from_: Anchor = Field(
        default="scope",
        alias="from",
        description="What the time counts from: 'scope' (entering the scope, "
        "the default), 'start' (the case's start: acceptance), {event: NAME} "
        "(the last time that event happened), or {field: NAME} (a datetime field).",
    )
    after: DurationText | None = Field(
        default=None, description="Due this long after the start of the count."
    )
    at: Name | None = Field(
        default=None, description="Due at the time in this datetime field."
    )
    offset: OffsetText | None = Field(
        default=None,
        description="With 'at': shift the due time, e.g. -1d for the day before.",
    )
    every: DurationText | None = Field(
        default=None,
        description="A recurring obligation: one period after another.",
    )
    basis: Basis | None = Field(
        default=None, description="Count working time or wall-clock time."
    )
    calendar: Name | None = Field(
        default=None, description="The calendar for working time."
    )
    off_hours: OffHours | None = Field(
        default=None,
        description="When the count starts outside working time, use this timing "
        "instead (e.g. within the first working hour).",
    )
    on_working_day: StrictBool = Field(
        default=False,
        description="A due time outside working time moves to the start of the "
        "next working period.",
    )
    not_before: DurationText | None = Field(
        default=None,
        description="A window: the deadline cannot be met before this long after "
        "the start of the count (same basis).",
    )
    early: Literal["refuse", "miss"] = Field(
        default="refuse",
        description="A met_by event before the window opens is refused, or "
        "allowed and the deadline counted as missed.",
    )
    met_by: NameList = Field(
        default_factory=list,
        description="Events that meet the deadline (or the current period).",
    )
    met_in: NameList = Field(
        default_factory=list,
        description="States that meet the deadline when the case enters them.",
    )
    warn: Warn | None = None
    on_due: list[Action] = Field(
        default_factory=list,
        description="What happens when it falls due (the breach is always recorded).",
    )

    @model_validator(mode="after")
    def _kind(self) -> Deadline:
        kinds = [k for k in ("after", "at", "every") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a deadline has exactly one of 'after', 'at' or 'every'")
        if self.at is None:
            if self.basis is None:
                raise ValueError(
                    "say which time counts: 'basis: working' or 'basis: wall'"
                )
            if self.offset is not None:
                raise ValueError("'offset' shifts an 'at' deadline only")
        elif self.offset is None and self.basis is not None:
            raise ValueError("'basis' applies to an 'at' deadline's offset only")
        elif self.offset is not None and self.basis is None:
            raise ValueError("say which time the offset counts: 'basis: working|wall'")
        if self.at is not None and self.from_ != "scope":
            raise ValueError("an 'at' deadline is due at its field: no 'from'")
        if self.every is not None and not (self.met_by or self.met_in):
            raise ValueError("a recurring deadline ('every') needs 'met_by' events")
        if self.after is None and (self.off_hours or self.not_before):
            raise ValueError("'off_hours' and 'not_before' go with 'after'")
        months = any(
            text and parse_duration(text).months
            for text in (self.after, self.every, self.not_before)
        )
        if months and self.basis != "wall":
            raise ValueError("months ('mo') are counted on the wall clock: basis: wall")
        return self

    @property
    def kind(self) -> Literal["after", "at", "every"]:
        """Which of the three kinds of deadline this is."""
        if self.at is not None:
            return "at"
        return "every" if self.every is not None else "after"
