"""``cswork console``: serves the console for one person; a clear error without the extra."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cswork.console
from cswork import CsworkError, Engine
from cswork.cli import app
from cswork.console import make_console
from cswork.storage import SQLiteStore
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_missing_extra_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
):
    monkeypatch.setattr(cswork.console, "missing_dependencies", lambda: ["starlette"])
    with pytest.raises(CsworkError, match=r"pip install 'cswork\[console\]'"):
        make_console(engine, actor_of=lambda r: None)
    result = CliRunner().invoke(app, ["console", "--store", "memory://"])
    assert result.exit_code == 1
    assert "pip install 'cswork[console]'" in result.output


def test_missing_dependencies_names_the_packages():
    assert cswork.console.missing_dependencies() == []


def test_help_names_the_options():
    result = CliRunner().invoke(app, ["console", "--help"])
    assert result.exit_code == 0
    for option in ("--store", "--actor", "--role", "--unit", "--port", "--read-only"):
        assert option in result.output


def test_bad_port_is_a_usage_error():
    result = CliRunner().invoke(app, ["console", "--store", "memory://", "--port", "0"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_console_command_serves_pages(tmp_path: Path):
    SQLiteStore(tmp_path / "c.db").close()  # the console opens a store, never makes one
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cswork", "console", "--store", f"sqlite:///{tmp_path / 'c.db'}",
         "--workflows", str(ROOT / "workflows"), "--actor", "mgr", "--role", "cs_manager",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        body = ""
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/workflows") as r:
                    body = r.read().decode("utf-8")
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        assert "complaint" in body, proc.stderr.read().decode() if proc.poll() else ""
        assert "Looking: <bdi" in body
        assert "mgr" in body
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "console for mgr (roles: cs_manager; units: none)" in err.decode()
