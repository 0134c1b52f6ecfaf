"""``cswork report``: the quality indicators of sop-spec.md from a store."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from cswork.cli._common import DEFAULT_STORE, StoreOption, WorkflowsOption, engine_for
from cswork.cli._tables import LOCAL, console, print_report, report_csv, report_json
from cswork.report import build_report


class Format(StrEnum):
    """Output formats of ``report``."""

    table = "table"
    csv = "csv"
    json = "json"


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date or datetime", param_hint=option
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def report(
    store: StoreOption = DEFAULT_STORE,
    since: Annotated[
        str | None, typer.Option("--from", help="Cases started from (ISO).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Cases started before (ISO).")
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    workflows: WorkflowsOption = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Quality indicators from case histories: timeliness, resolution, reopens."""
    start, end = _moment(since, "--from"), _moment(until, "--to")
    with engine_for(store, workflows) as engine:
        result = build_report(engine, since=start, until=end, workflow=workflow)
        if fmt is Format.json:
            typer.echo(report_json(result))
        elif fmt is Format.csv:
            typer.echo(report_csv(result), nl=False)
        else:
            print_report(console(), result)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("report")(report)
