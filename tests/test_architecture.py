"""The import direction of the package (style.md B.1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cswork"

# module prefix → cswork modules it must never import
FORBIDDEN = {
    "cswork.errors": ["cswork."],
    "cswork.records": ["cswork.engine", "cswork.storage", "cswork.definition"],
    "cswork.queries": ["cswork.engine", "cswork.storage", "cswork.definition"],
    "cswork.clock": ["cswork.engine", "cswork.storage", "cswork.definition"],
    "cswork.definition": [
        "cswork.engine",
        "cswork.storage",
        "cswork.clock",
        "cswork.cli",
        "cswork.testing",
    ],
    "cswork.calendar": [
        "cswork.engine",
        "cswork.storage",
        "cswork.cli",
        "cswork.definition",
    ],
    "cswork.storage": [
        "cswork.engine",
        "cswork.definition",
        "cswork.cli",
        "cswork.calendar",
    ],
    "cswork.engine": ["cswork.cli", "cswork.testing", "cswork.scheduler"],
}
# third-party module → the only cswork module allowed to import it
ONLY_IN = {"transitions": "cswork.engine.compile", "apscheduler": "cswork.scheduler"}


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(("name", "path"), modules(), ids=lambda x: str(x))
def test_import_direction(name: str, path: Path):
    used = imports(path)
    for prefix, banned in FORBIDDEN.items():
        if name == prefix or name.startswith(prefix + "."):
            bad = sorted(
                u
                for u in used
                for b in banned
                if u.startswith(b) and not u.startswith(prefix)
            )
            assert not bad, f"{name} must not import {bad}"
    for lib, owner in ONLY_IN.items():
        if any(u == lib or u.startswith(lib + ".") for u in used):
            assert name == owner, f"only {owner} may import {lib}"


def test_import_cswork_needs_no_optional_dependency():
    import subprocess
    import sys

    code = (
        "import sys, cswork, cswork.storage\n"
        "bad = [m for m in ('psycopg', 'hypothesis') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
