"""Time, read in exactly one place.

The engine reads the time only through a ``Clock``; stores receive ``now`` as
an argument. So the same code runs on the wall clock in production and on a
``VirtualClock`` that tests and simulations move by hand, skipping weeks in
milliseconds.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from cswork.errors import ClockError


@runtime_checkable
class Clock(Protocol):
    """Where the engine gets the current time."""

    @property
    def is_virtual(self) -> bool:
        """True if time moves only when told to (no waiting for it)."""
        ...

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    is_virtual = False

    def now(self) -> datetime:
        """The current time from the operating system, in UTC."""
        return datetime.now(UTC)


def ensure_aware(moment: datetime, what: str = "time") -> datetime:
    """Return ``moment`` in UTC.

    Raises:
        ClockError: ``moment`` is naive (has no timezone).
    """
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ClockError(f"{what} {moment.isoformat()} has no timezone")
    return moment.astimezone(UTC)


class VirtualClock:
    """A clock that moves only when told to.

    Args:
        start: the initial time; must be timezone-aware.
    """

    is_virtual = True

    def __init__(self, start: datetime) -> None:
        self._now = ensure_aware(start, "start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The clock's current time, in UTC."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment``.

        Raises:
            ClockError: ``moment`` is naive or earlier than the current time.
        """
        moment = ensure_aware(moment)
        with self._lock:
            if moment < self._now:
                raise ClockError(
                    f"a virtual clock cannot go back from {self._now.isoformat()} "
                    f"to {moment.isoformat()}"
                )
            self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time.

        Note that this only moves the clock; ``Engine.advance`` also fires
        every deadline that falls due on the way, each at its own due time.

        Raises:
            ClockError: ``delta`` is negative.
        """
        if delta < timedelta(0):
            raise ClockError(f"cannot advance by a negative {delta}")
        self.set(self._now + delta)
        return self._now
