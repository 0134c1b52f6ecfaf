"""``cswork simulate`` and ``cswork demo``: traffic on a virtual clock, and a report."""

from __future__ import annotations

import random
import time as wall
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from cswork import Engine, VirtualClock
from cswork.cli._common import StoreOption, engine_for, workflows_dir
from cswork.cli._tables import console, history_table
from cswork.report import Report, build_report
from cswork.report.text import report_tables
from cswork.simulation import CountingNotifier, Simulator, TrafficConfig

DEFAULT_START = date(2026, 3, 2)


def _ids(seed: int) -> Callable[[], str]:
    """Case, timer and outbox ids drawn from the seed (same seed, same ids)."""
    rng = random.Random(f"ids-{seed}")  # noqa: S311 - reproducible, not secret
    return lambda: uuid.UUID(int=rng.getrandbits(128), version=4).hex


def run_simulation(engine: Engine, config: TrafficConfig, out: Console) -> float:
    """Play the traffic with a progress bar; returns the seconds it took."""
    began = wall.perf_counter()
    with Progress(console=out, transient=True) as bar:
        task = bar.add_task("simulating days", total=config.days)
        Simulator(engine, config).run(
            lambda done, total: bar.update(task, completed=done)
        )
    return wall.perf_counter() - began


def simulate(
    workflows: Annotated[
        Path | None, typer.Argument(help="Workflow directory (default: shipped SOPs).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=3660)] = 30,
    cases_per_day: Annotated[int, typer.Option(min=0, max=100_000)] = 40,
    store: StoreOption = "memory://",
    seed: Annotated[int, typer.Option()] = 1,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = str(
        DEFAULT_START
    ),
) -> None:
    """Generate realistic traffic, run it on a virtual clock, print the report."""
    out = console()
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not a date (YYYY-MM-DD)") from None
    config = TrafficConfig(
        days=days, cases_per_day=cases_per_day, seed=seed, start=first
    )
    notifier = CountingNotifier()
    with engine_for(
        store, workflows, clock=_clock(first), notifier=notifier, id_factory=_ids(seed)
    ) as engine:
        _, total, secs = _play_and_report(engine, config, out)
        out.print(
            f"{total} cases over {days} days (seed {seed}) in {secs:.1f} s; "
            f"{sum(notifier.counts.values())} notifications sent"
        )


def _play_and_report(
    engine: Engine, config: TrafficConfig, out: Console
) -> tuple[Report, int, float]:
    """Play the traffic, print the report; returns it, the case count and seconds."""
    secs = run_simulation(engine, config, out)
    report = build_report(engine)
    for table in report_tables(report):
        out.print(table)
    return report, report.total, secs


def _clock(first: date) -> VirtualClock:
    from cswork.calendar import WorkingCalendar

    tz = WorkingCalendar().tz
    return VirtualClock(datetime.combine(first, time(0), tz))


def demo(
    db: Annotated[Path, typer.Option(help="SQLite file to create.")] = Path(
        "cswork-demo.db"
    ),
    days: Annotated[int, typer.Option(min=1, max=366)] = 30,
    cases_per_day: Annotated[int, typer.Option(min=1, max=10_000)] = 40,
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """A month of traffic through every shipped SOP on a SQLite file, and the report."""
    out = console()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    source = workflows_dir(None)
    config = TrafficConfig(
        days=days, cases_per_day=cases_per_day, seed=seed, start=DEFAULT_START
    )
    out.print(
        f"Simulating {days} days x ~{cases_per_day} cases/day through the "
        f"SOPs in {source} on sqlite:///{db} …"
    )
    with engine_for(
        f"sqlite:///{db}?synchronous=NORMAL",
        source,
        clock=_clock(DEFAULT_START),
        notifier=CountingNotifier(),
        id_factory=_ids(seed),
    ) as engine:
        report, total, secs = _play_and_report(engine, config, out)
        out.print(
            f"\n{total} cases, {report.breached} with a missed "
            f"deadline, simulated in {secs:.1f} s."
        )
        if report.breached_cases:
            cid = report.breached_cases[0]
            out.print(
                history_table(
                    engine.history(cid), f"History of one breached case, {cid}"
                )
            )
            out.print(
                f"\nWhere to look next:\n"
                f"  the store:          {db} (SQLite; open it with sqlite3)\n"
                f"  one case:           cswork case show {cid} --store sqlite:///{db}\n"
                f"  why it was due:     cswork explain {cid} "
                f"{engine.timers(cid, pending_only=False)[0].deadline} "
                f"--store sqlite:///{db}\n"
                f"  the report again:   cswork report --store sqlite:///{db}\n"
                f"  the SOPs:           cswork diagram complaint"
            )


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("simulate")(simulate)
    app.command("demo")(demo)
