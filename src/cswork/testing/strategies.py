"""Hypothesis strategies generated from a workflow definition.

Each function returns a ``SearchStrategy``, in the style of
``hypothesis.strategies``::

    from cswork.testing import strategies as cst
    payload = data.draw(cst.payloads(defn, defn.transitions[3]))

Strategies can produce valid input (the default) or input that breaks a rule
on purpose (``valid=False``), so that tests see both the paths that succeed
and the refusals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st

from cswork.calendar import WorkingCalendar
from cswork.definition.conditions import satisfying_values
from cswork.definition.model import DataField, Start, Transition, Workflow
from cswork.records import SYSTEM_ROLE, Actor

# Any Unicode text but NUL and lone surrogates, which the engine refuses.
_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
# Text that tends to find bugs: SQL and shell metacharacters, non-ASCII.
_NASTY = [
    "'; DROP TABLE cases; --",
    "$(rm -rf /)",
    "`id`",
    "客户 ✓",
    "",
    " ",
    "\\",
    '"quoted"',
    "a\nb",
    "🎉",
]


def field_values(spec: DataField, *, valid: bool = True) -> st.SearchStrategy[Any]:
    """Values for one declared field (or, with ``valid=False``, values it refuses).

    Valid values respect the field's ``max_length``, ``min`` and ``max``.
    """
    if not valid:
        return _invalid_values(spec)
    if spec.type == "string":
        nasty = [t for t in _NASTY if len(t) <= spec.max_length]
        return st.one_of(
            st.sampled_from(nasty), st.text(_TEXT, max_size=min(spec.max_length, 40))
        )
    if spec.type == "enum":
        return st.sampled_from(spec.values or [""])
    if spec.type == "boolean":
        return st.booleans()
    lo, hi = _bounds(spec)
    if spec.type == "integer":
        first, last = math.ceil(lo), math.floor(hi)
        # No whole number fits (min 0.5, max 0.7): no valid value exists.
        return st.integers(first, last) if first <= last else st.nothing()
    if spec.type == "number":
        return st.floats(
            min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False
        )
    return datetimes().map(lambda d: d.isoformat())


def _bounds(spec: DataField) -> tuple[float, float]:
    """The range to draw numbers from: the declared limits, else ±1000 (±1e6)."""
    span = 2000 if spec.type == "integer" else 2e6
    lo, hi = spec.min, spec.max
    if lo is None:
        lo = -span / 2 if hi is None or hi > -span / 2 else hi - span
    if hi is None:
        hi = span / 2 if lo < span / 2 else lo + span
    return lo, hi


def _invalid_values(spec: DataField) -> st.SearchStrategy[Any]:
    wrong_type: dict[str, st.SearchStrategy[Any]] = {
        "string": st.one_of(
            st.integers(), st.sampled_from(["nul\x00byte", "lone \ud800"])
        ),
        "enum": st.text(min_size=1, max_size=5).filter(
            lambda v: v not in (spec.values or [])
        ),
        "boolean": st.sampled_from(["yes", 1, 0, "true"]),
        "integer": st.one_of(st.just(1.5), st.just("7"), st.booleans()),
        "number": st.sampled_from(["1.0", float("nan"), float("inf"), True]),
        "datetime": st.sampled_from(
            ["2026-03-03 10:00", "yesterday", 17, "2026-13-01T00:00:00+00:00"]
        ),
    }
    return wrong_type[spec.type]


def datetimes(
    start: datetime = datetime(2025, 12, 1, tzinfo=UTC), days: int = 400
) -> st.SearchStrategy[datetime]:
    """Aware datetimes (whole seconds) in a window, in assorted time zones."""
    zones = ["UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"]
    return st.builds(
        lambda s, tz: (start + timedelta(seconds=s)).astimezone(_zone(tz)),
        st.integers(min_value=0, max_value=days * 86400),
        st.sampled_from(zones),
    )


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def payloads(
    wf: Workflow, step: Transition | Start, *, valid: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Data for a step: its required fields and some optional ones.

    Valid payloads lean towards values that make the step's condition true
    (so that random walks get deep into a workflow). With ``valid=False`` the
    payload breaks one rule: a required field is missing, a field has a
    refused value, or an undeclared key is present.
    """
    hints = satisfying_values(step.when)  # a start may have a condition too

    def value(name: str) -> st.SearchStrategy[Any]:
        plain = field_values(wf.fields[name])
        good = [v for v in hints.get(name, []) if v is not None]
        return st.one_of(st.sampled_from(good), plain) if good else plain

    required = {n: value(n) for n in step.requires}
    # A field required only when a condition holds is always given: it is
    # accepted either way, and the step then never fails for its absence.
    required |= {n: value(n) for n in step.requires_when}
    required |= {n: value(n) for n in step.optional if n in hints}
    optional = {n: value(n) for n in step.optional if n not in hints}
    good = st.fixed_dictionaries(required, optional=optional)
    if valid:
        return good
    breakers: list[st.SearchStrategy[dict[str, Any]]] = [
        good.map(lambda d: {**d, "undeclared_key": "x"}),
    ]
    if step.requires:
        breakers.append(
            st.builds(
                lambda d, gone: {k: v for k, v in d.items() if k != gone},
                good,
                st.sampled_from(list(step.requires)),
            )
        )
    names = [*step.requires, *step.optional]
    if names:
        breakers.append(
            st.sampled_from(names).flatmap(
                lambda n: st.builds(
                    lambda d, v: {**d, n: v},
                    good,
                    field_values(wf.fields[n], valid=False),
                )
            )
        )
    return st.one_of(breakers)


