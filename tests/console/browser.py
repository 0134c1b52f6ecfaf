"""Helpers of the browser tests: Chromium from the OS, the console served in a thread.

The browser is Debian's Chromium (``apt-get install chromium``; ``.ci/browser``
installs it in CI), driven by Playwright for Python: Playwright's own browser
download is not used. Without Playwright or Chromium the tests skip, saying
why — unless ``CSWORK_REQUIRE_BROWSER=1``, when they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Flags for a quiet, offline, throw-away browser (no sandbox: CI runs as root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when CSWORK_REQUIRE_BROWSER=1."""
    if os.environ.get("CSWORK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CSWORK_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def chromium() -> str:
    """The Chromium executable: CSWORK_CHROMIUM, or chromium on PATH."""
    given = os.environ.get("CSWORK_CHROMIUM")
    if given:
        if not os.access(given, os.X_OK):
            unavailable(f"CSWORK_CHROMIUM={given} is not an executable")
        return given
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    unavailable(
        "no Chromium (Debian: apt-get install chromium; or set CSWORK_CHROMIUM)"
    )
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in a thread; yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def screenshot(page: Any, name: str, **kw: Any) -> None:
    """Save a screenshot for the docs when CSWORK_SCREENSHOTS=1."""
    if os.environ.get("CSWORK_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **kw)
