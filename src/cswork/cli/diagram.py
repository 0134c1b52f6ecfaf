"""``cswork diagram`` and ``cswork schema``: pictures and the editor schema."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cswork.cli._common import (
    StoreOption,
    WorkflowsOption,
    engine_for,
    fail,
    workflows_dir,
)
from cswork.definition import LoadedWorkflow, load_file, load_paths
from cswork.definition.model import Workflow
from cswork.definition.schema import json_schema_text
from cswork.diagram import dot, mermaid
from cswork.errors import DefinitionError


class Format(StrEnum):
    """Diagram formats."""

    mermaid = "mermaid"
    dot = "dot"


def _workflow(name: str, workflows: Path | None) -> Workflow:
    path = Path(name)
    try:
        if path.suffix in (".yaml", ".yml") and path.exists():
            loaded = load_file(path)
            if not isinstance(loaded, LoadedWorkflow):
                raise fail(f"{name} is a calendar, not a workflow", 2)
            return loaded.definition
        defs = load_paths([workflows_dir(workflows)])
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    found = [w.definition for w in defs.workflows if w.definition.workflow == name]
    if not found:
        known = ", ".join(sorted(w.definition.workflow for w in defs.workflows))
        raise fail(f"no workflow {name!r}; known: {known}", 2)
    return max(found, key=lambda w: w.version)


def diagram(
    workflow: Annotated[str, typer.Argument(help="A workflow id, or a YAML file.")],
    fmt: Annotated[Format, typer.Option("--format")] = Format.mermaid,
    case: Annotated[
        str | None, typer.Option("--case", help="Mark where this case stands.")
    ] = None,
    store: StoreOption = "sqlite:///cases.db",
    workflows: WorkflowsOption = None,
) -> None:
    """Draw a workflow (Mermaid stateDiagram-v2 or Graphviz DOT)."""
    render = mermaid if fmt is Format.mermaid else dot
    if case is None:
        typer.echo(render(_workflow(workflow, workflows)), nl=False)
        return
    with engine_for(store, workflows) as engine:
        found = engine.get(case)
        wf = engine.definition(found.workflow_id, found.workflow_version)
        typer.echo(render(wf, found, engine.history(case)), nl=False)


def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
) -> None:
    """Print the JSON Schema of the YAML format (draft-07, for editors)."""
    text = json_schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("diagram")(diagram)
    app.command("schema")(schema)
