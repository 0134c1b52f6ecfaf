"""Random sampling of closed cases for review (随机抽查, 000 §7.2).

``sample_cases`` draws up to ``size`` closed cases per person (or unit) with
a seeded reservoir per group: the same store, period and seed give the same
sample, and memory holds only the sample. ``start_reviews`` starts one case
of the review workflow (workflows/review.yaml) per sampled case, once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cswork.engine import Engine
from cswork.records import Actor
from cswork.report.config import ReportConfig
from cswork.report.facts import UNKNOWN, case_facts
from cswork.report.read import PAGE, stream
from cswork.report.view import WorkflowView

Per = Literal["person", "unit"]


@dataclass(frozen=True, slots=True)
class Sampled:
    """One case drawn for review.

    Attributes:
        group: the person or unit it was drawn for.
        case_id: the case.
        workflow: its workflow.
        person: its person (as the report attributes it).
        unit: its unit.
        outcome: how it ended.
        closed_at: when it closed (its last change).
    """

    group: str
    case_id: str
    workflow: str
    person: str
    unit: str
    outcome: str
    closed_at: datetime


def sample_cases(
    engine: Engine,
    *,
    per: Per = "person",
    size: int = 3,
    seed: int = 1,
    since: datetime | None = None,
    until: datetime | None = None,
    workflow: str | None = None,
    person: str | None = None,
    unit: str | None = None,
    config: ReportConfig | None = None,
    page: int = PAGE,
) -> list[Sampled]:
    """Up to ``size`` closed cases per person or unit, drawn at random.

    Cases started in ``[since, until)`` and closed are eligible (review
    cases themselves are not). Each group draws with its own generator
    seeded by ``seed`` and the group's name, so adding a person does not
    change the others' samples.

    Returns:
        The sample by group, each group's cases in start order.

    Raises:
        ValueError: ``size`` is not positive.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    cfg = config or ReportConfig()
    views: dict[tuple[str, int], WorkflowView] = {}
    drawn: dict[str, list[tuple[int, Sampled]]] = {}
    seen: dict[str, int] = {}
    rngs: dict[str, random.Random] = {}
    now = engine.clock.now()
    for case, history in stream(
        engine.store,
        workflow=workflow,
        created_from=since,
        created_before=until,
        closed=True,
        page=page,
    ):
        if case.workflow_id in cfg.workflows.reviews:
            continue
        key = (case.workflow_id, case.workflow_version)
        view = views.get(key)
        if view is None:
            wf = engine.definition(*key)
            cal = engine.calendars.get(wf.calendar, engine.calendars["default"])
            view = views[key] = WorkflowView(wf, cfg, cal)
        f = case_facts(case, history, view, now)
        if (person is not None and f.person != person) or (
            unit is not None and f.unit != unit
        ):
            continue
        group = f.person if per == "person" else f.unit
        item = Sampled(
            group, case.id, case.workflow_id, f.person, f.unit,
            f.outcome or case.state, case.updated_at,
        )  # fmt: skip
        n = seen.get(group, 0)
        seen[group] = n + 1
        bucket = drawn.setdefault(group, [])
        if n < size:
            bucket.append((n, item))
            continue
        rng = rngs.get(group)
        if rng is None:
            rng = rngs[group] = random.Random(f"{seed}:{group}")  # noqa: S311 - reproducible, not secret
        j = rng.randrange(n + 1)  # reservoir sampling (Algorithm R)
        if j < size:
            bucket[j] = (n, item)
    return [item for g in sorted(drawn) for _, item in sorted(drawn[g])]


def start_reviews(
    engine: Engine,
    sample: list[Sampled],
    actor: Actor,
    *,
    label: str = "",
    config: ReportConfig | None = None,
) -> list[tuple[Sampled, str | None]]:
    """Start one review case per sampled case that has none yet.

    Returns:
        Each sampled case with the id of the review started for it, or
        None when a review of it already existed.

    Raises:
        UnknownWorkflowError: no review workflow is loaded.
        RejectedError: the actor may not start reviews (nothing is started
            after the refusal).
    """
    cfg = config or ReportConfig()
    review = cfg.review
    wf_id = next(
        (w for w in cfg.workflows.reviews if w in engine.workflows),
        cfg.workflows.reviews[0] if cfg.workflows.reviews else "review",
    )
    wf = engine.definition(wf_id)
    reviewed = {c.data.get(review.case_field) for c in engine.query(workflow=wf_id)}
    out: list[tuple[Sampled, str | None]] = []
    for s in sample:
        if s.case_id in reviewed:
            out.append((s, None))
            continue
        data = {
            review.case_field: s.case_id,
            "reviewed_workflow": s.workflow,
            review.person_field: s.person,
            review.unit_field: s.unit,
            "sample": label,
        }
        given = {k: v for k, v in data.items() if k in wf.fields and v and v != UNKNOWN}
        case = engine.start(wf_id, actor, given)
        reviewed.add(s.case_id)
        out.append((s, case.id))
    return out
