"""Data for simulated steps: a plausible value for every field type.

``ValueMaker`` fills in what a start or a step needs, for any workflow: text
within ``max_length``, numbers within ``min``/``max``, enum values (weighted
only where a weight is configured), booleans, and datetimes a few working
hours ahead (appointments). It leans towards values that make the step's
``when:`` condition true, so simulated cases get deep into a workflow.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cswork.definition.conditions import AllOf, Compare, Condition, satisfying_values
from cswork.definition.model import DataField, Start, Transition, Workflow

#: How likely an optional field the condition does not mention is given.
OPTIONAL_SHARE = 0.3
_STEP = 0.01  # what "just above" means for a number field


@dataclass
class _Range:
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True)
class _Hints:
    """What a step's condition says about the values to give."""

    equal: dict[str, list[Any]]
    ranges: dict[str, _Range]
    unset: frozenset[str]
    excluded: dict[str, set[Any]]


def condition_hints(cond: Condition | None) -> _Hints:
    """Values, ranges and omissions that make the simple parts of ``cond`` true.

    Equalities and ``in`` lists come from ``satisfying_values``; ``>``, ``>=``,
    ``<``, ``<=``, ``!=``, ``not in`` and ``is not set`` are read from the
    comparisons that must all hold (the condition itself or its ``all:``).
    """
    ranges: dict[str, _Range] = {}
    excluded: dict[str, set[Any]] = {}
    unset: set[str] = set()
    for cmp in _conjuncts(cond):
        value = cmp.value
        if cmp.op == "is not set":
            unset.add(cmp.field)
        elif cmp.op in ("!=", "not in"):
            values = value if isinstance(value, list) else [value]
            excluded.setdefault(cmp.field, set()).update(values)
        elif _is_number(value) and cmp.op in (">", ">=", "<", "<="):
            r = ranges.setdefault(cmp.field, _Range())
            bound = float(value)  # type: ignore[arg-type]
            if cmp.op in (">", ">="):
                bound += _STEP if cmp.op == ">" else 0.0
                r.lo = bound if r.lo is None else max(r.lo, bound)
            else:
                bound -= _STEP if cmp.op == "<" else 0.0
                r.hi = bound if r.hi is None else min(r.hi, bound)
    return _Hints(satisfying_values(cond), ranges, frozenset(unset), excluded)


def _conjuncts(cond: Condition | None) -> list[Compare]:
    if isinstance(cond, Compare):
        return [cond]
    if isinstance(cond, AllOf):
        return [c for part in cond.all for c in _conjuncts(part)]
    return []


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class ValueMaker:
    """Makes the data of simulated starts and steps, from one seeded ``Random``.

    Args:
        rng: the simulation's random source (same seed, same values).
        enums: field name → value → weight. Values of an enum field that the
            weights do not name get the average weight of those they do name
            (weight 0 leaves a value out); a field with no weights, or whose
            weights name none of its values, draws its values evenly.
        ahead: ``(start, duration)`` → the moment ``duration`` of working
            time after ``start`` (a calendar's ``add``): datetime fields get
            moments a few working hours ahead, like appointments.
        customers: how many distinct customer ids to draw from.
    """

    def __init__(
        self,
        rng: random.Random,
        enums: Mapping[str, Mapping[str, float]],
        ahead: Callable[[datetime, timedelta], datetime],
        customers: int,
    ) -> None:
        self.rng = rng
        self.enums = enums
        self.ahead = ahead
        self.customers = max(customers, 1)
        # Keyed by identity (steps are not hashable), keeping the step alive.
        self._hints: dict[int, tuple[Transition | Start, _Hints]] = {}

    def payload(
        self, wf: Workflow, step: Transition | Start, now: datetime
    ) -> dict[str, Any]:
        """The data a person gives with ``step``: every required field, some optional."""
        when = step.when  # a start may have a condition too
        cached = self._hints.get(id(step))
        if cached is None or cached[0] is not step:
            cached = self._hints[id(step)] = (step, condition_hints(when))
        hints = cached[1]
        names = list(step.requires)
        names += [n for n in step.requires_when if n not in names]
        names += [
            n
            for n in step.optional
            if n not in hints.unset
            and (
                n in hints.equal
                or n in hints.ranges
                or self.rng.random() < OPTIONAL_SHARE
            )
        ]
        who = wf.customer_field
        return {
            n: self.value(n, wf.fields[n], hints, now, customer=n == who) for n in names
        }

    def value(
        self,
        name: str,
        spec: DataField,
        hints: _Hints,
        now: datetime,
        *,
        customer: bool = False,
    ) -> Any:
        """One value for field ``name``, within its declared limits.

        ``customer``: the field identifies the customer (a few customers come
        back, as they do).
        """
        rng = self.rng
        bad = hints.excluded.get(name, set())
        good = [v for v in hints.equal.get(name, []) if v is not None and v not in bad]
        if good:
            return rng.choice(good)
        if spec.type == "enum":
            return self._enum(name, [v for v in spec.values or [] if v not in bad])
        if spec.type == "boolean":
            choices = [v for v in (True, False) if v not in bad] or [True]
            return choices[0] if len(choices) == 1 else rng.random() < 0.9
        if spec.type in ("integer", "number"):
            return self._number(spec, hints.ranges.get(name))
        if spec.type == "datetime":
            moment = self.ahead(now, timedelta(hours=rng.uniform(2, 16)))
            return moment.replace(microsecond=0).isoformat()
        if customer or name in ("customer_id", "customer"):
            text = f"C-{rng.randint(1, self.customers):05d}"
        else:
            text = f"{name.replace('_', ' ')} {rng.randint(1, 999)}"
        return text[: spec.max_length]

    def _enum(self, name: str, values: list[str]) -> str:
        if not values:
            return ""  # every value excluded: the step will be refused, as it should
        weights = self.enums.get(name, {})
        named = [weights[v] for v in values if v in weights]
        if not named:
            return self.rng.choice(values)
        rest = sum(named) / len(named)
        chosen = [max(weights.get(v, rest), 0.0) for v in values]
        if sum(chosen) <= 0:
            return self.rng.choice(values)
        return self.rng.choices(values, chosen)[0]

    def _number(self, spec: DataField, want: _Range | None) -> int | float:
        lo = spec.min if spec.min is not None else None
        hi = spec.max if spec.max is not None else None
        if want is not None:
            lo = want.lo if lo is None or (want.lo is not None and want.lo > lo) else lo
            hi = want.hi if hi is None or (want.hi is not None and want.hi < hi) else hi
        # Small numbers near the lower bound: quantities, counts, prices.
        if lo is None:
            lo = 1.0 if hi is None or hi >= 1 else hi - 3
        if hi is None or hi > lo + 3:
            hi = lo + 3
        if spec.type == "integer":
            first, last = math.ceil(lo), math.floor(hi)
            return self.rng.randint(first, max(first, last))
        return min(max(round(self.rng.uniform(lo, hi), 2), lo), hi)
