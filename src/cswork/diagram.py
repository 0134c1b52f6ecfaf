"""Diagrams of a workflow: Mermaid ``stateDiagram-v2`` and Graphviz DOT.

Transitions are labelled with their event and the roles that may fire it;
deadlines are shown on the states of their scope. Given a case and its
history, the diagram marks where the case stands and the path it took.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cswork.definition.conditions import render
from cswork.definition.model import Deadline, Workflow
from cswork.records import SYSTEM_ROLE, Case, HistoryEntry


@dataclass(frozen=True)
class _Edge:
    source: str
    dest: str
    event: str
    roles: tuple[str, ...]


def _edges(wf: Workflow) -> list[_Edge]:
    non_final = [n for n, s in wf.states.items() if not s.final]
    out = []
    for t in wf.transitions:
        roles = tuple(r for r in t.roles if r != SYSTEM_ROLE)
        if SYSTEM_ROLE in t.roles:
            roles += ("deadline",)
        for src in non_final if "*" in t.from_ else t.from_:
            out.append(_Edge(src, t.to or src, t.event, roles))
    return out


def deadline_label(name: str, d: Deadline) -> str:
    """A short description of a deadline: ``first_contact 24h wall``."""
    if d.at is not None:
        timing = f"at {d.at}"
    elif d.every is not None:
        timing = f"every {d.every} {d.basis}"
    else:
        timing = f"{d.after} {d.basis}"
    cond = f" if {render(d.when)}" if d.when is not None else ""
    return f"⏱ {name}: {timing}{cond}"


def _deadlines_by_state(wf: Workflow) -> dict[str, list[str]]:
    by_state: dict[str, list[str]] = {}
    for name, d in wf.deadlines.items():
        for state in d.scope:
            by_state.setdefault(state, []).append(deadline_label(name, d))
    return by_state


def _path(
    history: Sequence[HistoryEntry],
) -> tuple[set[str], set[tuple[str, str, str]]]:
    states = {h.to_state for h in history}
    steps = {
        (h.from_state, h.to_state, h.event)
        for h in history
        if h.kind == "event" and h.from_state is not None
    }
    return states, steps


def mermaid(
    wf: Workflow, case: Case | None = None, history: Sequence[HistoryEntry] = ()
) -> str:
    """The workflow as a Mermaid ``stateDiagram-v2``."""
    visited, taken = _path(history)
    lines = ["stateDiagram-v2", f"    %% {wf.workflow} v{wf.version}: {wf.title}"]
    lines.append(f"    [*] --> {wf.initial_state()}")
    for e in _edges(wf):
        label = f"{e.event} ({', '.join(e.roles)})" if e.roles else e.event
        mark = " ✔" if (e.source, e.dest, e.event) in taken else ""
        lines.append(f"    {e.source} --> {e.dest} : {label}{mark}")
    for name, state in wf.states.items():
        if state.final:
            lines.append(f"    {name} --> [*]")
    for noted, labels in sorted(_deadlines_by_state(wf).items()):
        lines.append(f"    note right of {noted}")
        lines += [f"        {label}" for label in labels]
        lines.append("    end note")
    if case is not None:
        lines.append("    classDef visited fill:#e8f0fe,stroke:#4a6fa5")
        lines.append(
            "    classDef current fill:#ffd966,stroke:#b45f06,stroke-width:3px"
        )
        for seen in sorted(visited - {case.state}):
            lines.append(f"    class {seen} visited")
        lines.append(f"    class {case.state} current")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    """A quoted DOT string; backslash-n escapes in the text stay line breaks."""
    return '"' + text.replace('"', '\\"') + '"'


def dot(
    wf: Workflow, case: Case | None = None, history: Sequence[HistoryEntry] = ()
) -> str:
    """The workflow as a Graphviz DOT digraph."""
    visited, taken = _path(history)
    deadlines = _deadlines_by_state(wf)
    lines = [
        f"digraph {_dot_id(wf.workflow)} {{",
        f"  label={_dot_id(f'{wf.workflow} v{wf.version}: {wf.title}')};",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor=white];',
        '  __start [shape=point, label=""];',
    ]
    for name, state in wf.states.items():
        label = "\\n".join([name, *deadlines.get(name, [])])
        attrs = [f"label={_dot_id(label)}"]
        if state.final:
            attrs.append("peripheries=2")
        if case is not None and name == case.state:
            attrs += ['fillcolor="#ffd966"', "penwidth=3"]
        elif name in visited:
            attrs.append('fillcolor="#e8f0fe"')
        lines.append(f"  {_dot_id(name)} [{', '.join(attrs)}];")
    lines.append(f"  __start -> {_dot_id(wf.initial_state())};")
    for e in _edges(wf):
        label = f"{e.event}\\n({', '.join(e.roles)})" if e.roles else e.event
        bold = ", penwidth=2.5" if (e.source, e.dest, e.event) in taken else ""
        lines.append(
            f"  {_dot_id(e.source)} -> {_dot_id(e.dest)} "
            f"[label={_dot_id(label)}{bold}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
