"""``cswork simulate`` and ``cswork demo``: traffic on a virtual clock, and a report."""

from __future__ import annotations

import math
import random
import time as wall
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from cswork import Engine, VirtualClock
from cswork.cli._common import (
    StoreOption,
    WorkflowsOption,
    engine_for,
    fail,
    workflows_dir,
)
from cswork.cli._tables import console, history_table
from cswork.definition import load_paths
from cswork.errors import DefinitionError, UnknownWorkflowError
from cswork.report import Report, build_report
from cswork.report.text import report_tables
from cswork.simulation import (
    CountingNotifier,
    SimulationError,
    Simulator,
    TrafficConfig,
    traffic_mix,
)

DEFAULT_START = date(2026, 3, 2)
MixOption = Annotated[
    str | None,
    typer.Option(
        "--mix",
        help="Shares of arrivals, e.g. orders=3,complaint=1 (default: every "
        "workflow a person may start; the shipped SOPs with their usual shares).",
    ),
]


def parse_mix(text: str | None) -> dict[str, float] | None:
    """``orders=3,complaint=1`` → ``{"orders": 3.0, "complaint": 1.0}``.

    Raises:
        typer.BadParameter: not a comma-separated list of ``id=share``.
    """
    if text is None:
        return None
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        wid, sep, share = part.partition("=")
        try:
            value = float(share) if sep else -1.0
        except ValueError:
            value = -1.0
        if not wid.strip() or value < 0 or not math.isfinite(value):
            raise typer.BadParameter(
                f"{part!r}: write workflow=share, e.g. orders=3,complaint=1",
                param_hint="--mix",
            )
        mix[wid.strip()] = value
    if not mix:
        raise typer.BadParameter("give at least one workflow=share", param_hint="--mix")
    return mix


def _ids(seed: int) -> Callable[[], str]:
    """Case, timer and outbox ids drawn from the seed (same seed, same ids)."""
    rng = random.Random(f"ids-{seed}")  # noqa: S311 - reproducible, not secret
    return lambda: uuid.UUID(int=rng.getrandbits(128), version=4).hex


@contextmanager
def _mix_errors(source: Path) -> Iterator[None]:
    """A mix that does not fit the workflows loaded is a usage error (exit 2)."""
    try:
        yield
    except UnknownWorkflowError as exc:
        names = ", ".join(exc.known) or "none"
        raise fail(
            f"--mix names {exc.workflow_id!r}, which is not loaded; "
            f"workflows loaded that a person may start: {names}",
            2,
        ) from None
    except SimulationError as exc:
        raise fail(f"{source}: {exc}", 2) from None


def _check_mix(source: Path, mix: Mapping[str, float] | None) -> None:
    """Refuse a bad mix before anything is written."""
    try:
        defs = load_paths([source])
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    with _mix_errors(source):
        traffic_mix({w.definition.workflow: w.definition for w in defs.workflows}, mix)


def run_simulation(
    engine: Engine, config: TrafficConfig, out: Console, source: Path
) -> float:
    """Play the traffic with a progress bar; returns the seconds it took."""
    with _mix_errors(source):
        sim = Simulator(engine, config)
    total = sum(sim.mix.values())
    shares = ", ".join(f"{w} {s / total:.0%}" for w, s in sorted(sim.mix.items()))
    out.print(f"traffic mix: {shares}")
    began = wall.perf_counter()
    with Progress(console=out, transient=True) as bar:
        task = bar.add_task("simulating days", total=config.days)
        sim.run(lambda done, total: bar.update(task, completed=done))
    return wall.perf_counter() - began


def simulate(
    workflows: Annotated[
        Path | None,
        typer.Argument(
            help="Workflow directory (default: ./workflows if present, else "
            "the shipped SOPs).",
            envvar="CSWORK_WORKFLOWS",
        ),
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=3660)] = 30,
    cases_per_day: Annotated[int, typer.Option(min=0, max=100_000)] = 40,
    store: StoreOption = "memory://",
    seed: Annotated[int, typer.Option()] = 1,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = str(
        DEFAULT_START
    ),
    mix: MixOption = None,
) -> None:
    """Generate realistic traffic, run it on a virtual clock, print the report.

    Any directory of SOPs works: every workflow a person may start gets a
    share of the arrivals, or the shares given with --mix.
    """
    out = console()
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not a date (YYYY-MM-DD)") from None
    config = TrafficConfig(
        days=days,
        cases_per_day=cases_per_day,
        seed=seed,
        start=first,
        mix=parse_mix(mix),
    )
    source = workflows_dir(workflows)
    _check_mix(source, config.mix)
    notifier = CountingNotifier()
    with engine_for(
        store, source, clock=_clock(first), notifier=notifier, id_factory=_ids(seed)
    ) as engine:
        _, total, secs = _play_and_report(engine, config, out, source)
        out.print(
            f"{total} cases over {days} days (seed {seed}) in {secs:.1f} s; "
            f"{sum(notifier.counts.values())} notifications sent"
        )


def _play_and_report(
    engine: Engine, config: TrafficConfig, out: Console, source: Path
) -> tuple[Report, int, float]:
    """Play the traffic, print the report; returns it, the case count and seconds."""
    secs = run_simulation(engine, config, out, source)
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
    workflows: WorkflowsOption = None,
    mix: MixOption = None,
) -> None:
    """A month of traffic on a SQLite file, the report, and one breached case.

    The shipped SOPs by default; --workflows DIR for your own.
    """
    out = console()
    config = TrafficConfig(
        days=days,
        cases_per_day=cases_per_day,
        seed=seed,
        start=DEFAULT_START,
        mix=parse_mix(mix),
    )
    source = workflows_dir(workflows)
    _check_mix(source, config.mix)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
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
        report, total, secs = _play_and_report(engine, config, out, source)
        out.print(
            f"\n{total} cases, {report.breached} with a missed "
            f"deadline, simulated in {secs:.1f} s."
        )
        if report.breached_cases:
            cid = report.breached_cases[0]
            wid = engine.get(cid).workflow_id
            wopt = f" --workflows {workflows}" if workflows is not None else ""
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
                f"  the report again:   cswork report --store sqlite:///{db}{wopt}\n"
                f"  its SOP:            cswork diagram {wid}{wopt}"
            )


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("simulate")(simulate)
    app.command("demo")(demo)
