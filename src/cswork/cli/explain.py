"""``cswork explain``: how a deadline's due time was derived."""

from __future__ import annotations

from typing import Annotated

import typer

from cswork.cli._common import (
    DEFAULT_STORE,
    Format,
    FormatOption,
    StoreOption,
    WorkflowsOption,
    engine_for,
)


def explain(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    timer: Annotated[str, typer.Argument(help="A deadline name or a timer id.")],
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Show how a timer's due time was derived (calendar segments, days skipped)."""
    with engine_for(store, workflows) as engine:
        found = engine.explain(case_id, timer)
        if fmt is Format.json:
            from cswork.cli._json import dumps

            typer.echo(
                dumps(
                    {
                        "case_id": found.case_id,
                        "deadline": found.deadline,
                        "title": found.title,
                        "timer": found.timer,
                        "basis": found.basis,
                        "start": found.start,
                        "due_at": found.due_at,
                        "text": list(found.text),
                    }
                )
            )
            return
        for line in found.text:
            typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("explain")(explain)
