"""``cswork explain``: how a deadline's due time was derived."""

from __future__ import annotations

from typing import Annotated

import typer

from cswork.cli._common import DEFAULT_STORE, StoreOption, WorkflowsOption, engine_for


def explain(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    timer: Annotated[str, typer.Argument(help="A deadline name or a timer id.")],
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
) -> None:
    """Show how a timer's due time was derived (calendar segments, days skipped)."""
    with engine_for(store, workflows) as engine:
        for line in engine.explain(case_id, timer).text:
            typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("explain")(explain)
