"""What a list of cases may ask for: ``CaseQuery``, and the checks of counts.

Every store receives the same, already checked query, so the backends can
trust it and agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cswork.errors import InvalidArgumentError

__all__ = ["CaseOrder", "CaseQuery", "check_count"]

CaseOrder = Literal["created", "due", "updated"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseQuery:
    """Filters, order and page for listing cases; None means "any".

    Every field is checked when the query is made, so every store sees the
    same, valid query.

    Attributes:
        workflow_id: only cases of this workflow.
        state: only cases in this state.
        customer: only cases of this customer.
        owner: only cases this person owns.
        unit: only cases of this unit.
        assigned: only cases with (True) or without (False) an owner.
        closed: only closed (True) or open (False) cases.
        breached: only cases with (True) or without (False) a missed deadline.
        due_before: only cases whose next due time is before this (aware).
        created_from: only cases started at or after this time (aware).
        created_before: only cases started before this time (aware).
        data: only cases whose data holds each of these text values (a
            field name → the value, e.g. ``{"severity": "urgent"}``); for
            text and enum fields.
        order: ``created`` (start time), ``due`` (next due time; cases with
            none last) or ``updated`` (last step); ties in creation order.
        descending: newest (or latest due) first.
        offset: skip this many (0 or more).
        limit: at most this many (0 or more).

    Raises:
        InvalidArgumentError: a field of the wrong type or out of range.
    """

    workflow_id: str | None = None
    state: str | None = None
    customer: str | None = None
    owner: str | None = None
    unit: str | None = None
    assigned: bool | None = None
    closed: bool | None = None
    breached: bool | None = None
    due_before: datetime | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    data: Mapping[str, str] | None = None
    order: CaseOrder = "created"
    descending: bool = False
    offset: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        for name in ("workflow_id", "state", "customer", "owner", "unit"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(
                    f"{name} must be text or None, not {type(value).__name__}"
                )
        for name in ("assigned", "closed", "breached"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidArgumentError(
                    f"{name} must be True, False or None, not {value!r:.40}"
                )
        for name in ("due_before", "created_from", "created_before"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, datetime) or value.utcoffset() is None
            ):
                raise InvalidArgumentError(f"{name} must be an aware datetime or None")
        if self.data is not None:
            _check_data_filter(self.data)
            object.__setattr__(
                self, "data", dict(self.data)
            )  # the caller's stays theirs
        if self.order not in ("created", "due", "updated"):
            raise InvalidArgumentError(
                f"order is created, due or updated, not {self.order!r:.40}"
            )
        if not isinstance(self.descending, bool):
            raise InvalidArgumentError("descending must be True or False")
        check_count("offset", self.offset)
        check_count("limit", self.limit, optional=True)


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _check_data_filter(data: object) -> None:
    if not isinstance(data, Mapping):
        raise InvalidArgumentError(
            f"data must be a mapping of field names to text, not {type(data).__name__}"
        )
    if len(data) > 16:
        raise InvalidArgumentError("data filters at most 16 fields")
    for name, value in data.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise InvalidArgumentError(f"data: {name!r:.40} is not a field name")
        if not isinstance(value, str):
            raise InvalidArgumentError(
                f"data: {name} must be compared with text, not {type(value).__name__}"
            )


def check_count(
    name: str, value: object, *, minimum: int = 0, optional: bool = False
) -> None:
    """Check an argument that counts something (a limit, a batch size).

    Raises:
        InvalidArgumentError: not a whole number (bools are not), or below
            ``minimum``.
    """
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{name} must be a whole number, not {type(value).__name__}"
        )
    if value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, not {value}")
    if value > 2**62:
        raise InvalidArgumentError(f"{name} is too large: {value}")
