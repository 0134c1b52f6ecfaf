"""The command line at size: lazy start-up, case list pages, read-only reads, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cswork import Actor, Engine, VirtualClock
from cswork.cli import COMMANDS, app
from cswork.storage import SQLiteStore

from .conftest import WORKFLOWS, local

runner = CliRunner()
AGENT = Actor("li.na", {"cs_agent"})
ASK = {"customer_id": "C-1", "channel": "chat", "question": "?"}


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store with 25 inquiries, started a minute apart; 5 responded to."""
    path = tmp_path / "c.db"
    clock = VirtualClock(local(2026, 3, 3, 10, 0))
    s = SQLiteStore(path)
    engine = Engine.from_directory(WORKFLOWS, store=s, clock=clock)
    for n in range(25):
        case = engine.start("inquiry", AGENT, {**ASK, "customer_id": f"C-{n}"})
        if n % 5 == 0:
            engine.fire(case.id, "respond", AGENT)
        clock.advance(timedelta(minutes=1))
    engine.close()
    s.close()
    return f"sqlite:///{path}"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_help_lists_every_command_without_importing_them():
    code = (
        "import sys\n"
        "from cswork.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('cswork.engine', 'cswork.definition', 'pydantic',"
        " 'rich.console', 'holidays', 'cswork.storage') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out
    for name in COMMANDS:
        assert f"  {name} " in out


def test_the_help_table_says_what_each_command_says_of_itself():
    for name, (_, text) in COMMANDS.items():
        code, out = run(name, "--help")
        assert code == 0, name
        assert " ".join(text.split()[:4]) in " ".join(out.split()), name


def test_case_list_pages_with_a_total(store):
    code, out = run("case", "list", "--store", store, "--limit", "10")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "25 case(s) match; showing 1–10"
    assert len(lines) == 11
    code, out = run("case", "list", "--store", store, "--offset", "20", "--limit", "10")
    assert out.splitlines()[0] == "25 case(s) match; showing 21–25"
    code, out = run("case", "list", "--store", store, "--state", "in_progress")
    assert out.splitlines()[0] == "5 case(s) match; showing 1–5"


def test_case_list_orders_and_formats(store):
    _, out = run("case", "list", "--store", store, "--format", "ndjson")
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 25
    assert [r["customer"] for r in rows[:2]] == ["C-0", "C-1"]
    _, out = run("case", "list", "--store", store, "--format", "ndjson", "--newest")
    assert json.loads(out.splitlines()[0])["customer"] == "C-24"
    _, out = run(
        "case", "list", "--store", store, "--format", "json", "--limit", "3",
        "--sort", "updated",
    )  # fmt: skip
    page = json.loads(out)
    assert page["total"] == 25
    assert page["offset"] == 0
    assert len(page["cases"]) == 3
    _, out = run("case", "list", "--store", store, "--unassigned", "--format", "json")
    assert json.loads(out)["total"] == 25  # inquiries have no owner field
    _, out = run(
        "case", "list", "--store", store, "--owner", "li.na", "--format", "json"
    )
    assert json.loads(out)["total"] == 0
    _code, out = run("case", "list", "--store", store, "--breached")
    assert out.splitlines()[0].startswith("0 case(s)")


def test_due_within(store):
    code, out = run(
        "case", "list", "--store", store, "--due-within", "400d", "--format", "json"
    )
    assert code == 0, out
    # 20 wait for a first response, the 5 picked up for their answer (default)
    assert json.loads(out)["total"] == 25
    code, out = run("case", "list", "--store", store, "--due-within", "soon")
    assert code == 2


def test_unknown_workflow_state_or_store_file_is_a_usage_error(store, tmp_path):
    code, out = run("case", "list", "--store", store, "--workflow", "inquiri")
    assert code == 2
    assert "did you mean 'inquiry'" in out
    code, out = run("case", "list", "--store", store, "--state", "opne")
    assert code == 2
    missing = tmp_path / "typo.db"
    for args in (
        ["case", "list"],
        ["case", "show", "x"],
        ["case", "history", "x"],
        ["explain", "x", "y"],
        ["report"],
    ):
        code, out = run(*args, "--store", f"sqlite:///{missing}")
        assert code == 2, (args, out)
        assert "no store file" in out
    assert not missing.exists()


def test_times_in_the_calendars_zone_or_tz(store):
    case = json.loads(
        run("case", "list", "--store", store, "--format", "ndjson")[1].splitlines()[0]
    )
    code, out = run("case", "history", case["id"], "--store", store)
    assert "(+08:00)" in out
    assert "Tue 03-03 10:00" in out
    code, out = run("case", "history", case["id"], "--store", store, "--tz", "UTC")
    assert "(+00:00)" in out
    assert "Tue 03-03 02:00" in out
    code, out = run(
        "case", "show", case["id"], "--store", store, "--tz", "Nowhere/City"
    )
    assert code == 2


def test_json_everywhere(store):
    case = json.loads(
        run("case", "list", "--store", store, "--format", "ndjson")[1].splitlines()[0]
    )
    code, out = run(
        "explain", case["id"], "first_response_written", "--store", store,
        "--format", "json",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["deadline"] == "first_response_written"
    code, out = run("diagram", "inquiry", "--format", "json")
    assert json.loads(out)["workflow"]["workflow"] == "inquiry"
    code, out = run("simulate", str(WORKFLOWS), "--days", "1", "--format", "json")
    assert code == 0, out
    sim = json.loads(out)
    assert sim["cases"] > 0
    assert "indicators" in sim["report"] or sim["report"]
    code, out = run("validate", str(WORKFLOWS), "--format", "json")
    assert json.loads(out)["ok"] is True


def test_types_writes_a_typed_dict_that_mypy_strict_accepts(tmp_path):
    pytest.importorskip("mypy")
    for wid in ("complaint", "inquiry", "repair", "parts_scrap"):
        code, out = run("types", wid, "--workflows", str(WORKFLOWS))
        assert code == 0, out
        (tmp_path / f"{wid}_types.py").write_text(out)
    (tmp_path / "use.py").write_text(
        "from __future__ import annotations\n"
        "from complaint_types import ComplaintData, ComplaintState\n"
        "data: ComplaintData = {'channel': 'phone', 'apologised': True}\n"
        "state: ComplaintState = 'escalated'\n"
    )
    (tmp_path / "bad.py").write_text(
        "from complaint_types import ComplaintData\n"
        "data: ComplaintData = {'channel': 'telegram'}\n"
    )
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    good = subprocess.run(
        [*mypy, "complaint_types.py", "inquiry_types.py", "repair_types.py",
         "parts_scrap_types.py", "use.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert good.returncode == 0, good.stdout
    bad = subprocess.run(
        [*mypy, "bad.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "telegram" in bad.stdout
    code, out = run("types", "nope", "--workflows", str(WORKFLOWS))
    assert code == 2


def test_run_logs_only_cswork_unless_asked(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    cmd = [sys.executable, "-m", "cswork", "run", "--store", url, "--for", "0.5"]
    quiet = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120)
    assert "cswork.worker" in quiet.stderr
    assert "apscheduler" not in quiet.stderr
    loud = subprocess.run(
        [*cmd, "--all-logs"], capture_output=True, text=True, check=True, timeout=120
    )
    assert "apscheduler" in loud.stderr
