"""``cswork sample``: draw closed cases at random for review (随机抽查, 000 §7.2)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from cswork.cli._common import DEFAULT_STORE, StoreOption, WorkflowsOption, engine_for
from cswork.cli._tables import console
from cswork.cli.report import ConfigOption, period
from cswork.records import Actor
from cswork.report import load_report_config
from cswork.report.sample import Sampled, sample_cases, start_reviews


class Per(StrEnum):
    """What each draw is per."""

    person = "person"
    unit = "unit"


class Format(StrEnum):
    """Output formats of ``sample``."""

    table = "table"
    json = "json"


def sample(
    store: StoreOption = DEFAULT_STORE,
    per: Annotated[Per, typer.Option(help="Draw per person or per unit.")] = Per.person,
    size: Annotated[int, typer.Option(min=1, max=1000, help="Cases per group.")] = 3,
    seed: Annotated[int, typer.Option(help="Same seed, same sample.")] = 1,
    since: Annotated[
        str | None, typer.Option("--from", help="Cases started from (ISO).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Cases started before (ISO).")
    ] = None,
    month: Annotated[
        str | None, typer.Option(help="Cases started in this month (YYYY-MM).")
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    person: Annotated[str | None, typer.Option(help="Only this person.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    start_review: Annotated[
        bool,
        typer.Option(
            "--start-reviews", help="Start a review case for each (once per case)."
        ),
    ] = False,
    actor: Annotated[
        str | None, typer.Option(help="Who starts the reviews (--start-reviews).")
    ] = None,
    role: Annotated[
        list[str] | None, typer.Option(help="The actor's role (repeatable).")
    ] = None,
    workflows: WorkflowsOption = None,
    config: ConfigOption = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """A reproducible random sample of closed cases per person or unit."""
    who = Actor(actor, role) if actor is not None and role else None
    if start_review and who is None:
        raise typer.BadParameter(
            "--start-reviews needs --actor and --role", param_hint="--start-reviews"
        )
    with engine_for(store, workflows) as engine:
        cfg = load_report_config(config)
        cal = engine.calendars.get(cfg.calendar, engine.calendars["default"])
        start, end = period(since, until, month, cal.tz)
        drawn = sample_cases(
            engine, per=per.value, size=size, seed=seed, since=start, until=end,
            workflow=workflow, person=person, unit=unit, config=cfg,
        )  # fmt: skip
        reviews: dict[str, str | None] = {}
        if who is not None and start_review:
            label = f"seed {seed}, per {per.value}" + (f", {month}" if month else "")
            started = start_reviews(engine, drawn, who, label=label, config=cfg)
            reviews = {s.case_id: rid for s, rid in started}
        if fmt is Format.json:
            typer.echo(json.dumps(_rows(drawn, reviews, start_review), indent=2))
        else:
            table = _table(drawn, reviews, start_review, per.value, seed, cal.tz)
            console().print(table)


def _rows(
    drawn: list[Sampled], reviews: dict[str, str | None], started: bool
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for s in drawn:
        row: dict[str, object] = {
            "group": s.group, "case": s.case_id, "workflow": s.workflow,
            "person": s.person, "unit": s.unit, "outcome": s.outcome,
            "closed_at": s.closed_at.isoformat(),
        }  # fmt: skip
        if started:
            row["review"] = reviews.get(s.case_id)
        rows.append(row)
    return rows


def _table(
    drawn: list[Sampled],
    reviews: dict[str, str | None],
    started: bool,
    per: str,
    seed: int,
    tz: ZoneInfo,
) -> Table:
    table = Table(
        title=f"Sampled for review: {len(drawn)} case(s), per {per}, seed {seed}"
    )
    cols = [per, "case", "workflow", "person", "unit", "outcome", "closed"]
    for col in cols + (["review case"] if started else []):
        table.add_column(col, overflow="fold")
    for s in drawn:
        cells = [s.group, s.case_id, s.workflow, s.person, s.unit, s.outcome,
                 s.closed_at.astimezone(tz).isoformat(timespec="minutes")]  # fmt: skip
        if started:
            cells.append(reviews.get(s.case_id) or "(already under review)")
        table.add_row(*cells)
    return table


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("sample")(sample)
