"""The command line under random arguments: an exit code of 0, 1 or 2, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cswork.cli import app

from .conftest import WORKFLOWS

runner = CliRunner()
WORDS = st.sampled_from(
    [
        "validate",
        "schema",
        "diagram",
        "case",
        "start",
        "fire",
        "show",
        "list",
        "history",
        "report",
        "explain",
        "complaint",
        "inquiry",
        "nosuch",
        str(WORKFLOWS),
        str(WORKFLOWS / "complaint.yaml"),
        "/nonexistent",
        "--store",
        "memory://",
        "sqlite:///",
        "sqlite://x.db",
        "postgresql://nobody@127.0.0.1:1/x?connect_timeout=1",
        "nosuch://",
        "--format",
        "json",
        "csv",
        "dot",
        "mermaid",
        "xml",
        "--actor",
        "a",
        "--role",
        "cs_agent",
        "-d",
        "customer_id=C",
        "channel=phone",
        "{not json",
        "{}",
        "--from",
        "2026-03-01",
        "yesterday",
        "--case",
        "--workflows",
        "--closed",
        "--open",
        "--limit",
        "0",
        "-1",
        "--help",
        "",
        "'; DROP TABLE cases; --",
        "\x00",
        "é",
    ]
)
ARGV = st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=8)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(argv=ARGV)
def test_random_arguments(argv: list[str], tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    if argv and argv[0] in ("run", "demo", "simulate"):
        argv = argv[1:]  # long-running commands are tested elsewhere
    cwd = tmp_path_factory.mktemp("cli")
    old = os.getcwd()
    os.chdir(cwd)  # the default store, sqlite:///cases.db, lands here
    try:
        result = runner.invoke(app, argv)
    finally:
        os.chdir(old)
    assert result.exit_code in (0, 1, 2), (argv, result.output, result.exception)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (argv, repr(result.exception))
    assert "Traceback" not in result.output


def test_a_store_that_cannot_be_reached_is_a_clear_error(tmp_path: Path):
    result = runner.invoke(
        app,
        [
            "case",
            "list",
            "--store",
            "postgresql://nobody@127.0.0.1:1/x?connect_timeout=1",
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: PostgreSQL")
