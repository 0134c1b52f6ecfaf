"""Diagrams: Mermaid, DOT, SVG and PNG, with guards, roles, deadlines and a case's path."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cswork.cli import app
from cswork.definition import load_paths, load_text
from cswork.definition.model import Workflow
from cswork.diagram import (
    FONT,
    GraphvizError,
    case_path,
    graphviz_available,
    render_dot,
    to_dot,
    to_mermaid,
    to_svg,
)

from .conftest import AGENT, WORKFLOWS, Engine

runner = CliRunner()


def test_mermaid_has_every_transition_role_and_deadline(engine: Engine):
    text = to_mermaid(engine.definition("inquiry"))
    assert text.startswith("stateDiagram-v2\n")
    assert "    [*] --> received\n" in text
    assert "    received --> in_progress : respond (cs_agent)\n" in text
    assert "    closed --> [*]\n" in text
    assert (
        "◷ first_response_written: 1h working if channel in [email, chat, fax, "
        "web_form]" in text
    )
    escalate = to_mermaid(engine.definition("complaint"))
    assert "routed --> escalated : escalate (cs_lead, cs_manager, deadline)" in escalate


def test_a_case_is_marked_where_it_stands_and_where_it_went(engine: Engine):
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "chat", "question": "?"}
    )
    engine.fire(case.id, "respond", AGENT)
    wf, now = engine.definition("inquiry"), engine.get(case.id)
    path = case_path(engine.history(case.id))
    text = to_mermaid(wf, current=now.state, path=path)
    assert "    received --> in_progress : respond (cs_agent) ✔\n" in text
    assert "    class in_progress current\n" in text
    assert "    class received visited\n" in text
    graph = to_dot(wf, current=now.state, path=path)
    assert graph.startswith('digraph "inquiry" {')
    assert (
        '"in_progress" [id="state_in_progress", label="in_progress\\n'
        '◷ handle_after_response: 2h working", fillcolor="#ffd966", penwidth=3];'
        in graph
    )
    assert '"received" [id="state_received", label="received\\n' in graph
    assert (
        '"received" -> "in_progress" [id="transition_0_received", '
        'label="respond\\n(cs_agent)", penwidth=2.5, color="#b45f06"];' in graph
    )


def test_cli_diagram(tmp_path: Path):
    result = runner.invoke(app, ["diagram", "repair", "--workflows", str(WORKFLOWS)])
    assert result.exit_code == 0
    assert (
        "onsite_assigned --> visit_scheduled : schedule_visit (repair_engineer)"
        in result.output
    )
    result = runner.invoke(
        app, ["diagram", str(WORKFLOWS / "repair.yaml"), "--format", "dot"]
    )
    assert result.exit_code == 0
    assert result.output.startswith('digraph "repair"')
    assert (
        runner.invoke(
            app, ["diagram", "nosuch", "--workflows", str(WORKFLOWS)]
        ).exit_code
        == 2
    )
    store = f"sqlite:///{tmp_path / 'd.db'}"
    started = runner.invoke(
        app,
        [
            "case",
            "start",
            "inquiry",
            "--actor",
            "a",
            "--role",
            "cs_agent",
            "-d",
            "customer_id=C",
            "-d",
            "channel=chat",
            "-d",
            "question=?",
            "--store",
            store,
            "--format",
            "json",
        ],
    )
    case_id = __import__("json").loads(started.output)["case"]["id"]
    result = runner.invoke(
        app, ["diagram", "inquiry", "--case", case_id, "--store", store]
    )
    assert "class received current" in result.output


# Two ways to confirm an order, told apart by their condition and roles; a
# third that differs only in the data it needs; a Chinese title; an ``at:``
# deadline; and text that must not escape DOT's quotes.
ORDERS = """\
workflow: orders
version: 1
title: 订单处理 "rush" \\ back\\slash
customer_field: null
roles: {sales: 销售, dispatcher: 调度}
fields:
  quantity: {type: integer, min: 1}
  promised_at: {type: datetime}
  note: {type: string}
  rush: {type: boolean}
states:
  received: {initial: true}
  confirmed: {}
  delivered: {final: true, outcome: resolved}
start: {roles: [sales], requires: [quantity]}
transitions:
  - {event: confirm, from: received, to: confirmed, roles: [sales],
     requires: [promised_at], when: "quantity > 1 and note == 'a; b: #1'"}
  - {event: confirm, from: received, to: confirmed, roles: [dispatcher],
     requires: [promised_at]}
  - {event: confirm, from: received, to: confirmed, roles: [dispatcher],
     requires: [promised_at, rush]}
  - {event: deliver, from: confirmed, to: delivered, roles: [dispatcher]}
deadlines:
  deliver_on_time: {scope: [confirmed], at: promised_at}
  confirm_soon: {scope: [received], after: 4h, basis: working, when: rush == true}
