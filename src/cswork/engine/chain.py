"""One change made of two: a step and the event its actions fire (``fire:``)."""

from __future__ import annotations

from dataclasses import replace

from cswork.records import CaseChange


def chain(first: CaseChange, second: CaseChange | str) -> CaseChange:
    """One change doing ``first`` then ``second`` (a refusal is noted instead)."""
    if isinstance(second, str):
        entry = first.entries[-1]
        detail = {**entry.detail, "fire_refused": second}
        return replace(
            first, entries=(*first.entries[:-1], replace(entry, detail=detail))
        )
    armed_first = {t.id for t in first.arm}
    dropped = set(second.cancel)
    newly_met = set(second.meet) & armed_first
    arm = tuple(
        replace(t, met=True) if t.id in newly_met else t
        for t in first.arm
        if t.id not in dropped
    )
    return CaseChange(
        case=second.case,
        expected_version=first.expected_version,
        entries=first.entries + second.entries,
        previous=first.previous,
        cancel=first.cancel + tuple(i for i in second.cancel if i not in armed_first),
        meet=tuple(m for m in first.meet if m not in dropped)
        + tuple(m for m in second.meet if m not in armed_first),
        arm=arm + second.arm,
        fired_timer=first.fired_timer,
        outbox=first.outbox + second.outbox,
        outbox_owner=first.outbox_owner or second.outbox_owner,
        outbox_until=first.outbox_until or second.outbox_until,
        linked=first.linked + second.linked,
    )
