"""Options and helpers shared by the commands.

Kept light: the engine, the definition models and the stores are imported
inside the functions that need them, so that a command pays only for what it
uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from cswork.engine import Engine

DEFAULT_STORE = "sqlite:///cases.db"

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="CSWORK_STORE",
        help="Store URL: sqlite:///FILE, postgresql://…, memory://",
    ),
]
WorkflowsOption = Annotated[
    Path | None,
    typer.Option(
        "--workflows",
        envvar="CSWORK_WORKFLOWS",
        help="Workflow directory (default: ./workflows if present, else the shipped SOPs).",
    ),
]
TzOption = Annotated[
    str | None,
    typer.Option(
        "--tz",
        envvar="CSWORK_TZ",
        help="Show times in this zone (default: the calendar's zone).",
    ),
]


class Format(StrEnum):
    """Output formats of most commands."""

    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text or json.")]


def workflows_dir(option: Path | None) -> Path:
    """The workflow directory to use."""
    if option is not None:
        return option
    local = Path("workflows")
    if local.is_dir():
        return local
    from cswork.shipped import shipped_workflows

    return shipped_workflows()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def engine_for(
    store_url: str,
    workflows: Path | None,
    *,
    create: bool = False,
    **kwargs: Any,
) -> Iterator[Engine]:
    """An engine on the store at ``store_url``; errors become exit codes.

    Args:
        store_url: the store.
        workflows: the workflow directory option.
        create: create a missing SQLite file (commands that write); without
            it a missing file is a usage error and nothing is created.
        **kwargs: more arguments for ``Engine``.
    """
    from cswork.definition import load_paths
    from cswork.engine import Engine
    from cswork.errors import (
        CsworkError,
        DefinitionError,
        RejectedError,
        UnknownWorkflowError,
    )
    from cswork.storage.url import StoreURLError, open_store

    try:
        store = open_store(store_url, create=create)
    except StoreURLError as exc:
        raise fail(str(exc), 2) from None
    except CsworkError as exc:
        raise fail(str(exc), 1) from None
    try:
        defs = load_paths([workflows_dir(workflows)])
        yield Engine(defs.workflows, calendars=defs.calendars, store=store, **kwargs)
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    except UnknownWorkflowError as exc:
        raise fail(str(exc), 2) from None
    except RejectedError as exc:
        typer.echo(f"refused: {exc}", err=True)
        if exc.allowed:
            typer.echo(f"allowed now: {', '.join(exc.allowed)}", err=True)
        raise typer.Exit(1) from None
    except CsworkError as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()


def zone(engine: Engine, tz: str | None, workflow: str | None = None) -> ZoneInfo:
    """The zone to show times in: ``--tz``, else the workflow's calendar's zone.

    Raises:
        typer.BadParameter: an unknown zone name.
    """
    if tz is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:  # ZoneInfo refuses keys that are not normalised relative paths
            return ZoneInfo(tz)
        except (ValueError, OSError, ZoneInfoNotFoundError):
            raise typer.BadParameter(
                f"unknown time zone {tz!r}", param_hint="--tz"
            ) from None
    name = "default"
    if workflow is not None and workflow in engine.workflows:
        name = engine.definition(workflow).calendar or "default"
    return engine.calendars.get(name, engine.calendars["default"]).tz


def env_flag(name: str) -> bool:
    """True if the environment variable is set to something truthy."""
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
