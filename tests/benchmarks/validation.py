"""W6: checking and compiling one large generated workflow.

``large_workflow(n)`` writes a workflow of ``n`` states close to what a big
SOP looks like, only longer: a chain of steps, a shortcut taken under a
condition every fourth state, a way back (a reopening), a ``from: "*"``
cancellation, deadlines every twenty states (working and wall time, with and
without ``met_by``, with warnings and ``on_due`` actions) and a few fields
and counters. 10,000 states come to about 0.9 MB, under the loader's 1 MB.

Each size is measured three ways: the checks in process (``load_file``), the
whole ``cswork validate`` command (interpreter start included, about a
second), and building an ``Engine`` from the loaded definition (which
compiles a ``transitions.Machine``). The floor of an in-process figure is
the smallest size's figure scaled linearly, so a ratio near 1 means the cost
grows linearly; the command's target is the issue's: under 10 s for 10,000
states on a 2-core machine.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cswork import Engine, VirtualClock
from cswork.definition import LoadedWorkflow, load_file

from .workloads import T0, Row, median_of

TARGET_STATES = 10_000
TARGET_SECONDS = 10.0

_HEAD = """\
workflow: big
version: 1
title: A generated workflow of {n} states
roles: {{a: agent, b: lead}}
fields:
  customer_id: {{type: string}}
  level: {{type: enum, values: [low, high]}}
  amount: {{type: number, min: 0, max: 1000}}
  promised_at: {{type: datetime}}
counters: {{reopened: {{}}}}
states:
  s0: {{initial: true}}
"""


def large_workflow(n: int) -> str:
    """The YAML text of a valid workflow with ``n`` states (``n >= 30``)."""
    last = n - 1
    out = [_HEAD.format(n=n)]
    out += [f"  s{i}: {{}}\n" for i in range(1, last)]
    out.append(f"  s{last}: {{final: true, outcome: resolved}}\n")
    out.append("start: {roles: [a], requires: [customer_id], optional: [level]}\n")
    out.append("transitions:\n")
    for i in range(last):
        out.append(f"  - {{event: e{i}, from: s{i}, to: s{i + 1}, roles: [a]}}\n")
        if i % 4 == 1 and i + 5 < last:
            out.append(
                f"  - {{event: j{i}, from: s{i}, to: s{i + 5}, roles: [b],"
                " when: level == high}\n"
            )
    out.append(
        f"  - {{event: reopen, from: s{last - 1}, to: s1, roles: [b],"
        " actions: [{increment: reopened}]}\n"
    )
    out.append(f"  - {{event: cancel, from: '*', to: s{last}, roles: [b, system]}}\n")
    out.append("  - {event: note, from: '*', roles: [a], optional: [amount]}\n")
    out.append("deadlines:\n")
    for i in range(0, last - 10, 20):
        scope = f"[s{i}, s{i + 1}, s{i + 2}]"
        if i % 100 == 0:
            out.append(
                f"  d{i}: {{scope: {scope}, after: 4h, basis: working,"
                f" met_by: [e{i + 2}], warn: {{percent: 75, notify: [b]}}}}\n"
            )
        elif i % 100 == 40:
            out.append(
                f"  d{i}: {{scope: {scope}, every: 1d, basis: wall, met_by: [note]}}\n"
            )
        elif i % 100 == 60:
            out.append(
                f"  d{i}: {{scope: {scope}, after: 2d, basis: wall,"
                " on_due: [{fire: cancel}]}\n"
            )
        else:
            out.append(
                f"  d{i}: {{scope: {scope}, after: 1d, basis: working,"
                " on_due: [{notify: [b]}]}\n"
            )
    return "".join(out)


def _timed(runs: int, action: Callable[[], object]) -> float:
    """The median time of ``runs`` calls of ``action``."""

    def once() -> float:
        began = time.perf_counter()
        action()
        return time.perf_counter() - began

    return median_of(runs, once)


def w6(sizes: list[int], runs: int) -> list[Row]:
    """W6: validate and compile generated workflows of the given sizes."""
    figures: dict[str, list[tuple[int, float]]] = {"load": [], "cli": [], "engine": []}
    Engine(clock=VirtualClock(T0))  # imports the holiday data: not what we time
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = Path(tmp) / f"w{n}"
            folder.mkdir()
            path = folder / "big.yaml"
            path.write_text(large_workflow(n), encoding="utf-8")
            loaded = load_file(path)
            assert isinstance(loaded, LoadedWorkflow)
            cmd = [sys.executable, "-m", "cswork", "validate", str(folder)]
            figures["load"].append((n, _timed(runs, lambda p=path: load_file(p))))
            figures["cli"].append(
                (
                    n,
                    _timed(
                        runs,
                        lambda c=cmd: subprocess.run(
                            c, check=True, stdout=subprocess.DEVNULL
                        ),
                    ),
                )
            )
            figures["engine"].append(
                (
                    n,
                    _timed(runs, lambda w=loaded: Engine([w], clock=VirtualClock(T0))),
                )
            )
    what = {
        "load": "load_file (checks) in process",
        "cli": "cswork validate, whole command",
        "engine": "Engine(...) from the loaded file",
    }
    rows = []
    for key, measured in figures.items():
        n0, t0 = measured[0]
        for n, seconds in measured:
            target, ok = "", None
            if key == "cli" and n >= TARGET_STATES:
                target, ok = f"< {TARGET_SECONDS:.0f} s", seconds < TARGET_SECONDS
            rows.append(
                Row(
                    "W6 large workflow",
                    f"{what[key]}, {n:,} states (s)",
                    seconds,
                    "s",
                    floor=None if n == n0 or key == "cli" else t0 * n / n0,
                    target=target,
                    ok=ok,
                )
            )
    return rows
