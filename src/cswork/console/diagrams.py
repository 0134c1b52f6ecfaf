"""Workflow diagrams for the pages: Graphviz SVG when ``dot`` is there, else our own.

The SVG is put inline in the page (so the current state can be found and
styled, and its text read), which means it is markup, not data. So it is
never trusted as it comes: whatever drew it, the SVG is parsed and written
out again through an allow-list — known SVG elements and presentation
attributes only; no scripts, event handlers, links, styles or foreign
content; every text and attribute value escaped. Only that output is
marked safe for the templates.

Drawings are cached per (workflow, version, current state, path): a case
page costs a Graphviz run only the first time its picture is seen.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from cswork.console.layout import layout_svg
from cswork.definition.model import Workflow
from cswork.diagram import GraphvizError, Step, graphviz_available, to_svg

ELEMENTS = frozenset(
    {"svg", "g", "title", "path", "polygon", "polyline", "ellipse", "circle",
     "rect", "line", "text", "tspan", "defs", "marker"}
)  # fmt: skip
ATTRIBUTES = frozenset(
    {"id", "class", "transform", "fill", "stroke", "stroke-width",
     "stroke-dasharray", "stroke-opacity", "fill-opacity", "opacity", "points",
     "d", "cx", "cy", "rx", "ry", "r", "x", "y", "x1", "y1", "x2", "y2", "dx", "dy",
     "width", "height", "viewBox", "font-family", "font-size", "font-weight",
     "font-style", "text-anchor", "preserveAspectRatio", "marker-end", "refX",
     "refY", "markerWidth", "markerHeight", "markerUnits", "orient"}
)  # fmt: skip
_LOCAL_REF = re.compile(r"^url\(#[A-Za-z0-9_-]+\)$")
CACHE_SIZE = 256
GRAPHVIZ_TIMEOUT = 20.0


@dataclass(frozen=True)
class Diagram:
    """A drawing ready for a page.

    Attributes:
        svg: the filtered SVG markup.
        drawn_by: ``graphviz`` or ``cswork`` (the built-in layout).
        note: what the reader should know about the drawing ("" if nothing).
        width: the drawing's natural width in CSS pixels (0 if unknown).
    """

    svg: Markup
    drawn_by: str
    note: str = ""
    width: int = 0


class Diagrams:
    """Draws and caches diagrams; thread-safe.

    Args:
        graphviz: use Graphviz when its ``dot`` is on PATH (None: look once).
    """

    def __init__(self, graphviz: bool | None = None) -> None:
        self.graphviz = graphviz_available() if graphviz is None else graphviz
        self._cache: OrderedDict[tuple[object, ...], Diagram] = OrderedDict()
        self._lock = threading.Lock()

    def draw(
        self, wf: Workflow, *, current: str | None = None, path: Sequence[Step] = ()
    ) -> Diagram:
        """The workflow's diagram, the ``current`` state and the ``path`` highlighted."""
        key = (wf.workflow, wf.version, current, tuple(path))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        made = self._draw(wf, current, path)
        with self._lock:
            self._cache[key] = made
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return made

    def _draw(self, wf: Workflow, current: str | None, path: Sequence[Step]) -> Diagram:
        label = f"diagram of workflow {wf.workflow}"
        if self.graphviz:
            try:
                text = to_svg(wf, current=current, path=path, timeout=GRAPHVIZ_TIMEOUT)
                svg = clean_svg(text, current, label)
                return Diagram(svg, "graphviz", width=natural_width(svg))
            except GraphvizError as exc:
                note = f"Graphviz failed ({exc}); a simpler drawing is shown."
        else:
            note = (
                "Drawn by cswork's own layout: install Graphviz "
                "(Debian: apt-get install graphviz fonts-noto-cjk) for a clearer one."
            )
        svg = clean_svg(layout_svg(wf, current=current, path=path), current, label)
        return Diagram(svg, "cswork", note, natural_width(svg))


_WIDTH = re.compile(r'^<svg[^>]*? width="([0-9.]+)(pt|px)?"')


def natural_width(svg: str) -> int:
    """The width an SVG asks for, in CSS pixels (a point is 4/3 px); 0 if none."""
    found = _WIDTH.match(svg)
    if found is None:
        return 0
    scale = 4 / 3 if found.group(2) == "pt" else 1
    return round(float(found.group(1)) * scale)


def clean_svg(text: str, current: str | None, label: str) -> Markup:
    """SVG text rewritten through the allow-list, ready to be put in a page.

    The state groups (``id="state_NAME"``) get the class ``state``, and the
    current one ``state current``, so pages and tests can find it.

    Raises:
        ValueError: the text is not well-formed XML.
    """
    try:
        root = ET.fromstring(text)  # noqa: S314 - made by Graphviz or layout_svg
    except ET.ParseError as exc:
        raise ValueError(f"not an SVG drawing: {exc}") from None
    out: list[str] = []
    _write(root, out, current)
    svg = "".join(out)
    # Named for screen readers; the root is always an <svg> (checked in _write).
    head = f'<svg role="img" aria-label="{escape(label)}"'
    return Markup(head + svg[len("<svg") :])  # noqa: S704 - rebuilt through the allow-list


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _write(el: ET.Element, out: list[str], current: str | None, depth: int = 0) -> None:
    tag = _local(str(el.tag))
    if tag not in ELEMENTS or (depth == 0 and tag != "svg"):
        if depth == 0:
            raise ValueError("not an SVG drawing")
        return  # unknown content is left out, children and all
    attrs = []
    for name, value in el.attrib.items():
        name = _local(name)
        if name not in ATTRIBUTES or _unsafe(value):
            continue
        attrs.append((name, value))
    ident = el.attrib.get("id", "")
    if tag == "g" and ident.startswith("state_"):
        cls = "state current" if ident == f"state_{current}" else "state"
        attrs = [(n, v) for n, v in attrs if n != "class"] + [("class", cls)]
    out.append("<" + tag)
    out += [f' {n}="{escape(v, quote=True)}"' for n, v in attrs]
    out.append(">")
    if el.text:
        out.append(escape(el.text, quote=False))
    for child in el:
        _write(child, out, current, depth + 1)
        if child.tail and tag in ("text", "tspan"):
            out.append(escape(child.tail, quote=False))
    out.append(f"</{tag}>")


def _unsafe(value: str) -> bool:
    """Values that could load or run something (links, scripts, outside refs)."""
    low = "".join(value.split()).lower()
    if "url(" in low:
        return _LOCAL_REF.match(value.strip()) is None
    return "javascript:" in low or "expression(" in low
