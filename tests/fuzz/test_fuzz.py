"""Run the coverage-guided fuzzers for a bounded time (CSWORK_FUZZ_SECONDS, default 15)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SECONDS = int(os.environ.get("CSWORK_FUZZ_SECONDS", "15"))
# In CI a fixed seed and number of runs make the fuzz run the same every time.
BUDGET = (
    ["-seed=1", "-runs=15000"]
    if os.environ.get("CSWORK_CI") and "CSWORK_FUZZ_SECONDS" not in os.environ
    else []
)

pytest.importorskip("atheris", reason="atheris is in the dev extra on Linux")
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("target", ["fuzz_loader.py", "fuzz_engine.py"])
def test_fuzzer_finds_nothing(target: str, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / target),
            f"-max_total_time={SECONDS}",
            *BUDGET,
            "-rss_limit_mb=2048",
            "-timeout=10",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    runs = re.search(r"Done (\d+) runs", output)
    assert runs is not None, output[-2000:]
    assert int(runs.group(1)) > 100
