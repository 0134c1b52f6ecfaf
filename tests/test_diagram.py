"""Diagrams: Mermaid and DOT, with deadlines, roles, and a case's path."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cswork.cli import app
from cswork.diagram import dot, mermaid

from .conftest import AGENT, WORKFLOWS, Engine

runner = CliRunner()


def test_mermaid_has_every_transition_role_and_deadline(engine: Engine):
    text = mermaid(engine.definition("inquiry"))
    assert text.startswith("stateDiagram-v2\n")
    assert "    [*] --> received\n" in text
    assert "    received --> in_progress : respond (cs_agent)\n" in text
    assert "    closed --> [*]\n" in text
    assert (
        "⏱ first_response_written: 1h working if channel in [email, chat, fax, "
        "web_form]" in text
    )
    escalate = mermaid(engine.definition("complaint"))
    assert "routed --> escalated : escalate (cs_lead, cs_manager, deadline)" in escalate


def test_a_case_is_marked_where_it_stands_and_where_it_went(engine: Engine):
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "chat", "question": "?"}
    )
    engine.fire(case.id, "respond", AGENT)
    text = mermaid(
        engine.definition("inquiry"), engine.get(case.id), engine.history(case.id)
    )
    assert "    received --> in_progress : respond (cs_agent) ✔\n" in text
    assert "    class in_progress current\n" in text
    assert "    class received visited\n" in text
    graph = dot(
        engine.definition("inquiry"), engine.get(case.id), engine.history(case.id)
    )
    assert graph.startswith('digraph "inquiry" {')
    assert (
        '"in_progress" [label="in_progress", fillcolor="#ffd966", penwidth=3];' in graph
    )
    assert (
        '"received" -> "in_progress" [label="respond\\n(cs_agent)", penwidth=2.5];'
        in graph
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
