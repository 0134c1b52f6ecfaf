"""The report configuration: what the workflows' parts mean to a report, and targets.

Nothing in the report is tied to a shipped workflow id or field name: which
workflows are inquiries, complaints or reviews, which data fields hold the
channel, severity, person, unit, type, topic or satisfaction score, which
step tags mean first response, resolve, reopen or a contact attempt, which
final outcomes are good, neutral or bad, and every target, come from here.
The defaults fit the shipped SOPs and cite the seed each target comes from
(docs/indicators.md lists them). A config file overrides any part of them::

    outcomes:
      neutral: [transferred, withdrawn, merged, forwarded]
    repeat_inquiry:
      topic: {orders: product_model}
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from cswork.definition._base import DurationText
from cswork.definition._yaml import read_yaml
from cswork.definition.conditions import Name
from cswork.definition.source import Source
from cswork.durations import parse_duration
from cswork.errors import DefinitionError, Problem

MAX_CONFIG_BYTES = 200_000
_PERCENT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$")


def _number(value: Any) -> Any:
    """``"95%"`` → 0.95; numbers stay as they are."""
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m is None:
            raise ValueError(f"{value!r} is not a number or a percentage like 95%")
        return float(m.group(1)) / 100
    return value


Number = Annotated[float, BeforeValidator(_number)]


def _field_map(value: Any) -> Any:
    """A field name, a list of names, or workflow id → name(s) ("*" for any other)."""
    if value is None:
        return {}
    if isinstance(value, str | list):
        value = {"*": value}
    if not isinstance(value, dict):
        raise ValueError("give a field name, a list of names, or workflow: name(s)")
    return {
        k: [] if v is None else [v] if isinstance(v, str) else v
        for k, v in value.items()
    }


#: Per workflow, the data fields to look in (the first one set wins).
FieldMap = Annotated[dict[str, list[Name]], BeforeValidator(_field_map)]


def fields_for(fmap: dict[str, list[str]], workflow: str) -> list[str]:
    """The fields ``fmap`` names for ``workflow`` (its own entry, else ``*``)."""
    found = fmap.get(workflow)
    return found if found is not None else fmap.get("*", [])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Target(_Model):
    """A target: at least or at most a value (shares as 0.95 or "95%")."""

    at_least: Number | None = None
    at_most: Number | None = None
    source: str = Field(default="", description="The seed the target comes from.")

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("a target has exactly one of 'at_least' and 'at_most'")
        return self

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target (None when there is no value)."""
        if value is None:
            return None
        if self.at_least is not None:
            return value >= self.at_least - 1e-12
        assert self.at_most is not None  # noqa: S101 - the validator ensures one
        return value <= self.at_most + 1e-12


class Workflows(_Model):
    """Which workflows play which part in the report."""

    inquiries: list[Name] = ["inquiry"]
    complaints: list[Name] = ["complaint"]
    reviews: list[Name] = ["review"]
    resolution: list[Name] | None = Field(
        default=None,
        description="Workflows in the resolution rate; null: every workflow "
        "that declares a customer_field (customer-facing ones).",
    )


class Fields(_Model):
    """The data fields that hold each dimension of a case."""

    channel: FieldMap = {"*": ["channel"]}
    severity: FieldMap = {"*": ["severity"]}
    person: FieldMap = {"*": ["owner"]}
    unit: FieldMap = {"*": ["unit", "department"]}
    type: FieldMap = {"*": ["type"]}


class Tags(_Model):
    """Step tags (``tags:`` of a transition) and what they mean to the report."""

    first_response: list[Name] = ["first_response"]
    resolve: list[Name] = ["resolve"]
    reopen: list[Name] = ["reopen"]
    escalation: list[Name] = ["escalation"]
    contact_attempt: list[Name] = ["contact_attempt"]
    contact_made: list[Name] = ["contact_made"]


OutcomeClass = Literal["good", "neutral", "bad"]


