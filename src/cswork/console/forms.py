"""Forms for the events a person may fire, made from the workflow's transitions.

One form per event: its fields are the ones the event's transitions from the
current state require or accept, typed from the workflow's field
declarations (enum choices, numbers, yes/no, datetimes in the calendar's
zone). The submitted text is turned into typed values here; whether the
values are acceptable is the engine's decision (``fire`` refuses with its
own message, and the page shows it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cswork.definition.model import DataField, Transition, Workflow
from cswork.records import Scalar

#: Strings that may be longer than this get a text area instead of a line
#: (the default ``max_length`` is 2000), except the fields naming a person,
#: a unit or a customer.
LONG_TEXT = 200


@dataclass(frozen=True)
class FormField:
    """One input of an event form.

    Attributes:
        name: the data field.
        kind: ``text``, ``textarea``, ``integer``, ``number``, ``boolean``,
            ``enum`` or ``datetime``.
        required: every transition of the event needs it.
        description: the field's description in the workflow.
        choices: for ``enum`` and ``boolean``: the values offered.
        minimum, maximum: for numbers, the bounds declared.
        max_length: for text, the longest value accepted.
        value: the text to show in the input (what was submitted, or the
            case's current value).
    """

    name: str
    kind: str
    required: bool
    description: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 2000
    value: str = ""


@dataclass(frozen=True)
class EventForm:
    """The form of one event.

    Attributes:
        event: the event fired by the form.
        description: what the step does (from the workflow).
        to: where the case goes (one or more states, or "stays").
        fields: the inputs, required ones first.
    """

    event: str
    description: str
    to: str
    fields: tuple[FormField, ...]


def transitions_for(
    wf: Workflow, state: str, event: str, roles: frozenset[str]
) -> list[Transition]:
    """The event's transitions that leave ``state`` and that ``roles`` may take."""
    final = wf.states[state].final if state in wf.states else True
    return [
        t
        for t in wf.transitions
        if t.event == event
        and (state in t.from_ or ("*" in t.from_ and not final))
        and roles & set(t.roles)
    ]


def event_forms(
    wf: Workflow,
    state: str,
    events: Iterable[str],
    roles: frozenset[str],
    data: Mapping[str, Scalar],
    tz: ZoneInfo,
) -> list[EventForm]:
    """The forms of ``events`` (the ones the engine allows now)."""
    found = (event_form(wf, state, e, roles, data, tz) for e in events)
    return [f for f in found if f is not None]


def event_form(
    wf: Workflow,
    state: str,
    event: str,
    roles: frozenset[str],
    data: Mapping[str, Scalar],
    tz: ZoneInfo,
) -> EventForm | None:
    """The form of one event from ``state`` (None: ``roles`` may not fire it)."""
    steps = transitions_for(wf, state, event, roles)
    if not steps:
        return None
    required = set.intersection(*(set(t.requires) for t in steps))
    named: list[str] = []
    for t in steps:
        later = list(getattr(t, "requires_when", None) or {})  # a newer format
        for name in [*t.requires, *t.optional, *later]:
            if name not in named:
                named.append(name)
    named.sort(key=lambda n: n not in required)  # stable: required first
    keys = {wf.customer_field, *wf.people_fields()} - {None}
    fields = tuple(
        make_field(n, wf.fields.get(n), n in required, data.get(n), tz, n in keys)
        for n in named
    )
    targets = sorted({t.to or state for t in steps})
    to = "stays" if targets == [state] else " or ".join(targets)
    description = " / ".join(
        dict.fromkeys(t.description for t in steps if t.description)
    )
    return EventForm(event=event, description=description, to=to, fields=fields)


def make_field(
    name: str,
    spec: DataField | None,
    required: bool,
    current: Scalar,
    tz: ZoneInfo,
    key: bool = False,
) -> FormField:
    """The input for one data field (a plain text line if it is not declared).

    ``key``: the field names a person, a unit or a customer (one line).
    """
    if spec is None:
        return FormField(name, "text", required, value=_shown(current))
    long = spec.max_length > LONG_TEXT and not key
    kind = {
        "string": "textarea" if long else "text",
        "integer": "integer",
        "number": "number",
        "boolean": "boolean",
        "enum": "enum",
        "datetime": "datetime",
    }[spec.type]
    choices: tuple[str, ...] = ()
    if spec.type == "enum":
        choices = tuple(spec.values or ())
    elif spec.type == "boolean":
        choices = ("true", "false")
    value = _local_input(current, tz) if kind == "datetime" else _shown(current)
    return FormField(
        name=name,
        kind=kind,
        required=required,
        description=spec.description,
        choices=choices,
        minimum=spec.min,
        maximum=spec.max,
        max_length=spec.max_length,
        value=value,
    )


def _shown(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _local_input(value: Scalar, tz: ZoneInfo) -> str:
    """An ISO datetime as a ``datetime-local`` input's value in ``tz``."""
    if not isinstance(value, str):
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return ""


def with_values(form: EventForm, submitted: Mapping[str, str]) -> EventForm:
    """The form showing what was submitted (after a refusal)."""
    fields = tuple(replace(f, value=submitted.get(f.name, "")) for f in form.fields)
    return replace(form, fields=fields)


def parse_submission(
    form: EventForm, submitted: Mapping[str, str], tz: ZoneInfo
) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed data of a submitted form, and the inputs that could not be read.

    Empty inputs are left out (the engine says which of them it needs);
    naive datetimes are read in ``tz``; inputs not in the form are ignored.

    Returns:
        (data, errors): ``errors`` maps a field to why its text is unusable.
    """
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in form.fields:
        text = submitted.get(f.name, "")
        if text == "":
            continue
        try:
            data[f.name] = _typed(f.kind, text, tz)
        except ValueError as exc:
            errors[f.name] = str(exc)
    return data, errors


def _typed(kind: str, text: str, tz: ZoneInfo) -> Scalar | datetime:
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"{text!r:.40} is not a whole number") from None
    if kind == "number":
        try:
            number = float(text.strip())
        except ValueError:
            raise ValueError(f"{text!r:.40} is not a number") from None
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        return number
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("choose yes or no")
        return text == "true"
    if kind == "datetime":
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(f"{text!r:.40} is not a date and time") from None
        return at if at.tzinfo is not None else at.replace(tzinfo=tz)
    return text.replace("\r\n", "\n")
