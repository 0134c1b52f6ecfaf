"""Diagrams of a workflow: Mermaid ``stateDiagram-v2``, Graphviz DOT, SVG and PNG.

Each arrow carries its event, its condition (``when:``, abbreviated) and the
roles that may take it, so that alternatives of one event are told apart;
each state lists the deadlines that watch it (name, duration and basis, or
the datetime field of an ``at:`` deadline). Given where a case stands
(``current``) and the steps it took (``path``, see ``case_path``), the
diagram highlights both — the shape a web console needs to draw a case::

    svg = to_svg(wf, current=case.state, path=case_path(engine.history(case.id)))

SVG and PNG are made by Graphviz's ``dot`` program, which must be on PATH
(Debian: ``apt-get install graphviz fonts-noto-cjk``). The DOT text names a
CJK-capable font list, so Chinese titles and conditions render as text.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from cswork.definition.conditions import render
from cswork.definition.model import Deadline, Transition, Workflow
from cswork.errors import CsworkError
from cswork.records import SYSTEM_ROLE, HistoryEntry

#: Font families tried in order (fontconfig/Pango and browsers read the list).
FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"
DEADLINE_MARK = "◷"
#: Longest condition shown on an arrow or a state before it is cut with "…".
GUARD_WIDTH = 48
INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz fonts-noto-cjk; "
    "macOS: brew install graphviz; Windows: winget install graphviz), "
    "or use --format dot or mermaid"
)


class GraphvizError(CsworkError):
    """Graphviz's ``dot`` is not installed, failed, or took too long.

    Attributes:
        missing: True when no ``dot`` program is on PATH.
    """

    def __init__(self, message: str, *, missing: bool = False) -> None:
        self.missing = missing
        super().__init__(message)


class Step(NamedTuple):
    """One step a case took: from ``source`` to ``dest`` by ``event``."""

    source: str
    dest: str
    event: str


@dataclass(frozen=True)
class _Edge:
    index: int  # of the transition in the file
    source: str
    dest: str
    event: str
    label: tuple[str, ...]  # event, [condition], (roles)


def case_path(history: Iterable[HistoryEntry]) -> tuple[Step, ...]:
    """The steps a case took, from its history (events only, in order)."""
    return tuple(
        Step(h.from_state, h.to_state, h.event)
        for h in history
        if h.kind == "event" and h.from_state is not None
    )


def abbreviate(text: str, width: int = GUARD_WIDTH) -> str:
    """``text`` on one line, cut to ``width`` characters with "…"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def edge_label(t: Transition) -> tuple[str, ...]:
    """The lines of an arrow's label: event, ``[condition]``, ``(roles)``.

    A role ``system`` is shown as ``deadline``: a deadline may take the step.
    """
    roles = [r for r in t.roles if r != SYSTEM_ROLE]
    if SYSTEM_ROLE in t.roles:
        roles.append("deadline")
    lines = [t.event]
    if t.when is not None:
        lines.append(f"[{abbreviate(render(t.when))}]")
    if roles:
        lines.append(f"({', '.join(roles)})")
    return tuple(lines)


def deadline_label(name: str, d: Deadline) -> str:
    """A short description of a deadline: ``◷ first_contact: 24h wall``.

    The clock sign is one that common fonts have (``⏱`` is missing from the
    CJK fonts and renders as a box).
    """
    if d.at is not None:
        timing = f"at {d.at}"
    elif d.every is not None:
        timing = f"every {d.every} {d.basis}"
    else:
        timing = f"{d.after} {d.basis}"
    cond = f" if {abbreviate(render(d.when))}" if d.when is not None else ""
    return f"{DEADLINE_MARK} {name}: {timing}{cond}"


def _edges(wf: Workflow) -> list[_Edge]:
    non_final = [n for n, s in wf.states.items() if not s.final]
    out: list[_Edge] = []
    for i, t in enumerate(wf.transitions):
        label = edge_label(t)
        for src in non_final if "*" in t.from_ else t.from_:
            out.append(_Edge(i, src, t.to or src, t.event, label))
    # Alternatives that still read alike (same event, roles and no condition,
    # differing only in the data they need) are numbered.
    seen: dict[tuple[str, str, tuple[str, ...]], int] = {}
    for n, e in enumerate(out):
        key = (e.source, e.dest, e.label)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            label = (*e.label, f"(alternative {seen[key]})")
            out[n] = _Edge(e.index, e.source, e.dest, e.event, label)
    return out


def _deadlines_by_state(wf: Workflow) -> dict[str, list[str]]:
    by_state: dict[str, list[str]] = {}
    for name, d in wf.deadlines.items():
        for state in d.scope:
            by_state.setdefault(state, []).append(deadline_label(name, d))
    return by_state


def _visited(wf: Workflow, current: str | None, path: Sequence[Step]) -> set[str]:
    states = {s for step in path for s in (step.source, step.dest)}
    if current is not None:
        states.add(wf.initial_state())  # every case started there
    return states


# ------------------------------------------------------------------ Mermaid
_MERMAID_SAFE = str.maketrans(":;#\n", "：；＃ ")


def _mermaid_text(text: str) -> str:
    # A transition label ends at ":" ";" or a line break in Mermaid's grammar,
    # and "#" opens an entity: use look-alike full-width characters.
    return text.translate(_MERMAID_SAFE)


