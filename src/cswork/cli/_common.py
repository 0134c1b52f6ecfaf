"""Options and helpers shared by the commands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from cswork.definition import load_paths
from cswork.engine import Engine
from cswork.errors import CsworkError, DefinitionError, RejectedError
from cswork.shipped import shipped_workflows
from cswork.storage.url import DEFAULT_URL, StoreURLError, open_store

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
DEFAULT_STORE = DEFAULT_URL


def workflows_dir(option: Path | None) -> Path:
    """The workflow directory to use."""
    if option is not None:
        return option
    local = Path("workflows")
    return local if local.is_dir() else shipped_workflows()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def engine_for(
    store_url: str, workflows: Path | None, **kwargs: object
) -> Iterator[Engine]:
    """An engine on the store at ``store_url``; errors become exit codes."""
    try:
        store = open_store(store_url)
    except StoreURLError as exc:
        raise fail(str(exc), 2) from None
    except CsworkError as exc:
        raise fail(str(exc), 1) from None
    try:
        defs = load_paths([workflows_dir(workflows)])
        yield Engine(defs.workflows, calendars=defs.calendars, store=store, **kwargs)  # type: ignore[arg-type]
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    except RejectedError as exc:
        typer.echo(f"refused: {exc}", err=True)
        if exc.allowed:
            typer.echo(f"allowed now: {', '.join(exc.allowed)}", err=True)
        raise typer.Exit(1) from None
    except CsworkError as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()


def env_flag(name: str) -> bool:
    """True if the environment variable is set to something truthy."""
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
