"""Working time: calendars, their explanations, hours and the zones they accept.

Pure arithmetic with no I/O; the YAML calendar document
(:class:`cswork.definition.CalendarDef`) builds a :class:`WorkingCalendar`,
never the other way round.
"""

from __future__ import annotations

from cswork.calendar.explain import AddExplanation, SkippedDay
from cswork.calendar.working import WorkingCalendar

__all__ = ["AddExplanation", "SkippedDay", "WorkingCalendar"]
