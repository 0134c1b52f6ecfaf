"""A library is quiet: a program that configures no logging sees nothing from cswork."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from cswork import Actor, Engine
from cswork.storage import SQLiteStore

store = SQLiteStore(sys.argv[1], synchronous="NORMAL")
engine = Engine.shipped(store=store)  # the real clock: background delivery
agent = Actor("li.na", {"cs_agent"})
for n in range(10_000):
    if n % 2:
        # Notifies four roles at once: the default notifier logs each notice.
        engine.start("emergency", agent, {
            "description": "flood", "emergency_type": "natural_disaster",
            "drill": False})
    else:
        engine.start("inquiry", agent, {
            "customer_id": f"C-{n}", "channel": "chat", "question": "?"})
assert engine.flush(60)
print("done", engine.count())
engine.close()
store.close()
"""


def test_ten_thousand_cases_print_nothing_to_stderr(tmp_path: Path):
    # 10,000 as in the issue: about 5 s here, on SQLite with synchronous=NORMAL.
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "quiet.db")],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "done 10000"
    assert result.stderr == ""


def test_the_library_logger_has_a_null_handler_and_notices_are_info():
    import logging

    import cswork  # noqa: F401 - installs the handler

    handlers = logging.getLogger("cswork").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