def actors(
    wf: Workflow, roles: Sequence[str] | None = None, *, allowed: bool = True
) -> st.SearchStrategy[Actor]:
    """Actors holding one of ``roles`` (default: any role of the workflow).

    With ``allowed=False``: actors holding none of ``roles`` (possibly none at all).
    """
    pool = sorted(set(roles if roles is not None else wf.roles) - {SYSTEM_ROLE})
    if allowed:
        if not pool:
            return st.nothing()
        return st.builds(
            lambda r, n: Actor(f"user{n}", {r}),
            st.sampled_from(pool),
            st.integers(0, 3),
        )
    others = sorted(set(wf.roles) - set(pool)) or ["visitor"]
    return st.builds(
        lambda rs, n: Actor(f"stranger{n}", rs),
        st.sets(st.sampled_from(others), max_size=2),
        st.integers(0, 3),
    )


def events(
    wf: Workflow, *, state: str | None = None, legal: bool = True
) -> st.SearchStrategy[Transition]:
    """Transitions of the workflow (those declared from ``state`` if given).

    With ``legal=False``: transitions whose event is not declared from ``state``.
    """
    final = {n for n, s in wf.states.items() if s.final}

    def from_state(t: Transition) -> bool:
        return (
            state is None or state in t.from_ or ("*" in t.from_ and state not in final)
        )

    fitting = [t for t in wf.transitions if from_state(t) == legal]
    if not legal and state is not None:
        legal_events = {t.event for t in wf.transitions if from_state(t)}
        fitting = [t for t in fitting if t.event not in legal_events]
    return st.sampled_from(fitting) if fitting else st.nothing()


def clock_jumps(
    calendar: WorkingCalendar,
    now: datetime,
    *,
    max_jump: timedelta = timedelta(days=10),
) -> st.SearchStrategy[timedelta]:
    """How far to move a virtual clock, biased to the moments that break things.

    Half the time the jump lands just before, on or just after a boundary in
    the calendar's local time: the start and end of working hours and of the
    lunch break, the eve and the end of a holiday, and make-up working days.
    Otherwise it is a random duration up to ``max_jump``.
    """
    targets = _hard_moments(calendar, now, max_jump)
    nudges = st.sampled_from(
        [
            timedelta(0),
            timedelta(seconds=-1),
            timedelta(seconds=1),
            timedelta(minutes=-1),
            timedelta(minutes=1),
        ]
    )
    hard = (
        st.builds(
            lambda t, n: max(t + n - now, timedelta(0)),
            st.sampled_from(targets),
            nudges,
        )
        if targets
        else st.nothing()
    )
    anywhere = st.integers(min_value=0, max_value=int(max_jump.total_seconds())).map(
        lambda s: timedelta(seconds=s)
    )
    return st.one_of(hard, anywhere) if targets else anywhere


def _hard_moments(
    cal: WorkingCalendar, now: datetime, horizon: timedelta
) -> list[datetime]:
    out: list[datetime] = []
    first = now.astimezone(cal.tz).date()
    day = first
    while day <= (now + horizon).astimezone(cal.tz).date() and len(out) < 60:
        edges = [b for span in cal.intervals(day) for b in span]
        if not edges:  # a day off: its eve and its end are hard moments too
            out.append(datetime.combine(day, time(0), cal.tz))
        out += edges
        day += timedelta(days=1)
    return [t for t in out if now < t <= now + horizon]


def holiday_eves(cal: WorkingCalendar, year: int) -> list[date]:
    """Working days followed by a day off that is not a weekend (holiday eves)."""
    out = []
    day = date(year, 1, 1)
    while day.year == year:
        nxt = day + timedelta(days=1)
        if (
            cal.is_working_day(day)
            and not cal.is_working_day(nxt)
            and nxt.weekday() < 5
        ):
            out.append(day)
        day = nxt
    return out
