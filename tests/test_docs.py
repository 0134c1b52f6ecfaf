"""Docs cannot drift: every Python sample in README.md and docs/ runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_python_samples_run(doc: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": f"doc_{doc.stem}"}
    for n, code in enumerate(BLOCK.findall(doc.read_text(encoding="utf-8"))):
        if code.lstrip().startswith("# not run"):
            continue
        exec(compile(code, f"{doc.name}[{n}]", "exec"), namespace)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^```bash\n(.*?)\n```", readme, re.DOTALL | re.MULTILINE)
    assert len(commands) == 2, "README has exactly two set-up commands"
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
