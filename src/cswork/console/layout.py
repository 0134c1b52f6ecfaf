"""A workflow diagram as SVG without Graphviz: a small layered layout of our own.

Used when Graphviz's ``dot`` is not installed. States stand in columns by
their distance from the initial state (left to right, as ``to_dot`` draws);
arrows to a later column are drawn across, arrows within a column straight
down or up, arrows back (reopening, escalation from later states) as arcs
under the columns. Steps that stay in their state are listed inside its box
(``↺ contact_customer``), and so are steps from any state (``⇐ withdraw``,
``from: "*"``) in the box they lead to, instead of an arrow from every state.
It is plainer than Graphviz's drawing but carries the same ids
(``state_NAME``, ``transition_I_SOURCE``) and the same highlighting of the
current state and the path taken. Every text is escaped as it is written.
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
    """(transition index, source, destination, event) for every step drawn.

    Steps from ``"*"`` are not drawn as arrows (see ``_lines``).
    """
    return [
        (i, src, t.to or src, t.event)
        for i, t in enumerate(wf.transitions)
        if "*" not in t.from_
        for src in t.from_
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
    for t in wf.transitions:
        if "*" in t.from_ and t.to is not None:
            mark = f"⇐ {t.event} (from any state)"
            if mark not in lines[t.to]:
                lines[t.to].append(mark)
    box, width = _boxes(wf, ranks, lines)
    bottom = max(b[1] + b[3] for b in box.values())
    parts, labels, depth = [], [], 0
    for i, src, dest, event in arrows:
        if src == dest:
            continue
        way = (ranks[dest] > ranks[src]) - (ranks[dest] < ranks[src])
        depth += 1 if way < 0 else 0
        d, (lx, ly) = _curve(box[src], box[dest], way, bottom + 22 * depth)
        if way == 0:  # the label starts beside the vertical line
            lx += text_width(event, 10) / 2
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
    height = bottom + 22 * depth + 30
    nodes = [_node(s, box[s], lines[s], current, visited, wf) for s in wf.states]
    title = escape(f"{wf.workflow} v{wf.version}: {wf.title}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'font-family="sans-serif">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
        'orient="auto">'
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
    src: Box, dest: Box, way: int, low: float
) -> tuple[str, tuple[float, float]]:
    """An arrow's path, and where its label goes (the middle of the path).

    ``way`` 1: to a later column, from the right side of one box to the left
    side of the other; 0: within a column, straight down or up; -1: back to
    an earlier column, an arc under the columns at depth ``low``.
    """
    sx, sy, sw, sh = src
    dx, dy, dw, dh = dest
    if way > 0:
        p0, p3 = (sx + sw, sy + sh / 2), (dx, dy + dh / 2)
        p1, p2 = (p0[0] + 60, p0[1]), (p3[0] - 60, p3[1])
    elif way == 0:
        x = min(sx + sw, dx + dw) - 20  # a vertical line both boxes share
        down = dy > sy
        p0 = (x, sy + sh if down else sy)
        p3 = (x, dy if down else dy + dh)
        p1, p2 = p0, p3
    else:
        p0, p3 = (sx + sw / 2, sy + sh), (dx + dw / 2, dy + dh)
        p1, p2 = (p0[0], low), (p3[0], low)
    d = "M{:.1f},{:.1f} C{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}".format(
        *p0, *p1, *p2, *p3
    )
    mx = (p0[0] + 3 * p1[0] + 3 * p2[0] + p3[0]) / 8
    my = (p0[1] + 3 * p1[1] + 3 * p2[1] + p3[1]) / 8
    if way == 0:
        return d, (mx + 6, my + 4)  # beside the line
    return d, (mx, my - 4)


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
