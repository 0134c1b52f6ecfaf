"""W1: the full engine in memory, beside its floors and its peers, in one run.

Every system takes the complaint path of ``drive()`` for the same number of
cases; the runs are interleaved (engine, floors, peers, then again) so that a
busy neighbour slows all of them alike. Each is reported as steps per second
(wall clock) and CPU microseconds per step (``time.process_time``); ratios are
taken on CPU time, which the neighbours disturb less.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from cswork.storage import MemoryStore

from . import peers
from .common import (
    PATH,
    WORKFLOWS,
    Measure,
    Row,
    drive_measure,
    engine_on,
    median_measure,
    timed,
)


def bare_transitions(cases: int) -> Measure:
    """The floor: bare ``transitions`` doing the same steps, unregistered models."""
    from transitions import Machine

    from cswork.definition import load_file

    wf = load_file(WORKFLOWS / "complaint.yaml").definition
    assert wf is not None
    machine = Machine(
        model=None,
        states=list(wf.states),
        initial=None,
        auto_transitions=False,
        send_event=True,
    )
    non_final = [n for n, s in wf.states.items() if not s.final]
    for t in wf.transitions:
        machine.add_transition(t.event, non_final if "*" in t.from_ else t.from_, t.to)

    class Model:
        __slots__ = ("state",)

    events = [machine.events[e] for e, _, _ in PATH]
    initial = wf.initial_state()

    def run() -> None:
        for _ in range(cases):
            model = Model()
            model.state = initial
            for ev in events:
                ev.trigger(model)

    return timed(cases * len(events), run)


def _systems(cases: int, durable_cases: int) -> dict[str, Callable[[], Measure]]:
    systems: dict[str, Callable[[], Measure]] = {
        "cswork": lambda: drive_measure(engine_on(MemoryStore()), cases),
        "bare transitions": lambda: bare_transitions(cases),
        # The dict floor is too quick to time at this size: 20× the cases.
        "dict lookup": lambda: peers.dict_floor(20 * cases),
    }
    absent = peers.missing()
    if absent:
        print(
            f"W1 peers skipped: {', '.join(absent)} not installed"
            " (pip install -e '.[bench]')",
            file=sys.stderr,
        )
        return systems
    systems["python-statemachine"] = lambda: peers.psm_run(cases)
    systems["SpiffWorkflow"] = lambda: peers.spiff_run(cases)
    systems["SpiffWorkflow, serialised per step"] = lambda: peers.spiff_run(
        durable_cases, durable=True
    )
    return systems


def _speed(workload: str, name: str, m: Measure) -> list[Row]:
    return [
        Row(workload, f"{name}: steps/s", m.rate, "/s"),
        Row(workload, f"{name}: CPU µs per step", m.cpu_us, "µs"),
    ]


def _ratio(workload: str, metric: str, m: Measure, floor: Measure, least: float) -> Row:
    return Row(
        workload,
        metric,
        m.cpu_rate,
        "×",
        floor=floor.cpu_rate,
        target=f"≥ {least:g}×",
        ok=m.cpu_rate / floor.cpu_rate >= least,
    )


def w1(cases: int, runs: int, durable_cases: int | None = None) -> list[Row]:
    """W1 and W1 peers: the engine on a MemoryStore, its floors and its peers."""
    systems = _systems(cases, durable_cases or max(1, cases // 10))
    seen: dict[str, list[Measure]] = {name: [] for name in systems}
    for _ in range(runs):
        for name, measure in systems.items():
            seen[name].append(measure())
    m = {name: median_measure(ms) for name, ms in seen.items()}
    engine = m["cswork"]
    rows = [
        Row(
            "W1 in memory",
            "engine steps/s (MemoryStore, full engine)",
            engine.rate,
            "/s",
            target="≥ 40,000/s",
            ok=engine.rate >= 40_000,
        ),
        Row("W1 in memory", "engine CPU µs per step", engine.cpu_us, "µs"),
        *_speed(
            "W1 in memory",
            "bare transitions (same steps, nothing else)",
            m["bare transitions"],
        ),
        *_speed("W1 in memory", "dict (state, event) → state", m["dict lookup"]),
        _ratio(
            "W1 in memory",
            "engine / bare transitions (CPU)",
            engine,
            m["bare transitions"],
            0.25,
        ),
    ]
    for name in (
        "python-statemachine",
        "SpiffWorkflow",
        "SpiffWorkflow, serialised per step",
    ):
        if name not in m:
            continue
        rows += _speed("W1 peers", name, m[name])
        if "serialised" in name:
            rows.append(
                Row(
                    "W1 peers",
                    f"cswork / {name} (CPU)",
                    engine.cpu_rate,
                    "×",
                    floor=m[name].cpu_rate,
                )
            )
        else:
            rows.append(
                _ratio("W1 peers", f"cswork / {name} (CPU)", engine, m[name], 10)
            )
    return rows
