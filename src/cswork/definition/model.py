"""The YAML format, as pydantic models. Field names are the YAML keys.

Two kinds of document exist: a workflow (top-level key ``workflow``) and a
calendar (top-level key ``calendar``). The models check the shape of each
document; ``checks.py`` checks how its parts refer to each other.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cswork.definition._base import Count, StrictBool, _Model
from cswork.definition.actions import (
    Action,
    Assign,
    Call,
    ConditionField,
    CopyFrom,
    Fire,
    FromField,
    Increment,
    Notify,
    Reset,
    Scalar,
    SetData,
    StartCase,
)
from cswork.definition.calendar_model import CalendarDef
from cswork.definition.conditions import NAME_PATTERN, FiniteFloat, Name
from cswork.definition.deadline_model import Deadline, FromEvent, OffHours, Warn
from cswork.definition.slips import name_hint
from cswork.hints import Refusal

#: Steps (a transition times the states it leaves from) a workflow may have.
MAX_STEPS = 100_000
MAX_VERSION = 2**31 - 1  # what every store's integer column holds


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


NameList = Annotated[
    list[Name], BeforeValidator(_listify, json_schema_input_type=list[Name] | Name)
]


# ------------------------------------------------------------------ fields
FieldType = Literal["string", "integer", "number", "boolean", "enum", "datetime"]


class DataField(_Model):
    """A piece of case data that steps may set."""

    type: FieldType = Field(description="The value type.")
    description: str = Field(default="", description="What the field holds.")
    values: list[str] | None = Field(
        default=None, description="The allowed values (enum fields only)."
    )
    min: FiniteFloat | None = Field(
        default=None, description="Smallest number allowed."
    )
    max: FiniteFloat | None = Field(default=None, description="Largest number allowed.")
    max_length: Count = Field(
        default=2000, ge=1, le=1_000_000, description="Longest string allowed."
    )

    @model_validator(mode="after")
    def _enum_has_values(self) -> DataField:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum field needs a non-empty 'values' list")
        if self.type != "enum" and self.values is not None:
            raise ValueError("'values' is only for enum fields")
        if (self.min is not None or self.max is not None) and self.type not in (
            "integer",
            "number",
        ):
            raise ValueError("'min'/'max' are only for integer and number fields")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is larger than 'max' ({self.max})")
        return self


class Counter(_Model):
    """A number kept with the case, changed only by ``increment`` actions."""

    description: str = ""


class State(_Model):
    """A state a case can be in."""

    description: str = ""
    initial: StrictBool = Field(
        default=False, description="Cases start here (exactly one)."
    )
    final: StrictBool = Field(default=False, description="The case is closed here.")
    outcome: Name | None = Field(
        default=None,
        description="For final states, how the case ended (e.g. resolved), "
        "used by reports.",
    )
    waits: Literal["customer"] | None = Field(
        default=None,
        description="The case waits for the customer here; a deadline watching "
        "the state is its reminder.",
    )
    unbounded: str | None = Field(
        default=None,
        description="Why the case may stay here without a deadline watching it.",
    )
    unowned: str | None = Field(
        default=None,
        description="Why the case may be here without an owner (e.g. a queue).",
    )

    @model_validator(mode="after")
    def _not_both(self) -> State:
        if self.initial and self.final:
            raise ValueError("a state cannot be both initial and final")
        if self.outcome and not self.final:
            raise ValueError("only final states have an 'outcome'")
        if self.final and (self.waits or self.unbounded or self.unowned):
            raise ValueError("a final state waits for nothing")
        return self


# ------------------------------------------------------------- transitions
class Start(_Model):
    """Who may start a case and what data a case starts with."""

    roles: NameList = Field(min_length=1)
    requires: NameList = Field(default_factory=list)
    optional: NameList = Field(default_factory=list)
    requires_when: dict[Name, ConditionField] = Field(
        default_factory=dict,
        description="Fields required only when their condition holds.",
    )
    when: ConditionField | None = Field(
        default=None, description="A case may start only if this holds."
    )
    actions: list[Action] = Field(default_factory=list)
    assign: Assign | None = Field(
        default=None, description="The new case's owner and unit."
    )


class Transition(_Model):
    """One allowed step: an event that moves a case between states."""

    event: Name = Field(description="The event name used to fire this step.")
    from_: Annotated[
        list[str], BeforeValidator(_listify, json_schema_input_type=list[str] | str)
    ] = Field(
        alias="from",
        min_length=1,
        description="The state(s) it may be fired from; '*' for any non-final.",
    )
    to: Name | None = Field(
        default=None, description="The state it leads to (omit to stay)."
    )
    roles: NameList = Field(min_length=1, description="Roles allowed to fire it.")
    requires: NameList = Field(
        default_factory=list, description="Fields that must be given with it."
    )
    optional: NameList = Field(
        default_factory=list, description="Fields that may be given with it."
    )
    requires_when: dict[Name, ConditionField] = Field(
        default_factory=dict,
        description="Fields required only when their condition holds (on the "
        "case's data merged with the step's).",
    )
    when: ConditionField | None = Field(
        default=None, description="The step is allowed only if this holds."
    )
    only: Literal["owner", "unit"] | None = Field(
        default=None,
        description="Besides a role: only the case's owner, or only members of "
        "the case's unit, may take the step.",
    )
    actions: list[Action] = Field(default_factory=list)
    assign: Assign | None = Field(
        default=None,
        description="After the actions: who owns the case and which unit is "
        "responsible.",
    )
    tags: NameList = Field(
        default_factory=list,
        description="Labels for reports: first_response, reopen, resolve, ...",
    )
    description: str = ""

    @field_validator("from_")
    @classmethod
    def _states_or_star(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*" and not re.match(NAME_PATTERN, item):
                raise Refusal(f"{item!r} is not a state name", name_hint(item))
        return value


# ---------------------------------------------------------------- workflow
class Workflow(_Model):
    """One SOP: its roles, data, states, transitions and deadlines."""

    workflow: Name = Field(description="The workflow id.")
    version: Count = Field(
        ge=1, le=MAX_VERSION, description="Bump it for every change."
    )
    title: str = Field(min_length=1)
    description: str = ""
    calendar: Name = Field(
        default="default", description="Calendar for working-time deadlines."
    )
    customer_field: Name | None = Field(
        default="customer_id",
        description="The field that identifies the customer (for queries).",
    )
    owner_field: Name | None = Field(
        default=None,
        description="The field holding the person who owns a case (for queues); "
        "default: 'owner' when the workflow declares such a field.",
    )
    unit_field: Name | None = Field(
        default=None,
        description="The field holding the unit responsible for a case; default: "
        "'unit' when the workflow declares such a field.",
    )
    roles: dict[Name, str] = Field(
        min_length=1, description="Role id → what people in it do."
    )
    on_call: NameList = Field(
        default_factory=list,
        description="Roles told as well when a notice that cannot wait goes out "
        "outside working time.",
    )
    outcomes: dict[Name, Literal["good", "neutral", "bad"]] = Field(
        default_factory=dict,
        description="How reports count each final outcome (default: resolved is "
        "good; transferred, withdrawn and merged neutral; others bad).",
    )
    fields: dict[Name, DataField] = Field(default_factory=dict)
    counters: dict[Name, Counter] = Field(default_factory=dict)
    states: dict[Name, State] = Field(min_length=2)
    start: Start
    transitions: list[Transition] = Field(min_length=1)
    deadlines: dict[Name, Deadline] = Field(default_factory=dict)

    @field_validator("transitions")
    @classmethod
    def _bounded_steps(
        cls, value: list[Transition], info: ValidationInfo
    ) -> list[Transition]:
        # The engine builds one step per (source state, transition), '*'
        # expanded to every non-final state: bound that product, which the
        # file size alone does not.
        states = info.data.get("states")
        if not isinstance(states, dict):
            return value
        open_states = sum(1 for s in states.values() if not s.final)
        steps = sum(open_states if "*" in t.from_ else len(t.from_) for t in value)
        if steps > MAX_STEPS:
            raise ValueError(
                f"the transitions make {steps:,} steps (one per state they leave "
                f"from, '*' counting every non-final state); at most {MAX_STEPS:,} "
                "are allowed: split the workflow, or use fewer '*' transitions"
            )
        return value

    def people_fields(self) -> tuple[str | None, str | None]:
        """The owner and unit fields (declared, or the fields named so)."""
        owner = self.owner_field or ("owner" if "owner" in self.fields else None)
        unit = self.unit_field or ("unit" if "unit" in self.fields else None)
        return owner, unit

    def initial_state(self) -> str:
        """The state cases start in (the checks guarantee there is one)."""
        return next(name for name, s in self.states.items() if s.initial)


Document: TypeAlias = Workflow | CalendarDef

__all__ = [
    "Action",
    "Assign",
    "CalendarDef",
    "Call",
    "ConditionField",
    "CopyFrom",
    "Counter",
    "DataField",
    "Deadline",
    "Document",
    "Fire",
    "FromEvent",
    "FromField",
    "Increment",
    "Notify",
    "OffHours",
    "Reset",
    "Scalar",
    "SetData",
    "Start",
    "StartCase",
    "State",
    "Transition",
    "Warn",
    "Workflow",
]
