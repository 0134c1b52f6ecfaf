"""``cswork run``: a long-running worker that fires deadlines on the real clock."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import typer

from cswork.cli._common import DEFAULT_STORE, StoreOption, WorkflowsOption, engine_for


def run(
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    poll: Annotated[float, typer.Option(help="Seconds between safety polls.")] = 30.0,
    seconds: Annotated[
        float | None, typer.Option("--for", help="Stop after this many seconds.")
    ] = None,
) -> None:
    """Run deadlines: wake at each due time, fire it, escalate. Stop with Ctrl-C."""
    from cswork.scheduler import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with engine_for(store, workflows) as engine:
        worker = Worker(engine, poll_interval=poll)
        typer.echo(f"worker {engine.worker_id} on {store}; Ctrl-C to stop")
        worker.run_forever(timedelta(seconds=seconds) if seconds else None)
        typer.echo(f"fired {worker.fired} timer(s)")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("run")(run)
