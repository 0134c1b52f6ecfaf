"""Every example runs (each in its own interpreter, as a user would run it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
NEEDS_POSTGRES = {"two_workers_postgres.py"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: Path, tmp_path: Path):
    env = dict(os.environ)
    if example.name in NEEDS_POSTGRES:
        from .storage.pg import server

        env["CSWORK_PG_DSN"] = server().dsn  # skips (or fails under CI) without one
    result = subprocess.run(
        [sys.executable, str(example)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip(), "an example prints what it shows"
