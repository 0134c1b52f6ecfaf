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
    """The shipped SOPs load without a single warning (no unwatched, unowned or
    dead-end state): the plain run prints only the summary."""
    result = runner.invoke(app, ["validate", str(WORKFLOWS)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: 13 definition(s) valid"


def test_validate_strict_passes_on_the_shipped_workflows():
    """Issue 14/15: every open state of every shipped SOP is watched by a
    deadline (or waits on the customer with a reminder), owned or a declared
    queue, and has a way to a final state — so --strict passes."""
    result = runner.invoke(app, ["validate", "--strict", str(WORKFLOWS)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


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
        "severity": "error",
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
    result = runner.invoke(app, ["demo", "--db", str(db), "--days", "3"])
    assert result.exit_code == 0, result.output
    assert db.exists()
    assert "Quality indicators" in result.output
    assert "History of one breached case" in result.output
    assert "cswork case show" in result.output


def test_simulate_is_reproducible():
    args = ["simulate", "--days", "2", "--cases-per-day", "6", "--seed", "3"]
    first = runner.invoke(app, args)
    second = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    strip = lambda out: [line for line in out.splitlines() if " in " not in line]
    assert strip(first.output) == strip(second.output)
    assert "Quality indicators" in first.output


def test_case_commands_round_trip(tmp_path: Path):
    store = f"sqlite:///{tmp_path / 'cases.db'}"
    started = runner.invoke(
        app,
        [
            "case",
            "start",
            "inquiry",
            "--actor",
            "li",
            "--role",
            "cs_agent",
            "-d",
            "customer_id=C-1",
            "-d",
            "channel=email",
            "-d",
            "question=Why?",
            "--store",
            store,
            "--format",
            "json",
        ],
    )
    assert started.exit_code == 0, started.output
    case_id = json.loads(started.output)["case"]["id"]
    refused = runner.invoke(
        app,
        [
            "case",
            "fire",
            case_id,
            "close",
            "--actor",
            "li",
            "--role",
            "cs_agent",
            "--store",
            store,
        ],
    )
    assert refused.exit_code == 1
    assert "refused: event 'close' is not allowed in state 'received'" in refused.output
    assert "allowed now: convert, respond" in refused.output
    fired = runner.invoke(
        app,
        [
            "case",
            "fire",
            case_id,
            "respond",
            "--actor",
            "li",
            "--role",
            "cs_agent",
            "--store",
            store,
        ],
    )
    assert fired.exit_code == 0, fired.output
    assert "state: in_progress" in fired.output
    listed = runner.invoke(app, ["case", "list", "--store", store, "--open"])
    assert case_id in listed.output
    hist = runner.invoke(
        app, ["case", "history", case_id, "--store", store, "--format", "json"]
    )
    assert [h["event"] for h in json.loads(hist.output)] == ["start", "respond"]
    explain = runner.invoke(
        app, ["explain", case_id, "first_response_written", "--store", store]
    )
    assert explain.exit_code == 0
    assert "basis: working time on calendar 'default'" in explain.output
    report = runner.invoke(app, ["report", "--store", store, "--format", "json"])
    assert json.loads(report.output)["cases"] == {"inquiry": {"open": 1}}
    csv_out = runner.invoke(app, ["report", "--store", store, "--format", "csv"])
    assert csv_out.output.splitlines()[1] == "cases,inquiry,open,1,"


def test_bad_store_urls_and_arguments(tmp_path: Path):
    for url in [
        "nosuch://x",
        "sqlite://relative.db",
        "sqlite:///",
        "sqlite:///x.db?y=1",
    ]:
        result = runner.invoke(app, ["case", "list", "--store", url])
        assert result.exit_code == 2, (url, result.output)
        assert "error:" in result.output
    result = runner.invoke(
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
            "oops",
            "--store",
            "memory://",
        ],
    )
    assert result.exit_code == 2
    result = runner.invoke(
        app, ["report", "--from", "yesterday", "--store", "memory://"]
    )
    assert result.exit_code == 2


def test_simulate_runs_any_directory_of_sops(tmp_path: Path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "demo.yaml").write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(own), "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "traffic mix: demo 100%" in result.output
    assert "│ demo " in result.output  # a row of the report
    both = runner.invoke(
        app,
        ["simulate", str(WORKFLOWS), "--days", "1", "--mix", "inquiry=3,repair=1"],
    )
    assert both.exit_code == 0, both.output
    assert "traffic mix: inquiry 75%, repair 25%" in both.output


def test_a_mix_that_does_not_fit_is_a_usage_error(tmp_path: Path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "demo.yaml").write_text(GOOD, encoding="utf-8")
    unknown = runner.invoke(app, ["simulate", str(own), "--mix", "demo=1,complaint=1"])
    assert unknown.exit_code == 2
    assert "'complaint'" in unknown.output
    assert "may start: demo" in unknown.output  # the ids loaded
    assert "Traceback" not in unknown.output
    for bad in ("demo", "demo=x", "demo=-1", "=1", ","):
        result = runner.invoke(app, ["simulate", str(own), "--mix", bad])
        assert result.exit_code == 2, (bad, result.output)
    zero = runner.invoke(app, ["simulate", str(own), "--mix", "demo=0"])
    assert zero.exit_code == 2
    assert "share above 0" in zero.output
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(app, ["simulate", str(empty)])
    assert nothing.exit_code == 2
    assert "no workflow is loaded" in nothing.output


def test_demo_runs_your_sops_and_a_bad_mix_changes_nothing(tmp_path: Path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "demo.yaml").write_text(GOOD, encoding="utf-8")
    db = tmp_path / "demo.db"
    db.write_bytes(b"keep me")
    refused = runner.invoke(
        app, ["demo", "--db", str(db), "--workflows", str(own), "--mix", "repair=1"]
    )
    assert refused.exit_code == 2
    assert db.read_bytes() == b"keep me"
    result = runner.invoke(
        app, ["demo", "--db", str(db), "--workflows", str(own), "--days", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "traffic mix: demo 100%" in result.output
    assert "Quality indicators" in result.output
