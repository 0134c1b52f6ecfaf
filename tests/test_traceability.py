"""The traceability tables of docs/traceability/ point at real YAML keys and tests.

Each shipped workflow has a table: source rule → where it is encoded (a path
into the workflow's YAML) → the test that checks it. A renamed key or test
makes this file fail, so the table cannot silently rot.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "docs" / "traceability"
HEADER = "| Source | Rule | Encoded at | Test |"
WORKFLOWS = sorted(p.stem for p in (ROOT / "workflows").glob("*.yaml"))
TRACED = sorted(p.stem for p in TRACES.glob("*.md")) if TRACES.exists() else []
# Workflows that are tools rather than SOPs from the seeds: no table required.
NOT_SOPS = {"drill_program", "review"}


def _rows(path: Path) -> list[list[str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert lines[0] == HEADER, f"{path.name}: the table must start with {HEADER!r}"
    assert re.fullmatch(r"\|(-+\|){4}", lines[1].replace(" ", "")), path.name
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 4, f"{path.name}: a row needs 4 cells: {line}"
        rows.append(cells)
    assert rows, f"{path.name}: no rows"
    return rows


def _resolve(doc: Any, dotted: str) -> bool:
    """Whether ``dotted`` (keys; list items by index or by ``event``) exists."""
    node = doc
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list):
            if part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                continue
            found = [i for i in node if isinstance(i, dict) and i.get("event") == part]
            if not found:
                return False
            node = found[0]
        else:
            return False
    return True


@cache
def _functions(test_file: str) -> frozenset[str]:
    path = ROOT / "tests" / test_file
    if not path.is_file():
        return frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def _ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_sop_has_a_table() -> None:
    missing = set(WORKFLOWS) - NOT_SOPS - set(TRACED)
    assert not missing, f"no docs/traceability/<workflow>.md for {sorted(missing)}"


@pytest.mark.parametrize("workflow", TRACED)
def test_every_reference_exists(workflow: str) -> None:
    source = ROOT / "workflows" / f"{workflow}.yaml"
    assert source.is_file(), f"a table for an unknown workflow {workflow!r}"
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    bad: list[str] = []
    for src, rule, encoded, test in _rows(TRACES / f"{workflow}.md"):
        assert src, f"{workflow}: a row without its source: {rule!r}"
        assert rule, f"{workflow}: a row without its rule ({src})"
        if encoded.startswith("out of scope:"):
            assert len(encoded) > len("out of scope: ") + 3, (
                f"{workflow}: {rule}: no reason"
            )
            continue
        paths = _ticked(encoded)
        tests = _ticked(test)
        if not paths or not tests:
            bad.append(f"{rule}: needs a YAML path and a test")
        bad += [f"{rule}: no key {p!r}" for p in paths if not _resolve(doc, p)]
        for ref in tests:
            file, _, name = ref.partition("::")
            if name not in _functions(file):
                bad.append(f"{rule}: no test {ref!r}")
    assert not bad, f"{workflow}: " + "; ".join(bad)


def test_resolve_selects_list_items_by_event_or_index() -> None:
    doc = {"transitions": [{"event": "a", "actions": [{"set": 1}]}]}
    assert _resolve(doc, "transitions.a.actions.0.set")
    assert not _resolve(doc, "transitions.b")
    assert not _resolve(doc, "transitions.a.actions.1")
