"""A workflow diagram as SVG without Graphviz: a small layered layout of our own.

Used when Graphviz's ``dot`` is not installed. States stand in columns by
their distance from the initial state (left to right, as ``to_dot`` draws);
arrows to a later column are drawn straight across, arrows back (reopening,
escalation from later states) as arcs under the columns, and steps that stay
in their state are listed inside its box (``↺ contact_customer``). It is
plainer than Graphviz's drawing but carries the same ids (``state_NAME``,
``transition_I_SOURCE``) and the same highlighting of the current state and
the path taken. Every text is escaped as it is written.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from html import escape

from cswork.definition.model import Workflow
from cswork.diagram import DEADLINE_MARK, Step

FONT = 12
LINE = 16
PAD = 10
COLUMN_GAP = 120
ROW_GAP = 34
CURRENT_FILL = "#ffd966"
VISITED_FILL = "#e8f0fe"
TAKEN = "#b45f06"


def text_width(text: str, size: int = FONT) -> float:
    """An estimate of the text's width: wide (CJK) characters count double."""
    wide = sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")
    return (len(text) - wide) * size * 0.6 + wide * size * 1.05


def _arrows(wf: Workflow) -> list[tuple[int, str, str, str]]:
    """(transition index, source, destination, event) for every step."""
    non_final = [n for n, s in wf.states.items() if not s.final]
    return [
        (i, src, t.to or src, t.event)
        for i, t in enumerate(wf.transitions)
        for src in (non_final if "*" in t.from_ else t.from_)
    ]


def _ranks(wf: Workflow, arrows: list[tuple[int, str, str, str]]) -> dict[str, int]:
    """Each state's column: its distance from the initial state (unreached: last)."""
    ranks = {wf.initial_state(): 0}
    frontier = [wf.initial_state()]
    while frontier:
        nxt = []
        for state in frontier:
            for _, src, dest, _ in arrows:
                if src == state and dest not in ranks:
                    ranks[dest] = ranks[state] + 1
                    nxt.append(dest)
        frontier = nxt
    last = max(ranks.values()) + 1
    return {s: ranks.get(s, last) for s in wf.states}


def layout_svg(
    wf: Workflow, *, current: str | None = None, path: Sequence[Step] = ()
) -> str:
    """The workflow as SVG text, highlighting ``current`` and the ``path`` taken."""
    arrows = _arrows(wf)
    ranks = _ranks(wf, arrows)
    taken = {(s.source, s.dest, s.event) for s in path}
    visited = {s for step in path for s in (step.source, step.dest)}
    if current is not None:
        visited.add(wf.initial_state())
    lines = _lines(wf, arrows)
    box, width = _boxes(wf, ranks, lines)
    bottom = max(b[1] + b[3] for b in box.values())
    parts, labels, depth = [], [], 0
    for i, src, dest, event in arrows:
        if src == dest:
            continue
        forward = ranks[dest] > ranks[src]
        depth += 0 if forward else 1
        d, (lx, ly) = _curve(box[src], box[dest], forward, bottom + 18 * depth)
        on_path = (src, dest, event) in taken
        style = f'stroke="{TAKEN}" stroke-width="2.5"' if on_path else 'stroke="#555"'
        parts.append(
            f'<g id="{escape(f"transition_{i}_{src}")}" class="edge">'
            f'<path d="{d}" fill="none" {style} marker-end="url(#arrow)"/></g>'
        )
        labels.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="10" text-anchor="middle">'
            f"{escape(event)}</text>"
        )
    height = bottom + 18 * depth + 40
    nodes = [_node(s, box[s], lines[s], current, visited, wf) for s in wf.states]
    title = escape(f"{wf.workflow} v{wf.version}: {wf.title}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'font-family="sans-serif">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
        f'<text x="20" y="24" font-size="14">{title}</text>'
        + "".join(parts + nodes + labels)
        + "</svg>"
    )


def _lines(
    wf: Workflow, arrows: list[tuple[int, str, str, str]]
) -> dict[str, list[str]]:
    """Each state's box text: its name, the steps that stay, its deadlines."""
    lines: dict[str, list[str]] = {s: [s] for s in wf.states}
    for _, src, dest, event in arrows:
        mark = f"↺ {event}"
        if src == dest and mark not in lines[src]:
            lines[src].append(mark)
    for name, d in wf.deadlines.items():
        for s in d.scope:
            if s in lines:
                lines[s].append(f"{DEADLINE_MARK} {name}")
    return lines


Box = tuple[float, float, float, float]  # x, y, width, height


def _boxes(
    wf: Workflow, ranks: dict[str, int], lines: dict[str, list[str]]
) -> tuple[dict[str, Box], float]:
    """Each state's box, column by column; and the drawing's width."""
    columns: dict[int, list[str]] = {}
    for s in wf.states:
        columns.setdefault(ranks[s], []).append(s)
    box: dict[str, Box] = {}
    x = 20.0
    for col in sorted(columns):
        width = max(text_width(t) for s in columns[col] for t in lines[s]) + 2 * PAD
        y = 50.0
        for s in columns[col]:
            h = len(lines[s]) * LINE + PAD
            box[s] = (x, y, width, h)
            y += h + ROW_GAP
        x += width + COLUMN_GAP
    return box, x


def _curve(
    src: Box, dest: Box, forward: bool, low: float
) -> tuple[str, tuple[float, float]]:
    """An arrow's path, and where its label goes.

    Forward arrows run from the right side of one box to the left side of
    the other; arrows back arc under the columns at depth ``low``.
    """
    sx, sy, sw, sh = src
    dx, dy, dw, dh = dest
    if forward:
        x1, y1, x2, y2 = sx + sw, sy + sh / 2, dx, dy + dh / 2
        d = (
            f"M{x1:.1f},{y1:.1f} C{x1 + 60:.1f},{y1:.1f} "
            f"{x2 - 60:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        )
        return d, ((x1 + x2) / 2, (y1 + y2) / 2 - 4)
    x1, x2 = sx + sw / 2, dx + dw / 2
    d = (
        f"M{x1:.1f},{sy + sh:.1f} C{x1:.1f},{low:.1f} "
        f"{x2:.1f},{low:.1f} {x2:.1f},{dy + dh:.1f}"
    )
    return d, ((x1 + x2) / 2, low - 8)


def _node(
    name: str,
    box: Box,
    lines: list[str],
    current: str | None,
    visited: set[str],
    wf: Workflow,
) -> str:
    x, y, w, h = box
    fill = (
        CURRENT_FILL
        if name == current
        else VISITED_FILL
        if name in visited
        else "white"
    )
    width = 3 if name == current else 1
    double = (
        f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="{w + 6:.1f}" height="{h + 6:.1f}" '
        'rx="8" fill="none" stroke="black"/>'
        if wf.states[name].final
        else ""
    )
    texts = "".join(
        f'<text x="{x + PAD:.1f}" y="{y + PAD / 2 + LINE * (n + 1) - 4:.1f}" '
        f'font-size="{FONT if n == 0 else FONT - 2}">{escape(t)}</text>'
        for n, t in enumerate(lines)
    )
    return (
        f'<g id="{escape("state_" + name)}" class="node">{double}'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
        f'fill="{fill}" stroke="black" stroke-width="{width}"/>{texts}</g>'
    )
