"""``cswork diagram`` and ``cswork schema``: pictures and the editor schema."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from cswork.cli._common import (
    StoreOption,
    WorkflowsOption,
    engine_for,
    fail,
    workflows_dir,
)

if TYPE_CHECKING:
    from cswork.definition.model import Workflow
    from cswork.diagram import Step


class Format(StrEnum):
    """Diagram formats."""

    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"
    json = "json"


def _workflow(name: str, workflows: Path | None) -> Workflow:
    from cswork.definition import LoadedWorkflow, load_file, load_paths
    from cswork.errors import DefinitionError

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
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="svg and png need Graphviz's dot program on PATH; json gives "
            "the definition (and with --case where the case stands).",
        ),
    ] = Format.mermaid,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    case: Annotated[
        str | None,
        typer.Option("--case", help="Mark where this case (of WORKFLOW) stands."),
    ] = None,
    store: StoreOption = "sqlite:///cases.db",
    workflows: WorkflowsOption = None,
) -> None:
    """Draw a workflow: Mermaid stateDiagram-v2, Graphviz DOT, SVG or PNG.

    Arrows show the event, its condition and the roles that may take it;
    states show the deadlines that watch them.
    """
    from cswork.diagram import (
        GraphvizError,
        case_path,
        render_dot,
        to_dot,
        to_mermaid,
    )

    wf = _workflow(workflow, workflows)
    current: str | None = None
    path: tuple[Step, ...] = ()
    if case is not None:
        with engine_for(store, workflows) as engine:
            found = engine.get(case)
            if found.workflow_id != wf.workflow:
                raise fail(
                    f"case {case!r} is a {found.workflow_id!r} case, not "
                    f"{wf.workflow!r}: run cswork diagram {found.workflow_id} "
                    f"--case {case}",
                    2,
                )
            # The case's own version: it may be older than the files.
            wf = engine.definition(found.workflow_id, found.workflow_version)
            current, path = found.state, case_path(engine.history(case))
    if fmt is Format.json:
        data = _as_json(wf, current, path).encode("utf-8")
    elif fmt in (Format.svg, Format.png):
        image: Literal["svg", "png"] = "svg" if fmt is Format.svg else "png"
        try:
            data = render_dot(to_dot(wf, current=current, path=path), image)
        except GraphvizError as exc:
            raise fail(str(exc), 1) from None
    else:
        render = to_mermaid if fmt is Format.mermaid else to_dot
        data = render(wf, current=current, path=path).encode("utf-8")
    if output is not None:
        output.write_bytes(data)
    elif fmt is Format.png:
        if sys.stdout.isatty():
            raise fail("PNG is binary: give --output FILE or redirect the output", 2)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        typer.echo(data.decode("utf-8"), nl=False)


def _as_json(wf: Workflow, current: str | None, path: tuple[Step, ...]) -> str:
    """The definition as JSON, with where a case stands and the path it took."""
    return (
        json.dumps(
            {
                "workflow": wf.model_dump(
                    mode="json", by_alias=True, exclude_none=True
                ),
                "current": current,
                "path": [step._asdict() for step in path],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )


def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
) -> None:
    """Print the JSON Schema of the YAML format (draft-07, for editors)."""
    from cswork.definition.schema import json_schema_text

    text = json_schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("diagram")(diagram)
    app.command("schema")(schema)
