"""Small aggregates whose memory does not grow with the number of cases."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field


def three_figures(value: float) -> float:
    """``value`` rounded to three significant figures (1234.5 → 1230.0)."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = 2 - math.floor(math.log10(abs(value)))
    return round(value, digits)


@dataclass
class Distribution:
    """Values kept to three significant figures, for percentiles in bounded memory.

    Counts, the maximum and the minimum are exact; a percentile is exact to
    three significant figures (a 1,234 s wait is reported as 1,230 s). At
    most about 900 distinct values per power of ten are kept, however many
    values are added.
    """

    counts: Counter[float] = field(default_factory=Counter)
    n: int = 0
    max: float | None = None
    min: float | None = None

    def add(self, value: float, key: float | None = None) -> None:
        """Add one value (``key``: its ``three_figures``, if already known)."""
        self.counts[three_figures(value) if key is None else key] += 1
        self.n += 1
        self.max = value if self.max is None else max(self.max, value)
        self.min = value if self.min is None else min(self.min, value)

    def merge(self, other: Distribution) -> None:
        """Add every value of ``other``."""
        self.counts.update(other.counts)
        self.n += other.n
        for v in (other.max, other.min):
            if v is not None:
                self.max = v if self.max is None else max(self.max, v)
                self.min = v if self.min is None else min(self.min, v)

    def percentile(self, p: float) -> float | None:
        """The nearest-rank ``p``-th percentile (None when empty).

        That is the smallest value with at least ``p`` % of the values at or
        below it: "90 % of calls were answered within p90".
        """
        if not self.n:
            return None
        rank = max(1, math.ceil(p / 100 * self.n - 1e-9))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return min(value, self.max) if self.max is not None else value
        return self.max

    def summary(self) -> dict[str, float | None]:
        """p50, p90, p99 and max."""
        return {
            "p50": self.percentile(50),
            "p90": self.percentile(90),
            "p99": self.percentile(99),
            "max": self.max,
        }


def ratio(part: float, whole: float) -> float | None:
    """``part / whole``, or None when ``whole`` is zero."""
    return part / whole if whole else None
