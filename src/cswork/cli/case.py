"""``cswork case start|fire|show|list|history``: work with cases in a store.

Read commands (``show``, ``list``, ``history``) open the store read-only:
a missing SQLite file is a usage error, never a new empty database.
"""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cswork.cli._common import (
    DEFAULT_STORE,
    Format,
    FormatOption,
    StoreOption,
    TzOption,
    WorkflowsOption,
    engine_for,
    fail,
    zone,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from cswork.engine import Engine
    from cswork.records import Actor, Case

app = typer.Typer(
    help="Start cases, fire events, and look at cases in a store.", no_args_is_help=True
)


class ListFormat(StrEnum):
    """Output formats of ``case list``."""

    text = "text"
    json = "json"
    ndjson = "ndjson"


class Sort(StrEnum):
    """What ``case list`` sorts by."""

    created = "created"
    due = "due"
    updated = "updated"


ActorOption = Annotated[str, typer.Option("--actor", help="Who takes the step.")]
RoleOption = Annotated[
    list[str], typer.Option("--role", help="A role of the actor (repeatable).")
]
UnitOption = Annotated[
    list[str] | None,
    typer.Option("--unit", help="A unit the actor belongs to (repeatable)."),
]
DataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--data",
        "-d",
        help="KEY=VALUE (repeatable; VALUE parsed as JSON if "
        "it can be), or one JSON object.",
    ),
]


def parse_data(items: list[str] | None) -> dict[str, Any]:
    """``--data`` options as a mapping."""
    data: dict[str, Any] = {}
    for item in items or []:
        if item.lstrip().startswith("{"):
            try:
                obj = json.loads(item)
            except json.JSONDecodeError as exc:
                raise typer.BadParameter(f"not a JSON object: {exc}") from None
            if not isinstance(obj, dict):
                raise typer.BadParameter("--data JSON must be an object")
            data.update(obj)
            continue
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r}: use KEY=VALUE")
        try:
            data[key] = json.loads(raw)
        except json.JSONDecodeError:
            data[key] = raw
    return data


def _actor(actor: str, role: list[str], unit: list[str] | None) -> Actor:
    from cswork.records import Actor

    return Actor(actor, role, unit or ())


@app.command("start")
def start(
    workflow: Annotated[str, typer.Argument(help="The workflow id.")],
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption = None,
    data: DataOption = None,
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
    tz: TzOption = None,
) -> None:
    """Start a case (creates the store file if it does not exist)."""
    payload = parse_data(data)
    with engine_for(store, workflows, create=True) as engine:
        case = engine.start(workflow, _actor(actor, role, unit), payload)
        _print_case(engine, case.id, fmt, tz)


