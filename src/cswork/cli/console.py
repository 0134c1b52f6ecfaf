"""``cswork console``: the web console, served on this machine for one person.

The console authenticates nobody, so the standalone command serves it for a
fixed person (``--actor``, ``--role``, ``--unit``) on the loopback address by
default; an embedding program mounts ``cswork.console.make_console`` behind
its own sign-in instead (docs/console.md). Starlette and uvicorn are imported
only when the command runs, so the rest of the CLI starts without them.
"""

from __future__ import annotations

import getpass
import ipaddress
from typing import Annotated

import typer

from cswork.cli._common import (
    DEFAULT_STORE,
    StoreOption,
    WorkflowsOption,
    engine_for,
    workflows_dir,
)
from cswork.records import Actor


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def console(
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Who is looking (default: your login name)."),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="A role of that person (repeatable)."),
    ] = None,
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="A unit the person belongs to (repeatable)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Show no forms; refuse every step.")
    ] = False,
) -> None:
    """Serve the web console (queues, cases, workflows, indicators) for one person."""
    from cswork.console import INSTALL, fixed_actor, make_console, missing_dependencies

    missing = missing_dependencies()
    try:
        import uvicorn
    except ImportError:
        missing.append("uvicorn")
    if missing:
        typer.echo(
            f"error: the web console needs {', '.join(missing)}: {INSTALL}", err=True
        )
        raise typer.Exit(1)
    if not 0 < port < 65536:
        raise typer.BadParameter(f"{port} is not a port", param_hint="--port")
    person = Actor(actor or _login(), role or (), unit or ())
    if not _loopback(host):
        typer.echo(
            f"warning: serving on {host} without sign-in: everyone who reaches it "
            f"acts as {person.id!r}",
            err=True,
        )
    with engine_for(store, workflows) as engine:
        app = make_console(
            engine,
            actor_of=fixed_actor(person),
            read_only=read_only,
            sources=[workflows_dir(workflows)],
        )
        roles = ", ".join(sorted(person.roles)) or "none"
        units = ", ".join(sorted(person.units)) or "none"
        typer.echo(
            f"console for {person.id} (roles: {roles}; units: {units}) on "
            f"http://{host}:{port}/" + (" (read-only)" if read_only else ""),
            err=True,
        )
        uvicorn.run(app, host=host, port=port, log_level="warning")
        engine.close()


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "console"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("console")(console)
