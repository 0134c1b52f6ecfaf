"""``cswork validate``: every problem in every file, as file:line:column lines."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from cswork.errors import Problem


class Format(StrEnum):
    """Output formats of ``validate``."""

    text = "text"
    json = "json"


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="YAML files or directories (searched recursively)."),
    ],
    fmt: Annotated[
        Format, typer.Option("--format", help="text or json.")
    ] = Format.text,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Warnings are problems too: states a case may wait in for ever "
            "or without an owner.",
        ),
    ] = False,
) -> None:
    """Check workflow and calendar files; print every problem found.

    Warnings (exit 0) say where a case could wait for ever or without an
    owner; with --strict they are problems (exit 1).
    """
    from cswork.definition import load_paths
    from cswork.errors import DefinitionError

    missing = [p for p in paths if not p.exists()]
    if missing:
        typer.echo(f"error: no such file or directory: {missing[0]}", err=True)
        raise typer.Exit(2)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    loaded = 0
    try:
        defs = load_paths(paths, strict=strict)
        loaded = len(defs.workflows) + len(defs.calendars)
        warnings = list(defs.warnings)
    except DefinitionError as exc:
        problems = list(exc.problems)
    if fmt is Format.json:
        typer.echo(
            json.dumps(
                {
                    "ok": not problems,
                    "problems": [
                        {
                            "file": p.file,
                            "line": p.line,
                            "column": p.column,
                            "message": p.message,
                            "hint": p.hint,
                            "severity": p.severity,
                        }
                        for p in [*problems, *warnings]
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for p in [*problems, *warnings]:
            typer.echo(str(p))
        if not problems:
            extra = f", {len(warnings)} warning(s)" if warnings else ""
            typer.echo(f"ok: {loaded} definition(s) valid{extra}")
    raise typer.Exit(1 if problems else 0)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("validate")(validate)
