"""The command line: exit codes and output formats."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cswork.cli import app

from .conftest import WORKFLOWS
from .test_loader import GOOD

runner = CliRunner()


def test_validate_shipped_workflows():
    result = runner.invoke(app, ["validate", str(WORKFLOWS)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: 6 definition(s) valid"


def test_validate_reports_problems_with_positions(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("roles: [lead]", "roles: [leed]") + "version: 3\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:15:52: unknown role 'leed' (did you mean 'lead'?)",
        f"{bad}:16:1: duplicate key 'version' (first given at line 2)",
    ]
    result = runner.invoke(app, ["validate", "--format", "json", str(bad)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["problems"][0] == {
        "file": str(bad),
        "line": 15,
        "column": 52,
        "message": "unknown role 'leed'",
        "hint": "did you mean 'lead'?",
    }


def test_usage_errors_exit_2(tmp_path: Path):
    assert (
        runner.invoke(app, ["validate", str(tmp_path / "missing.yaml")]).exit_code == 2
    )
    assert (
        runner.invoke(app, ["validate", "--format", "xml", str(WORKFLOWS)]).exit_code
        == 2
    )
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_demo_runs_on_a_sqlite_file(tmp_path: Path):
    db = tmp_path / "demo.db"
    result = runner.invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert db.exists()
    assert "is closed after" in result.output
