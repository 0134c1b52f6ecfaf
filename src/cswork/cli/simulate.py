"""``cswork simulate`` and ``cswork demo``: traffic on a virtual clock, and a report."""

from __future__ import annotations

import json
import math
import random
import time as wall
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

from cswork.cli._common import (
    Format,
    FormatOption,
    StoreOption,
    TzOption,
    WorkflowsOption,
    engine_for,
    fail,
    workflows_dir,
    zone,
)

if TYPE_CHECKING:
    from rich.console import Console

    from cswork.clock import VirtualClock
    from cswork.engine import Engine
    from cswork.report import Report
    from cswork.simulation import CountingNotifier, SimulationStats, TrafficConfig

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
    from cswork.errors import UnknownWorkflowError
    from cswork.simulation import SimulationError

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
    from cswork.definition import load_paths
    from cswork.errors import DefinitionError
    from cswork.simulation import traffic_mix

    try:
        defs = load_paths([source])
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    with _mix_errors(source):
        traffic_mix({w.definition.workflow: w.definition for w in defs.workflows}, mix)


class Played(NamedTuple):
    """What a simulation gives the commands that print it."""

    report: Report
    shares: str  # the traffic mix, as text
    secs: float  # wall-clock seconds it took
    stats: SimulationStats  # the week's shape: arrivals, conversions…


def run_simulation(
    engine: Engine, config: TrafficConfig, out: Console, source: Path, *, quiet: bool
) -> tuple[str, float, SimulationStats]:
    """Play the traffic (a progress bar on a terminal); returns the mix, seconds, stats."""
    from cswork.cli._tables import progress
    from cswork.simulation import Simulator

    with _mix_errors(source):
        sim = Simulator(engine, config)
    total = sum(sim.mix.values())
    shares = ", ".join(f"{w} {s / total:.0%}" for w, s in sorted(sim.mix.items()))
    if not quiet:
        out.print(f"traffic mix: {shares}")
    began = wall.perf_counter()
    with progress(out, "simulating days", config.days, enabled=not quiet) as tick:
        stats = sim.run(lambda done, total: tick(done))
    return shares, wall.perf_counter() - began, stats


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
    fmt: FormatOption = Format.text,
) -> None:
    """Generate realistic traffic, run it on a virtual clock, print the report.

    Any directory of SOPs works: every workflow a person may start gets a
    share of the arrivals, or the shares given with --mix.
    """
    from cswork.simulation import CountingNotifier, TrafficConfig

    first = _first_day(start)
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
        store, source, create=True, clock=_clock(first), notifier=notifier,
        id_factory=_ids(seed),
    ) as engine:  # fmt: skip
        played = _play_and_report(engine, config, source, fmt)
        report, secs = played.report, played.secs
        sent = sum(notifier.counts.values())
        if fmt is Format.json:
            typer.echo(_json(played, config, notifier))
            return
        from cswork.cli._tables import console

        console().print(
            f"{report.total} cases over {days} days (seed {seed}) in {secs:.1f} s; "
            f"{sent} notifications sent"
        )


def _json(played: Played, config: TrafficConfig, notifier: CountingNotifier) -> str:
    """What ``simulate``/``demo`` print with ``--format json``."""
    return json.dumps(
        {
            "days": config.days,
            "cases_per_day": config.cases_per_day,
            "seed": config.seed,
            "mix": played.shares,
            "cases": played.report.total,
            "seconds": round(played.secs, 3),
            "notifications": sum(notifier.counts.values()),
            "traffic": played.stats.traffic(),
            "report": played.report.as_dict(),
        },
        ensure_ascii=False,
        indent=2,
        default=str,
    )


def _play_and_report(
    engine: Engine, config: TrafficConfig, source: Path, fmt: Format
) -> Played:
    """Play the traffic, print the week's shape and the report (text)."""
    from cswork.cli._tables import console
    from cswork.report import build_report
    from cswork.report.text import report_tables

    out = console()
    quiet = fmt is Format.json
    shares, secs, stats = run_simulation(engine, config, out, source, quiet=quiet)
    report = build_report(engine)
    if not quiet:
        for line in stats.lines():
            out.print(line, highlight=False)
        for table in report_tables(report):
            out.print(table)
    return Played(report, shares, secs, stats)


def _first_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--start"
        ) from None


def _clock(first: date) -> VirtualClock:
    from cswork.calendar import WorkingCalendar
    from cswork.clock import VirtualClock

    tz = WorkingCalendar().tz
    return VirtualClock(datetime.combine(first, time(0), tz))


def demo(
    db: Annotated[Path, typer.Option(help="SQLite file to create.")] = Path(
        "cswork-demo.db"
    ),
    days: Annotated[int, typer.Option(min=1, max=366)] = 30,
    cases_per_day: Annotated[int, typer.Option(min=1, max=10_000)] = 40,
    seed: Annotated[int, typer.Option()] = 1,
    start: Annotated[
        str, typer.Option(help="First day, YYYY-MM-DD (e.g. 2026-04-27: May Day).")
    ] = str(DEFAULT_START),
    workflows: WorkflowsOption = None,
    mix: MixOption = None,
    fmt: FormatOption = Format.text,
    tz: TzOption = None,
) -> None:
    """A month of traffic on a SQLite file, the report, and one breached case.

    The shipped SOPs by default; --workflows DIR for your own.
    """
    from cswork.cli._tables import console
    from cswork.simulation import CountingNotifier, TrafficConfig

    out = console()
    first = _first_day(start)
    config = TrafficConfig(
        days=days,
        cases_per_day=cases_per_day,
        seed=seed,
        start=first,
        mix=parse_mix(mix),
    )
    source = workflows_dir(workflows)
    _check_mix(source, config.mix)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    if fmt is Format.text:
        out.print(
            f"Simulating {days} days x ~{cases_per_day} cases/day through the "
            f"SOPs in {source} on sqlite:///{db} …"
        )
    notifier = CountingNotifier()
    with engine_for(
        f"sqlite:///{db}?synchronous=NORMAL",
        source,
        create=True,
        clock=_clock(first),
        notifier=notifier,
        id_factory=_ids(seed),
    ) as engine:
        played = _play_and_report(engine, config, source, fmt)
        report, secs = played.report, played.secs
        if fmt is Format.json:
            typer.echo(_json(played, config, notifier))
            return
        out.print(
            f"\n{report.total} cases, {report.breached} with a missed "
            f"deadline, simulated in {secs:.1f} s."
        )
        if report.breached_cases:
            _next_steps(engine, report.breached_cases[0], db, workflows, out, tz)


def _next_steps(
    engine: Engine,
    cid: str,
    db: Path,
    workflows: Path | None,
    out: Console,
    tz: str | None,
) -> None:
    """One breached case's history, and the commands to look further."""
    from cswork.cli._tables import history_table

    wid = engine.get(cid).workflow_id
    wopt = f" --workflows {workflows}" if workflows is not None else ""
    out.print(
        history_table(
            engine.history(cid),
            f"History of one breached case, {cid}",
            zone(engine, tz, wid),
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