def to_mermaid(
    wf: Workflow, *, current: str | None = None, path: Sequence[Step] = ()
) -> str:
    """The workflow as a Mermaid ``stateDiagram-v2``.

    Args:
        wf: the workflow definition.
        current: the state a case is in, highlighted (with the states it
            passed through) when given.
        path: the steps a case took (``case_path``); their arrows get a ✔.
    """
    taken = set(path)
    lines = ["stateDiagram-v2", f"    %% {wf.workflow} v{wf.version}: {wf.title}"]
    lines.append(f"    [*] --> {wf.initial_state()}")
    for e in _edges(wf):
        mark = " ✔" if Step(e.source, e.dest, e.event) in taken else ""
        label = _mermaid_text(" ".join(e.label))
        lines.append(f"    {e.source} --> {e.dest} : {label}{mark}")
    for name, state in wf.states.items():
        if state.final:
            lines.append(f"    {name} --> [*]")
    for noted, labels in sorted(_deadlines_by_state(wf).items()):
        lines.append(f"    note right of {noted}")
        lines += [f"        {label}" for label in labels]
        lines.append("    end note")
    if current is not None:
        lines.append("    classDef visited fill:#e8f0fe,stroke:#4a6fa5")
        lines.append(
            "    classDef current fill:#ffd966,stroke:#b45f06,stroke-width:3px"
        )
        for seen in sorted(_visited(wf, current, path) - {current}):
            lines.append(f"    class {seen} visited")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- DOT
def _dot_str(*lines: str) -> str:
    """A quoted DOT string of ``lines`` (user text cannot escape the quotes)."""
    safe = [
        " ".join(line.split()).replace("\\", "\\\\").replace('"', '\\"')
        for line in lines
    ]
    return '"' + "\\n".join(safe) + '"'


def to_dot(
    wf: Workflow, *, current: str | None = None, path: Sequence[Step] = ()
) -> str:
    """The workflow as a Graphviz DOT digraph.

    States get ``id="state_NAME"`` and arrows ``id="transition_I_SOURCE"``
    (``I``: the transition's position in the file), which Graphviz keeps as
    element ids in SVG, so a page can find and style them.

    Args:
        wf: the workflow definition.
        current: the state a case is in, highlighted (with the states it
            passed through) when given.
        path: the steps a case took (``case_path``); their arrows are bold.
    """
    taken = set(path)
    visited = _visited(wf, current, path)
    deadlines = _deadlines_by_state(wf)
    font = _dot_str(FONT)
    title = _dot_str(f"{wf.workflow} v{wf.version}: {wf.title}")
    lines = [
        f"digraph {_dot_str(wf.workflow)} {{",
        f"  graph [label={title}, labelloc=t, rankdir=LR, fontname={font}];",
        f'  node [shape=box, style="rounded,filled", fillcolor=white, fontname={font}];',
        f"  edge [fontname={font}, fontsize=10];",
        '  __start [shape=point, label=""];',
    ]
    for name, state in wf.states.items():
        attrs = [
            f"id={_dot_str('state_' + name)}",
            f"label={_dot_str(name, *deadlines.get(name, []))}",
        ]
        if state.final:
            attrs.append("peripheries=2")
        if name == current:
            attrs += ['fillcolor="#ffd966"', "penwidth=3"]
        elif name in visited:
            attrs.append('fillcolor="#e8f0fe"')
        lines.append(f"  {_dot_str(name)} [{', '.join(attrs)}];")
    lines.append(f"  __start -> {_dot_str(wf.initial_state())};")
    for e in _edges(wf):
        attrs = [
            f"id={_dot_str(f'transition_{e.index}_{e.source}')}",
            f"label={_dot_str(*e.label)}",
        ]
        if Step(e.source, e.dest, e.event) in taken:
            attrs += ["penwidth=2.5", 'color="#b45f06"']
        lines.append(
            f"  {_dot_str(e.source)} -> {_dot_str(e.dest)} [{', '.join(attrs)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- Graphviz
def graphviz_available() -> bool:
    """Is Graphviz's ``dot`` program on PATH?"""
    return shutil.which("dot") is not None


def render_dot(
    dot_text: str, fmt: Literal["svg", "png"], *, timeout: float = 60.0
) -> bytes:
    """Run Graphviz's ``dot`` on ``dot_text``; returns the SVG or PNG bytes.

    Raises:
        GraphvizError: ``dot`` is not on PATH (``missing`` is True; the
            message says how to install it), it failed, or it took longer
            than ``timeout`` seconds.
    """
    program = shutil.which("dot")
    if program is None:
        raise GraphvizError(
            f"cannot draw {fmt.upper()}: Graphviz's 'dot' program is not on "
            f"PATH; {INSTALL_HINT}",
            missing=True,
        )
    try:
        done = subprocess.run(  # noqa: S603 - fixed program and arguments; DOT on stdin
            [program, f"-T{fmt}"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"Graphviz took more than {timeout:g} s") from None
    except OSError as exc:
        raise GraphvizError(f"could not run Graphviz: {exc}") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise GraphvizError(f"Graphviz failed (exit {done.returncode}): {why}")
    return done.stdout


def to_svg(
    wf: Workflow,
    *,
    current: str | None = None,
    path: Sequence[Step] = (),
    timeout: float = 60.0,
) -> str:
    """The workflow as SVG text (``to_dot`` drawn by Graphviz).

    Raises:
        GraphvizError: see ``render_dot``.
    """
    dot_text = to_dot(wf, current=current, path=path)
    return render_dot(dot_text, "svg", timeout=timeout).decode("utf-8")
