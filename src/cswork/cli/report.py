"""``cswork report``: the quality indicators (docs/indicators.md) from a store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from cswork.cli._common import DEFAULT_STORE, StoreOption, WorkflowsOption, engine_for
from cswork.cli._tables import console
from cswork.report import build_report, load_report_config
from cswork.report.text import header, report_csv, report_json, report_tables


class Format(StrEnum):
    """Output formats of ``report``."""

    table = "table"
    csv = "csv"
    json = "json"


class Cut(StrEnum):
    """The groups ``--by`` can repeat the indicators for (``cuts.CUTS``)."""

    day = "day"
    week = "week"
    month = "month"
    workflow = "workflow"
    person = "person"
    unit = "unit"
    severity = "severity"
    channel = "channel"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="CSWORK_REPORT_CONFIG",
        help="Report config (YAML or JSON): fields, tags, outcome classes, targets.",
    ),
]


def moment(text: str | None, option: str, tz: ZoneInfo) -> datetime | None:
    """An ISO date or datetime; naive ones are in ``tz``."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date or datetime", param_hint=option
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def month_bounds(text: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of the month ``YYYY-MM`` and of the next one, in ``tz``."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a month (YYYY-MM)", param_hint="--month"
        ) from None
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        datetime(first.year, first.month, 1, tzinfo=tz),
        datetime(nxt.year, nxt.month, 1, tzinfo=tz),
    )


def period(
    since: str | None, until: str | None, month: str | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The period from ``--from``/``--to`` or ``--month``."""
    if month is not None:
        if since is not None or until is not None:
            raise typer.BadParameter(
                "give either --month or --from/--to", param_hint="--month"
            )
        return month_bounds(month, tz)
    return moment(since, "--from", tz), moment(until, "--to", tz)


@contextmanager
def progress_bar(out: Console, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A progress callback that shows a bar once a second has passed (TTY only)."""
    began = time.perf_counter()
    bar: Progress | None = None
    task = None

    def tick(done: int) -> None:
        nonlocal bar, task
        if not enabled:
            return
        if bar is None:
            if time.perf_counter() - began < 1.0:
                return
            bar = Progress(
                SpinnerColumn(),
                TextColumn("reading cases: {task.completed:,}"),
                console=out,
                transient=True,
            )
            bar.start()
            task = bar.add_task("report", total=None)
        assert task is not None  # noqa: S101 - set with the bar
        bar.update(task, completed=done)

    try:
        yield tick
    finally:
        if bar is not None:
            bar.stop()


def report(
    store: StoreOption = DEFAULT_STORE,
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
    person: Annotated[
        str | None,
        typer.Option(help="One person's figures (default period: this month)."),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    severity: Annotated[str | None, typer.Option(help="Only this severity.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    by: Annotated[
        list[Cut] | None,
        typer.Option("--by", help="Repeat the indicators per value (repeatable)."),
    ] = None,
    workflows: WorkflowsOption = None,
    config: ConfigOption = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    as_json: Annotated[
        bool, typer.Option("--json", help="Same as --format json.")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Also write the charts to this HTML file (needs the 'report' extra)."
        ),
    ] = None,
) -> None:
    """Quality indicators against their targets, per period, person, unit, channel."""
    fmt = Format.json if as_json else fmt
    with engine_for(store, workflows) as engine:
        cfg = load_report_config(config)
        cal = engine.calendars.get(cfg.calendar, engine.calendars["default"])
        start, end = period(since, until, month, cal.tz)
        if person is not None and start is None and end is None:
            this = engine.clock.now().astimezone(cal.tz).strftime("%Y-%m")
            start, end = month_bounds(this, cal.tz)
        cuts = list(dict.fromkeys(["week", "person", *(c.value for c in by or [])]))
        out = console()
        with progress_bar(out, fmt is Format.table and out.is_terminal) as tick:
            result = build_report(
                engine,
                since=start,
                until=end,
                workflow=workflow,
                person=person,
                unit=unit,
                severity=severity,
                channel=channel,
                cuts=cuts,
                config=cfg,
                progress=tick,
            )
        if html is not None:
            from cswork.report.html import write_html

            write_html(result, html)
        if fmt is Format.json:
            typer.echo(report_json(result))
        elif fmt is Format.csv:
            typer.echo(report_csv(result), nl=False)
        else:
            out.print(header(result))
            for table in report_tables(result):
                out.print(table)
            for note in result.notes:
                out.print(f"note: {note}")
        if html is not None:
            typer.echo(f"wrote {html}", err=True)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("report")(report)
