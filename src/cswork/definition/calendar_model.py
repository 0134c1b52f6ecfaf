"""The calendar document, as a pydantic model. Field names are the YAML keys.

What the model accepts, :meth:`CalendarDef.working_calendar` builds: zones and
countries are checked against the libraries' own lists, each weekday's
intervals are in order and do not overlap, and numbers are bounded.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from cswork.calendar.hours import _check_hours, _parse_interval
from cswork.calendar.working import WEEKDAY_NAMES, WorkingCalendar
from cswork.calendar.zones import check_country, check_zone
from cswork.definition._base import DurationText, _Model
from cswork.definition.conditions import Name
from cswork.durations import parse_duration

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Interval = Annotated[
    str,
    Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$",
        examples=["09:00-12:00"],
    ),
]


def _check_day(intervals: list[str]) -> list[str]:
    """The intervals of one weekday: in order of time, none overlapping."""
    _check_hours({0: [_parse_interval(text) for text in intervals]})
    return intervals


DayHours = Annotated[list[Interval], AfterValidator(_check_day)]


def _check_date(value: Any) -> Any:
    # Lax pydantic reads a number as seconds since 1970: 20260101 would be
    # a day in August 1970. A day is written YYYY-MM-DD.
    if isinstance(value, date) or (
        isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    ):
        return value
    raise ValueError(f"{value!r} is not a date: write YYYY-MM-DD")


# A date, also as a pattern in the JSON Schema (editors do not check "format").
Day = Annotated[
    date,
    BeforeValidator(_check_date),
    Field(json_schema_extra={"pattern": r"^\d{4}-\d{2}-\d{2}$"}),
]
Year = Annotated[int, Field(strict=True, ge=1, le=9999)]


class CalendarDef(_Model):
    """A business calendar: working hours, holidays, make-up working days."""

    calendar: Name = Field(description="The calendar id.")
    title: str = ""
    timezone: Annotated[str, AfterValidator(check_zone)] = Field(
        default="Asia/Shanghai", description="An IANA zone name."
    )
    country: Annotated[str, AfterValidator(check_country)] | None = Field(
        default="CN",
        description="Public holidays (and make-up days) from the 'holidays' "
        "package for this country code; null for none.",
    )
    hours: dict[Weekday, DayHours] = Field(
        default_factory=lambda: {
            d: ["09:00-12:00", "13:00-18:00"]
            for d in ("mon", "tue", "wed", "thu", "fri")
        },
        description="Working intervals per weekday; missing days are off.",
    )
    makeup_hours: Weekday = Field(
        default="mon", description="Whose hours a make-up working day has."
    )
    holidays: list[Day] = Field(
        default_factory=list, description="Extra days off (YYYY-MM-DD)."
    )
    working_days: list[Day] = Field(
        default_factory=list, description="Extra working days (YYYY-MM-DD)."
    )
    day_length: DurationText | None = Field(
        default=None,
        description="How much working time one working day ('1d') is; "
        "default: the longest weekday's hours.",
    )
    data_years: list[Year] | None = Field(
        default=None,
        description="Years the holiday data is known to be complete for; a due "
        "time outside them gives a warning. Default: years with make-up days.",
    )

    @field_validator("hours")
    @classmethod
    def _some_hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if not any(value.values()):
            raise ValueError("a calendar needs working hours on at least one weekday")
        return value

    @field_validator("day_length")
    @classmethod
    def _at_most_a_day(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value).wall() > timedelta(days=1):
            raise ValueError(f"a working day is at most 24h, not {value}")
        return value

    def working_calendar(self) -> WorkingCalendar:
        """Build the calendar this document describes.

        Raises:
            ValueError: as for :class:`WorkingCalendar`, or an hour such as ``24:30``.
        """
        hours = {
            WEEKDAY_NAMES.index(day): [_parse_interval(text) for text in texts]
            for day, texts in self.hours.items()
        }
        return WorkingCalendar(
            name=self.calendar,
            timezone=self.timezone,
            hours=hours,
            country=self.country,
            makeup_weekday=WEEKDAY_NAMES.index(self.makeup_hours),
            extra_holidays=self.holidays,
            extra_working_days=self.working_days,
            day_length=parse_duration(self.day_length).wall()
            if self.day_length
            else None,
            data_years=self.data_years,
        )
