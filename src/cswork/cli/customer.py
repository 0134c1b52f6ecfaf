"""``cswork customer ID``: a customer's file (客户档案), read from a store.

Every case of the customer across workflows, newest first, with its state,
owner and open deadlines. The store is opened read-only: a missing SQLite
file is a usage error, never a new empty database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cswork.cli._common import (
    DEFAULT_STORE,
    Format,
    FormatOption,
    StoreOption,
    TzOption,
    WorkflowsOption,
    engine_for,
    zone,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from cswork.engine.customer import CustomerFile


def customer(
    customer_id: Annotated[str, typer.Argument(help="The customer key.")],
    limit: Annotated[
        int, typer.Option(min=1, help="Show at most this many (the newest).")
    ] = 100,
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
    tz: TzOption = None,
) -> None:
    """A customer's file: their cases across workflows, newest first, open deadlines."""
    from cswork.cli._json import dumps

    with engine_for(store, workflows) as engine:
        found = engine.customer(customer_id, limit=limit)
        if fmt is Format.json:
            typer.echo(dumps(found))
            return
        typer.echo(render(found, zone(engine, tz)))


def render(found: CustomerFile, local: ZoneInfo) -> str:
    """The file as text: one line per case, one indented line per open deadline."""
    if not found.cases:
        return f"customer {found.customer}: no cases"
    opened = len(found.open_cases)
    lines = [
        f"customer {found.customer}: {len(found.cases)} case(s), {opened} open"
        + (" (older ones not shown; raise --limit)" if found.more else "")
    ]
    for c in found.cases:
        status = "closed" if c.closed else "open"
        lines.append(
            f"{c.id}  {c.workflow_id:16} {c.state:20} {status:6} "
            f"owner={c.owner or '-'} "
            f"created {c.created_at.astimezone(local):%Y-%m-%d %H:%M}  "
            f"updated {c.updated_at.astimezone(local):%Y-%m-%d %H:%M}"
            + (f"  breaches={c.breaches}" if c.breaches else "")
        )
        lines += [
            f"    due {d.name}: {d.due_at.astimezone(local):%a %Y-%m-%d %H:%M %z}"
            for d in c.deadlines
        ]
    return "\n".join(lines)


def register(root: typer.Typer) -> None:
    """Add the command to the app."""
    root.command("customer")(customer)