"""


def orders() -> Workflow:
    loaded = load_text(ORDERS, "orders.yaml")
    assert isinstance(loaded.definition, Workflow)
    return loaded.definition


def _labels(text: str, pattern: str) -> Counter[tuple[str, ...]]:
    return Counter(tuple(m) for m in re.findall(pattern, text, re.MULTILINE))


def test_parallel_arrows_carry_different_labels():
    text = to_mermaid(orders())
    assert "received --> confirmed : confirm [quantity > 1 and note == " in text
    assert "(sales)" in text
    assert "received --> confirmed : confirm (dispatcher)\n" in text
    assert "received --> confirmed : confirm (dispatcher) (alternative 2)\n" in text
    # Mermaid ends a label at ":" or ";" and reads "#" as an entity.
    (guarded,) = [line for line in text.splitlines() if "quantity > 1" in line]
    assert not re.search(r"[;#]", guarded)
    assert guarded.count(":") == 1
    for d in load_paths([WORKFLOWS]).workflows:
        for source, label in (("mermaid", to_mermaid(d.definition)),):
            arrows = _labels(label, r"^    (\S+) --> (\S+) : (.*)$")
            twice = [a for a, n in arrows.items() if n > 1]
            assert not twice, (source, d.definition.workflow, twice)


def test_complaint_reopen_alternatives_show_their_conditions(engine: Engine):
    text = to_mermaid(engine.definition("complaint"))
    assert (
        "awaiting_feedback --> investigating : reopen [reopen_count < 2] (cs_lead)"
        in text
    )
    assert (
        "awaiting_feedback --> escalated : reopen [reopen_count >= 2] (cs_lead)" in text
    )


def test_long_conditions_are_abbreviated(engine: Engine):
    text = to_mermaid(engine.definition("complaint"))
    (record,) = [line for line in text.splitlines() if ": record " in line]
    guard = record.split("[", 1)[1].rsplit("]", 1)[0]
    assert guard.endswith("…")
    assert len(guard) <= 48


def test_dot_names_a_cjk_font_and_shows_deadlines_on_their_states():
    graph = to_dot(orders())
    for kind in ("graph", "node", "edge"):
        assert re.search(
            rf'^  {kind} \[.*fontname="{re.escape(FONT)}"', graph, re.MULTILINE
        )
    assert "Noto Sans CJK SC" in FONT
    assert 'label="confirmed\\n◷ deliver_on_time: at promised_at"' in graph
    assert 'label="received\\n◷ confirm_soon: 4h working if rush == true"' in graph
    # The title's quote and backslashes stay inside the string.
    assert 'label="orders v1: 订单处理 \\"rush\\" \\\\ back\\\\slash"' in graph


needs_dot = pytest.mark.skipif(
    not graphviz_available(),
    reason="Graphviz's dot is not installed (apt-get install graphviz fonts-noto-cjk)",
)


@needs_dot
def test_svg_is_drawn_by_graphviz_with_the_case_marked(engine: Engine):
    svg = to_svg(orders())
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert "订单处理" in svg  # text, not boxes: the font list is in the SVG
    assert 'font-family="Noto Sans CJK SC' in svg
    assert 'id="state_received"' in svg
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "chat", "question": "?"}
    )
    engine.fire(case.id, "respond", AGENT)
    marked = to_svg(
        engine.definition("inquiry"),
        current="in_progress",
        path=case_path(engine.history(case.id)),
    )
    assert "#ffd966" in marked


def test_without_graphviz_svg_is_refused_with_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    with pytest.raises(GraphvizError) as err:
        render_dot(to_dot(orders()), "svg")
    assert err.value.missing
    assert "apt-get install graphviz" in str(err.value)
    result = runner.invoke(
        app, ["diagram", str(WORKFLOWS / "repair.yaml"), "--format", "png"]
    )
    assert result.exit_code == 1
    assert "apt-get install graphviz" in result.output
    assert "--format dot" in result.output


@needs_dot
def test_cli_draws_svg_and_png(tmp_path: Path):
    svg = runner.invoke(
        app, ["diagram", "repair", "--workflows", str(WORKFLOWS), "--format", "svg"]
    )
    assert svg.exit_code == 0, svg.output
    assert "<svg" in svg.output
    png = tmp_path / "repair.png"
    result = runner.invoke(
        app,
        ["diagram", str(WORKFLOWS / "repair.yaml"), "--format", "png", "-o", str(png)],
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_cli_refuses_a_case_of_another_workflow(tmp_path: Path):
    store = f"sqlite:///{tmp_path / 'd.db'}"
    started = runner.invoke(
        app,
        ["case", "start", "inquiry", "--actor", "a", "--role", "cs_agent",
         "-d", "customer_id=C", "-d", "channel=chat", "-d", "question=?",
         "--store", store, "--format", "json"],
    )  # fmt: skip
    case_id = json.loads(started.output)["case"]["id"]
    result = runner.invoke(
        app, ["diagram", "repair", "--case", case_id, "--store", store]
    )
    assert result.exit_code == 2
    assert "is a 'inquiry' case, not 'repair'" in result.output
    assert "classDef" not in result.output  # nothing drawn
