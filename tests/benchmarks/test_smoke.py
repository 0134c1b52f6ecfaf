"""The benchmark harness runs end to end at tiny sizes (no speed is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import peers
from tests.conftest import ROOT

pytestmark = pytest.mark.benchmark


def test_benchmark_smoke_run(tmp_path: Path):
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    workloads = {row["workload"] for row in report["rows"]}
    assert {
        "W1 in memory",
        "W2 SQLite",
        "W2b batched",
        "W2 counters",
        "flat",
        "memory batch",
        "W3 deadlines",
        "W5 loading",
        "memory",
        "W7 report",
        "W8 threads",
        "W9 console",
    } <= workloads
    if not peers.missing():
        peer_rows = [r["metric"] for r in report["rows"] if r["workload"] == "W1 peers"]
        assert any("python-statemachine" in m for m in peer_rows)
        assert any("SpiffWorkflow" in m for m in peer_rows)
    assert all(row["value"] > 0 for row in report["rows"])
    ratios = [row for row in report["rows"] if row["floor"] is not None]
    assert ratios
    assert all(row["ratio"] > 0 for row in ratios)
    assert "cswork benchmarks" in result.stdout
