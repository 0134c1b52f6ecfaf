"""``cswork case start|fire|show|list|history``: work with cases in a store."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from cswork.cli._common import DEFAULT_STORE, StoreOption, WorkflowsOption, engine_for
from cswork.cli._json import dumps
from cswork.cli._tables import LOCAL, console, history_table
from cswork.records import Actor

app = typer.Typer(
    help="Start cases, fire events, and look at cases in a store.", no_args_is_help=True
)


class Format(StrEnum):
    """Output formats."""

    text = "text"
    json = "json"


ActorOption = Annotated[str, typer.Option("--actor", help="Who takes the step.")]
RoleOption = Annotated[
    list[str], typer.Option("--role", help="A role of the actor (repeatable).")
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
FormatOption = Annotated[Format, typer.Option("--format")]


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


@app.command("start")
def start(
    workflow: Annotated[str, typer.Argument(help="The workflow id.")],
    actor: ActorOption,
    role: RoleOption,
    data: DataOption = None,
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Start a case."""
    payload = parse_data(data)
    with engine_for(store, workflows) as engine:
        case = engine.start(workflow, Actor(actor, role), payload)
        _print_case(engine, case.id, fmt)


@app.command("fire")
def fire(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    event: Annotated[str, typer.Argument(help="The event to fire.")],
    actor: ActorOption,
    role: RoleOption,
    data: DataOption = None,
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Fire an event on a case; a refusal prints why and the events allowed now."""
    payload = parse_data(data)
    with engine_for(store, workflows) as engine:
        engine.fire(case_id, event, Actor(actor, role), payload)
        _print_case(engine, case_id, fmt)


@app.command("show")
def show(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Show a case: state, data, pending deadlines, allowed events."""
    with engine_for(store, workflows) as engine:
        _print_case(engine, case_id, fmt)


def _print_case(engine: Any, case_id: str, fmt: Format) -> None:
    case = engine.get(case_id)
    timers = engine.timers(case_id)
    allowed = engine.allowed_events(case_id)
    if fmt is Format.json:
        typer.echo(dumps({"case": case, "timers": timers, "allowed_events": allowed}))
        return
    out = console()
    out.print(f"[bold]{case.workflow_id}[/] v{case.workflow_version} case {case.id}")
    out.print(
        f"  state: [bold]{case.state}[/]{' (closed)' if case.closed else ''}; "
        f"{case.version} steps; {case.breaches} missed deadline(s)"
    )
    out.print(f"  customer: {case.customer}")
    for k, v in case.data.items():
        out.print(f"  {k}: {v}")
    for k, v in case.counters.items():
        out.print(f"  {k} (counter): {v}")
    for t in timers:
        out.print(
            f"  pending: {t.deadline} ({t.kind}) due "
            f"{t.due_at.astimezone(LOCAL):%a %Y-%m-%d %H:%M %z}"
        )
    out.print(f"  events now: {', '.join(allowed) or '—'}")


@app.command("list")
def list_cases(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
    closed: Annotated[
        bool | None, typer.Option("--closed/--open", help="Closed or open.")
    ] = None,
    breached: Annotated[bool | None, typer.Option("--breached/--on-time")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """List cases (oldest first)."""
    with engine_for(store, workflows) as engine:
        cases = engine.query(
            workflow=workflow,
            state=state,
            customer=customer,
            closed=closed,
            breached=breached,
            limit=limit,
        )
        if fmt is Format.json:
            typer.echo(dumps(cases))
            return
        for c in cases:
            typer.echo(
                f"{c.id}  {c.workflow_id:12} {c.state:20} {c.customer or '-':10} "
                f"{c.created_at.astimezone(LOCAL):%Y-%m-%d %H:%M}  "
                f"breaches={c.breaches}"
            )


@app.command("history")
def history(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Every step of a case: events, deadlines, warnings, with actor and time."""
    with engine_for(store, workflows) as engine:
        engine.get(case_id)
        entries = engine.history(case_id)
        if fmt is Format.json:
            typer.echo(dumps(entries))
            return
        console().print(history_table(entries, f"History of case {case_id}"))


def register(root: typer.Typer) -> None:
    """Add the command group to the app."""
    root.add_typer(app, name="case")
