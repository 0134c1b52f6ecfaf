"""``cswork types``: a ``TypedDict`` of a workflow's fields (``cswork.typed``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cswork.cli._common import WorkflowsOption, fail, workflows_dir


def types(
    workflow: Annotated[str, typer.Argument(help="A workflow id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    workflows: WorkflowsOption = None,
) -> None:
    """Write a TypedDict of a workflow's fields, for typed case data.

    Also Literal types of its states and events. The file passes
    ``mypy --strict``; regenerate it when the workflow changes.
    """
    from cswork.definition import load_paths
    from cswork.errors import DefinitionError
    from cswork.typed import typed_source

    try:
        defs = load_paths([workflows_dir(workflows)])
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    found = [w.definition for w in defs.workflows if w.definition.workflow == workflow]
    if not found:
        known = ", ".join(sorted(w.definition.workflow for w in defs.workflows))
        raise fail(f"no workflow {workflow!r}; known: {known}", 2)
    text = typed_source(max(found, key=lambda w: w.version))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("types")(types)
