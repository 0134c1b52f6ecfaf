"""``cswork run``: a long-running worker that fires deadlines on the real clock.

Logging: only cswork's own loggers (``cswork.*``) are shown, at ``--log-level``
(INFO by default); the libraries underneath (APScheduler, psycopg) stay quiet
unless ``--all-logs`` is given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import typer

from cswork.cli._common import DEFAULT_STORE, StoreOption, WorkflowsOption, engine_for

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class Level(StrEnum):
    """Log levels."""

    debug = "DEBUG"
    info = "INFO"
    warning = "WARNING"
    error = "ERROR"


@contextmanager
def logging_to_stderr(level: str, everything: bool) -> Iterator[None]:
    """Show cswork's log records (or everyone's) on stderr while the worker runs."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    target = logging.getLogger() if everything else logging.getLogger("cswork")
    before = target.level, target.propagate
    target.addHandler(handler)
    target.setLevel(level)
    if not everything:
        target.propagate = False  # not twice, if the root logger prints too
    try:
        yield
    finally:
        target.removeHandler(handler)
        target.setLevel(before[0])
        target.propagate = before[1]


def run(
    store: StoreOption = DEFAULT_STORE,
    workflows: WorkflowsOption = None,
    poll: Annotated[float, typer.Option(help="Seconds between safety polls.")] = 30.0,
    seconds: Annotated[
        float | None, typer.Option("--for", help="Stop after this many seconds.")
    ] = None,
    log_level: Annotated[
        Level, typer.Option("--log-level", case_sensitive=False, help="cswork's level.")
    ] = Level.info,
    all_logs: Annotated[
        bool,
        typer.Option(
            "--all-logs", help="Also show other libraries' logs (APScheduler…)."
        ),
    ] = False,
) -> None:
    """Run deadlines: wake at each due time, fire it, escalate. Stop with Ctrl-C."""
    from cswork.scheduler import Worker

    with (
        logging_to_stderr(log_level.value, all_logs),
        engine_for(store, workflows, create=True) as engine,
    ):
        worker = Worker(engine, poll_interval=poll)
        typer.echo(f"worker {engine.worker_id} on {store}; Ctrl-C to stop")
        worker.run_forever(timedelta(seconds=seconds) if seconds else None)
        typer.echo(f"fired {worker.fired} timer(s)")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("run")(run)
