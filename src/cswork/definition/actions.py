"""What steps and deadlines do besides moving a case: the actions, and ``assign``.

An action runs when its step is taken (or its deadline falls due), in the
order written, each seeing what the actions before it did: set data, count,
reset a count, notify people, call a hook, fire an event (deadlines only),
start a linked case. ``assign`` (on a step) gives the case an owner or a unit
after the step's actions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from cswork.definition._base import StrictBool, _Model
from cswork.definition.conditions import Condition, Name, coerce_condition, finite

ConditionField = Annotated[
    Condition,
    BeforeValidator(coerce_condition, json_schema_input_type=Condition | str),
]
Scalar: TypeAlias = Annotated[str | int | float | bool | None, BeforeValidator(finite)]

#: Who a notice is for: a role (everyone holding it), ``owner`` (the case's
#: owner) or ``unit:ROLE`` (the holders of ROLE in the case's unit).
RECIPIENT_PATTERN = r"^(owner|unit:[a-z][a-z0-9_]*|[a-z][a-z0-9_]*)$"
Recipient = Annotated[str, Field(pattern=RECIPIENT_PATTERN, max_length=70)]


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


RecipientList = Annotated[
    list[Recipient],
    BeforeValidator(_listify, json_schema_input_type=list[Recipient] | Recipient),
]


class _Action(_Model):
    when: ConditionField | None = Field(
        default=None, description="Only do this when the condition holds."
    )


class Notify(_Action):
    """Tell people: holders of roles, the case's owner, or a role in its unit."""

    notify: RecipientList = Field(
        min_length=1,
        description="Who to tell: role names (everyone holding the role), "
        "'owner' (the case's owner), 'unit:ROLE' (holders of ROLE in the case's "
        "unit).",
    )
    message: str = ""
    at_any_hour: StrictBool = Field(
        default=False,
        description="Deliver at once whatever the hour (very urgent cases, "
        "emergencies); otherwise a notice outside working time waits for the "
        "next working period.",
    )


class SetData(_Action):
    """Set case data fields to fixed values."""

    set: dict[Name, Scalar] = Field(min_length=1)


class Increment(_Action):
    """Add one to a counter."""

    increment: Name


class Reset(_Action):
    """Set a counter back to zero."""

    reset: Name


class Call(_Action):
    """Call an action hook the program registered (after the commit)."""

    call: Name


class Fire(_Action):
    """Fire an event as the system (only in a deadline's ``on_due``)."""

    fire: Name


class CopyFrom(_Model):
    """A copied field that takes another name, or has its values mapped."""

    from_: Name = Field(alias="from", description="The field of this case.")
    map: dict[str, Scalar] = Field(
        default_factory=dict,
        description="This case's values → the new case's values (others pass as "
        "they are).",
    )


class StartCase(_Action):
    """Start a linked case of another workflow, in the same step."""

    start_case: Name = Field(description="The workflow to start.")
    copy_fields: list[Name] | dict[Name, Name | CopyFrom] = Field(
        default_factory=list,
        alias="copy",
        description="Fields the new case starts with: a list (same names in "
        "both) or a mapping new field → this case's field, or → {from, map}.",
    )
    link: Name | None = Field(
        default=None, description="Field of the new case that gets this case's id."
    )
    back_link: Name | None = Field(
        default=None, description="Field of this case that gets the new case's id."
    )
    keep_start: bool = Field(
        default=False,
        description="The new case was accepted when this one was: its "
        "'from: start' deadlines count from this case's acceptance (an inquiry "
        "converted into a complaint keeps the time the customer first called).",
    )

    def copies(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(new case's field, this case's field, value map) for each copied field."""
        if isinstance(self.copy_fields, list):
            return [(name, name, {}) for name in self.copy_fields]
        out: list[tuple[str, str, dict[str, Any]]] = []
        for target, source in self.copy_fields.items():
            if isinstance(source, CopyFrom):
                out.append((target, source.from_, dict(source.map)))
            else:
                out.append((target, source, {}))
        return out


_ACTION_KEYS = ("notify", "set", "increment", "reset", "call", "fire", "start_case")
_ACTION_TYPES: dict[type, str] = {
    Notify: "notify",
    SetData: "set",
    Increment: "increment",
    Reset: "reset",
    Call: "call",
    Fire: "fire",
    StartCase: "start_case",
}


def _action_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((k for k in _ACTION_KEYS if k in value), None)
    return _ACTION_TYPES.get(type(value))


Action: TypeAlias = Annotated[
    Annotated[Notify, Tag("notify")]
    | Annotated[SetData, Tag("set")]
    | Annotated[Increment, Tag("increment")]
    | Annotated[Reset, Tag("reset")]
    | Annotated[Call, Tag("call")]
    | Annotated[Fire, Tag("fire")]
    | Annotated[StartCase, Tag("start_case")],
    Discriminator(
        _action_tag,
        custom_error_type="action",
        custom_error_message=(
            "an action is a mapping with one of: notify, set, increment, reset, "
            "call, fire, start_case"
        ),
    ),
]


class FromField(_Model):
    """A value taken from a field of the case (after the step's data and actions)."""

    field: Name


class Assign(_Model):
    """Who owns the case, and which unit is responsible, after a step.

    A key left out keeps the current value; ``null`` clears it (hands the
    case back).
    """

    owner: Literal["actor"] | FromField | None = Field(
        default=None,
        description="'actor' (the person taking the step), {field: NAME} (a "
        "person named in the case's data), or null (nobody: handed back).",
    )
    unit: FromField | Name | None = Field(
        default=None,
        description="{field: NAME} (e.g. the department the case was routed "
        "to), a unit id, or null.",
    )

    @model_validator(mode="after")
    def _something(self) -> Assign:
        if not self.model_fields_set:
            raise ValueError("assign names 'owner', 'unit' or both")
        return self

    def gives(self) -> list[tuple[str, Literal["actor"] | FromField | str | None]]:
        """(owner|unit, what it becomes) for the keys written."""
        return [
            (key, getattr(self, key))
            for key in ("owner", "unit")
            if key in self.model_fields_set
        ]