class Outcomes(_Model):
    """Final-state outcomes by class; neutral ones leave the resolution rate."""

    good: list[Name] = ["resolved"]
    neutral: list[Name] = ["transferred", "withdrawn", "merged", "duplicate"]
    bad: list[Name] = [
        "cancelled", "rejected", "unresolved", "failed", "abandoned", "unreachable",
    ]  # fmt: skip
    other: OutcomeClass = Field(
        default="neutral",
        description="The class of an outcome listed nowhere (the report notes it).",
    )

    @model_validator(mode="after")
    def _disjoint(self) -> Outcomes:
        seen: dict[str, str] = {}
        for cls in ("good", "neutral", "bad"):
            for name in getattr(self, cls):
                if name in seen:
                    raise ValueError(f"outcome {name!r} is both {seen[name]} and {cls}")
                seen[name] = cls
        return self

    def of(self, outcome: str) -> tuple[OutcomeClass, bool]:
        """The class of ``outcome``, and whether it was listed."""
        for cls in ("good", "neutral", "bad"):
            if outcome in getattr(self, cls):
                return cls, True
        return self.other, False


class ChannelTarget(_Model):
    """The response-time target of one channel."""

    within: DurationText
    basis: Literal["wall", "working"] = "wall"
    share: Number = Field(default=1.0, description="Share required within it.")
    source: str = ""

    def limit(self, day_length: timedelta) -> timedelta:
        """``within`` as a time span in this basis."""
        d = parse_duration(self.within)
        return d.wall() if self.basis == "wall" else d.working(day_length)


_WRITTEN = "000 §2.1: e-mail and online chat answered within one hour (of working time)"


def _channels() -> dict[str, ChannelTarget]:
    phone = ChannelTarget(
        within="30s",
        source="002 §9.1.2 响应时间 ≤ 30 s, per call: 003 铃响三声内必须接起, "
        "000 §2.1 响铃三声内接听",
    )
    written = ChannelTarget(within="1h", basis="working", source=_WRITTEN)
    other = ChannelTarget(
        within="1h",
        basis="working",
        source="default: as e-mail (the seeds name no time for fax and web forms)",
    )
    return {
        "phone": phone, "email": written, "chat": written, "fax": other,
        "web_form": other,
    }  # fmt: skip


class Response(_Model):
    """Response time per channel, over the inquiry workflows."""

    channels: dict[Name, ChannelTarget] = Field(default_factory=_channels)


class FirstContact(_Model):
    """First contact with a complaining customer, per severity."""

    deadlines: list[Name] = [
        "first_contact_general", "first_contact_important", "first_contact_urgent",
    ]  # fmt: skip
    target: Target = Target(
        at_least=1.0,
        source="004 §2.4.2: contact within 24 h (一般), 8 h (紧迫), at once and "
        "at the latest 4 h (非常紧迫)",
    )


def _target(at_least: float | None, at_most: float | None, source: str) -> Any:
    return Field(default=Target(at_least=at_least, at_most=at_most, source=source))


class ComplaintTimeliness(_Model):
    """Share of decided complaints without a missed deadline."""

    target: Target = _target(
        1.0,
        None,
        "000 §7.2 投诉处理及时率 (no figure; 000 §3.1, 004 §2.4.2 set the "
        "deadlines as obligations)",
    )


class Resolution(_Model):
    """Share of good outcomes among good and bad ones."""

    target: Target = _target(0.95, None, "002 §9.1.2 服务解决率 ≥ 95 %")


class Reopen(_Model):
    """Share of resolved cases that were reopened (the seeds set no target)."""

    target: Target | None = None


class RepeatInquiry(_Model):
    """Inquiries repeating one of the same customer about the same topic."""

    topic: FieldMap = {"*": ["topic", "product_model", "question"]}
    window: DurationText = "7d"
    target: Target = _target(None, 0.05, "002 §9.1.2 客户重复咨询率 ≤ 5 %")


class Satisfaction(_Model):
    """Share of satisfied customers among those who gave a score."""

    fields: FieldMap = {
        "complaint": ["satisfaction_score"],
        "return_visit": ["satisfaction_score"],
        "satisfaction_survey": ["satisfaction_score"],
    }
    satisfied_at_least: float = Field(
        default=4, description="A numeric score this high is satisfied (1–5 scale)."
    )
    satisfied_values: list[str] = ["satisfied", "very_satisfied", "满意", "非常满意"]
    target: Target = _target(0.9, None, "002 §9.1.2 客户满意度 ≥ 90 %")


