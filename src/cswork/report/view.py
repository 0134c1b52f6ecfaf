"""What one workflow version means to the report, worked out once per version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from cswork.calendar import WorkingCalendar
from cswork.definition.model import Workflow
from cswork.records import HistoryEntry, Scalar
from cswork.report.config import OutcomeClass, ReportConfig, fields_for

NO_TAGS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Step:
    """What a step's tags mean to the report (worked out once per kind of step)."""

    first_response: bool = False
    resolve: bool = False
    reopen: bool = False
    escalation: bool = False
    attempt: bool = False
    reached: bool = False


PLAIN = Step()


class WorkflowView:
    """One workflow version through the report config's eyes.

    Attributes:
        id: the workflow id.
        wf: the definition.
        calendar: the calendar its deadlines use (its zone dates its cases).
        inquiry, complaint, review: the part it plays (``workflows`` config).
        in_resolution: whether its closed cases count in the resolution rate.
        first_contact: its deadlines that are first-contact deadlines.
    """

    def __init__(
        self, wf: Workflow, cfg: ReportConfig, calendar: WorkingCalendar
    ) -> None:
        self.id = wf.workflow
        self.wf = wf
        self.cfg = cfg
        self.calendar = calendar
        self.tz: ZoneInfo = calendar.tz
        roles = cfg.workflows
        self.inquiry = self.id in roles.inquiries
        self.complaint = self.id in roles.complaints
        self.review = self.id in roles.reviews
        self.in_resolution = (
            wf.customer_field is not None
            if roles.resolution is None
            else self.id in roles.resolution
        )
        f = cfg.fields
        self.channel_fields = fields_for(f.channel, self.id)
        self.severity_fields = fields_for(f.severity, self.id)
        self.person_fields = fields_for(f.person, self.id)
        self.unit_fields = fields_for(f.unit, self.id)
        self.type_fields = fields_for(f.type, self.id)
        self.topic_fields = fields_for(cfg.repeat_inquiry.topic, self.id)
        self.score_fields = fields_for(cfg.satisfaction.fields, self.id)
        if self.review:
            self.person_fields = [cfg.review.person_field]
            self.unit_fields = [cfg.review.unit_field]
        self.first_contact = {
            name: frozenset(wf.deadlines[name].met_by)
            for name in cfg.first_contact.deadlines
            if name in wf.deadlines
        }
        self.outcomes = {
            name: s.outcome or name for name, s in wf.states.items() if s.final
        }
        self.day_length: timedelta = calendar.day_length
        self.limits = {
            ch: t.limit(self.day_length) for ch, t in cfg.response.channels.items()
        }
        self._tags: dict[tuple[str, str | None, str], frozenset[str]] = {}
        self._steps: dict[tuple[str, str | None, str], Step] = {}
        self._roles = frozenset(cfg.productivity.roles)
        self._counted: dict[tuple[str, ...], bool] = {}

    def tags(self, h: HistoryEntry) -> frozenset[str]:
        """The tags of the transition an event entry took (empty for others)."""
        if h.kind != "event":
            return NO_TAGS
        key = (h.event, h.from_state, h.to_state)
        found = self._tags.get(key)
        if found is None:
            found = self._tags[key] = frozenset(
                tag
                for t in self.wf.transitions
                if t.event == h.event
                and (h.from_state in t.from_ or "*" in t.from_)
                and (t.to or h.from_state) == h.to_state
                for tag in t.tags
            )
        return found

    def step(self, h: HistoryEntry) -> Step:
        """What the step of an event entry means (``PLAIN`` for untagged ones)."""
        key = (h.event, h.from_state, h.to_state)
        found = self._steps.get(key)
        if found is None:
            tags, meaning = self.tags(h), self.cfg.tags
            found = self._steps[key] = (
                Step(
                    first_response=bool(tags.intersection(meaning.first_response)),
                    resolve=bool(tags.intersection(meaning.resolve)),
                    reopen=bool(tags.intersection(meaning.reopen)),
                    escalation=bool(tags.intersection(meaning.escalation)),
                    attempt=bool(tags.intersection(meaning.contact_attempt)),
                    reached=bool(tags.intersection(meaning.contact_made)),
                )
                if tags
                else PLAIN
            )
        return found

    def counted(self, roles: tuple[str, ...]) -> bool:
        """Whether a step taken in these roles counts as work (``productivity.roles``)."""
        found = self._counted.get(roles)
        if found is None:
            found = self._counted[roles] = not self._roles or bool(
                self._roles.intersection(roles)
            )
        return found

    def outcome(self, state: str) -> tuple[str, OutcomeClass, bool]:
        """A final state's outcome, its class, and whether the class was declared."""
        outcome = self.outcomes.get(state, state)
        # The SOP's own word first (its workflow-level ``outcomes:``), then
        # the report configuration's classes.
        declared = self.wf.outcomes.get(outcome)
        if declared is not None:
            return outcome, declared, True
        cls, listed = self.cfg.outcomes.of(outcome)
        return outcome, cls, listed


def first_value(data: Mapping[str, Scalar], names: list[str]) -> str | None:
    """The first of ``names`` set in ``data``, as text (None if none is)."""
    for name in names:
        value = data.get(name)
        if value is not None and value != "":
            return value if isinstance(value, str) else str(value)
    return None