@app.command("fire")
def fire(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    event: Annotated[str, typer.Argument(help="The event to fire.")],
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption = None,
    data: DataOption = None,
    expected_version: Annotated[
        int | None,
        typer.Option(
            "--expected-version", min=1, help="Refuse unless the case is at it."
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
    tz: TzOption = None,
) -> None:
    """Fire an event on a case; a refusal prints why and the events allowed now."""
    payload = parse_data(data)
    with engine_for(store, workflows) as engine:
        engine.fire(
            case_id,
            event,
            _actor(actor, role, unit),
            payload,
            expected_version=expected_version,
        )
        _print_case(engine, case_id, fmt, tz)


@app.command("show")
def show(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
    tz: TzOption = None,
) -> None:
    """Show a case: state, data, linked cases, pending deadlines, allowed events."""
    with engine_for(store, workflows) as engine:
        _print_case(engine, case_id, fmt, tz)


def _print_case(engine: Engine, case_id: str, fmt: Format, tz: str | None) -> None:
    from cswork.cli._json import dumps
    from cswork.cli._tables import console

    case = engine.get(case_id)
    timers = engine.timers(case_id)
    allowed = engine.allowed_events(case_id)
    links = engine.links(case_id)
    if fmt is Format.json:
        shown = {"case": case, "timers": timers, "allowed_events": allowed}
        typer.echo(dumps({**shown, "links": links}))
        return
    local = zone(engine, tz, case.workflow_id)
    out = console()
    out.print(f"[bold]{case.workflow_id}[/] v{case.workflow_version} case {case.id}")
    out.print(
        f"  state: [bold]{case.state}[/]{' (closed)' if case.closed else ''}; "
        f"{case.version} steps; {case.breaches} missed deadline(s)"
    )
    out.print(f"  customer: {case.customer}")
    if case.owner or case.unit:
        out.print(f"  owner: {case.owner or '—'}; unit: {case.unit or '—'}")
    for k, v in case.data.items():
        out.print(f"  {k}: {v}")
    for k, v in case.counters.items():
        out.print(f"  {k} (counter): {v}")
    for link in links:
        how = "started from" if link.kind == "started_from" else "started"
        what = f"{link.workflow_id} case" if link.workflow_id else "case"
        where = f" (field {link.field})" if link.field else ""
        out.print(f"  link: {how} {what} {link.case_id}{where}")
    for t in timers:
        out.print(
            f"  pending: {t.deadline} ({t.kind}) due "
            f"{t.due_at.astimezone(local):%a %Y-%m-%d %H:%M %z}"
        )
    out.print(f"  events now: {', '.join(allowed) or '—'}")


def _check_names(engine: Engine, workflow: str | None, state: str | None) -> None:
    """An unknown workflow or state is a usage error, not an empty list."""
    import difflib

    known = engine.workflows
    if workflow is not None and workflow not in known:
        close = difflib.get_close_matches(workflow, list(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise fail(
            f"no workflow {workflow!r}{hint}; loaded: {', '.join(sorted(known))}", 2
        )
    if state is None:
        return
    states = {
        s
        for w in ([workflow] if workflow else known)
        for s in engine.definition(w).states
    }
    if state not in states:
        close = difflib.get_close_matches(state, sorted(states), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f"workflow {workflow!r}" if workflow else "any loaded workflow"
        raise fail(f"no state {state!r} in {where}{hint}", 2)


def _within(text: str | None) -> timedelta | None:
    """``--due-within 2h`` as a timedelta (a day is 24 hours)."""
    if text is None:
        return None
    from cswork.durations import parse_duration

    try:
        return parse_duration(text).wall()
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--due-within") from None


@app.command("list")
def list_cases(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="Only cases this person owns.")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Only cases of this unit.")] = None,
    unassigned: Annotated[
        bool | None,
        typer.Option("--unassigned/--assigned", help="Without or with an owner."),
    ] = None,
    closed: Annotated[
        bool | None, typer.Option("--closed/--open", help="Closed or open.")
    ] = None,
    breached: Annotated[
        bool | None,
        typer.Option("--breached/--on-time", help="With or without a missed deadline."),
    ] = None,
    due_within: Annotated[
        str | None,
        typer.Option(help="Only cases with a deadline due within this (e.g. 2h)."),
    ] = None,
    sort: Annotated[Sort, typer.Option(help="created, due or updated.")] = Sort.created,
    newest: Annotated[
        bool, typer.Option("--newest", help="Newest (or latest due) first.")
    ] = False,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 100,
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: Annotated[
        ListFormat,
        typer.Option("--format", help="text, json or ndjson (one per line)."),
    ] = ListFormat.text,
    tz: TzOption = None,
) -> None:
    """List cases: one page, with the total that match."""
    within = _within(due_within)
    with engine_for(store, workflows) as engine:
        _check_names(engine, workflow, state)
        filters: dict[str, Any] = {
            "workflow": workflow,
            "state": state,
            "customer": customer,
            "owner": owner,
            "unit": unit,
            "assigned": None if unassigned is None else not unassigned,
            "closed": closed,
            "breached": breached,
            "due_before": None if within is None else engine.clock.now() + within,
        }
        total = engine.count(**filters)
        cases = engine.query(
            **filters,
            order=sort.value,
            descending=newest,
            offset=offset,
            limit=limit,
        )
        _print_list(engine, cases, total, offset, fmt, tz)


def _print_list(
    engine: Engine,
    cases: list[Case],
    total: int,
    offset: int,
    fmt: ListFormat,
    tz: str | None,
) -> None:
    from cswork.cli._json import dumps, line

    if fmt is ListFormat.ndjson:
        for c in cases:
            typer.echo(line(c))
        return
    if fmt is ListFormat.json:
        typer.echo(dumps({"total": total, "offset": offset, "cases": cases}))
        return
    local: ZoneInfo = zone(engine, tz)
    shown = f"{offset + 1}–{offset + len(cases)}" if cases else "none"
    typer.echo(f"{total:,} case(s) match; showing {shown}")
    for c in cases:
        due = c.next_due_at
        when = f"due {due.astimezone(local):%m-%d %H:%M}" if due else "nothing due"
        typer.echo(
            f"{c.id}  {c.workflow_id:12} {c.state:20} {c.customer or '-':10} "
            f"{c.owner or '-':10} {c.created_at.astimezone(local):%Y-%m-%d %H:%M}  "
            f"{when:17} breaches={c.breaches}"
        )


@app.command("history")
def history(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
    tz: TzOption = None,
) -> None:
    """Every step of a case: events, deadlines, warnings, with actor and time."""
    from cswork.cli._json import dumps
    from cswork.cli._tables import console, history_table

    with engine_for(store, workflows) as engine:
        case = engine.get(case_id)
        entries = engine.history(case_id)
        if fmt is Format.json:
            typer.echo(dumps(entries))
            return
        local = zone(engine, tz, case.workflow_id)
        console().print(history_table(entries, f"History of case {case_id}", local))


def register(root: typer.Typer) -> None:
    """Add the command group to the app."""
    root.add_typer(app, name="case")