class Productivity(_Model):
    """Cases handled per person per working hour."""

    roles: list[Name] = Field(
        default=["cs_agent"],
        description="Count the steps taken in these roles (empty: every role).",
    )
    target: Target = _target(10, None, "002 §9.1.2 人均每小时处理 ≥ 10 个客户问题")


class Unreached(_Model):
    """Customers not reached in a month (003: listed at the start of the next)."""

    outcomes: list[Name] = ["unreachable", "unreached"]


class Review(_Model):
    """Sampled reviews (000 §2.2 信息审核, §7.2 随机抽查) and their fields."""

    case_field: Name = "reviewed_case_id"
    person_field: Name = "reviewed_person"
    unit_field: Name = "reviewed_unit"
    result_field: Name = "result"
    pass_values: list[str] = ["pass"]
    finding_field: Name = "finding_type"
    target: Target | None = None


class ReportConfig(_Model):
    """Everything a report needs to know beyond the workflows themselves."""

    calendar: Name = Field(
        default="default",
        description="The calendar whose zone the periods use and whose working "
        "hours count a person's working time.",
    )
    lookback: DurationText = Field(
        default="31d",
        description="How far before the period to look for cases that people "
        "worked on during it (productivity, contact attempts).",
    )
    workflows: Workflows = Workflows()
    fields: Fields = Fields()
    tags: Tags = Tags()
    outcomes: Outcomes = Outcomes()
    response: Response = Response()
    first_contact: FirstContact = FirstContact()
    complaint_timeliness: ComplaintTimeliness = ComplaintTimeliness()
    resolution: Resolution = Resolution()
    reopen: Reopen = Reopen()
    repeat_inquiry: RepeatInquiry = RepeatInquiry()
    satisfaction: Satisfaction = Satisfaction()
    productivity: Productivity = Productivity()
    unreached: Unreached = Unreached()
    review: Review = Review()


def parse_report_config(text: str, file: str = "<string>") -> ReportConfig:
    """A report config from YAML (or JSON) text; missing parts keep their defaults.

    Raises:
        DefinitionError: with every problem, at ``file:line:column``.
    """
    data, positions, yaml_problems = read_yaml(text)
    problems = [
        Problem(file, p.line + 1, p.column + 1, p.message, p.hint)
        for p in yaml_problems
    ]
    if problems:
        raise DefinitionError(problems)
    if data is None:
        return ReportConfig()
    if not isinstance(data, dict):
        raise DefinitionError([Problem(file, 1, 1, "a report config is a mapping")])
    try:
        return ReportConfig.model_validate(data)
    except ValidationError as exc:
        source = Source(file, positions)
        raise DefinitionError(
            [_problem(source, err) for err in exc.errors(include_url=False)]
        ) from None


def _problem(source: Source, err: Any) -> Problem:
    loc = [p for p in err["loc"] if not str(p).startswith("function-")]
    where = ".".join(str(p) for p in loc) or "document"
    if err["type"] == "extra_forbidden":
        return source.problem(loc, f"{where}: unknown key {str(loc[-1])!r}", key=True)
    return source.problem(loc, f"{where}: {err['msg'].replace('Value error, ', '')}")


def load_report_config(path: str | os.PathLike[str] | None) -> ReportConfig:
    """The config in a YAML or JSON file, or the defaults when ``path`` is None.

    Raises:
        DefinitionError: the file cannot be read or is invalid.
    """
    if path is None:
        return ReportConfig()
    name = os.fspath(path)
    try:
        if os.path.getsize(name) > MAX_CONFIG_BYTES:
            raise DefinitionError(
                [Problem(name, 1, 1, f"larger than {MAX_CONFIG_BYTES} bytes")]
            )
        with open(name, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(name, 0, 0, f"cannot read: {exc}")]) from exc
    return parse_report_config(text, name)
