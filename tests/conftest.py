from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings

# In CI (.ci/run sets CSWORK_CI) property tests replay the same examples every
# run, so that landing never depends on the luck of a random seed; local and
# long runs keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CSWORK_CI"):
    settings.load_profile("ci")

# Warnings are errors in the tests (pyproject.toml's filterwarnings), and
# deprecations are errors in the Python processes they start as well (examples,
# workers, fuzzers): a dependency release that deprecates something we use
# fails the next run, rather than the release that removes it breaking us.
os.environ.setdefault(
    "PYTHONWARNINGS", "error::DeprecationWarning,error::PendingDeprecationWarning"
)

from cswork import Actor, Engine, VirtualClock
from cswork.storage import MemoryStore, Store

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / "workflows"
TZ = ZoneInfo("Asia/Shanghai")

AGENT = Actor("agent.li", {"cs_agent"})
LEAD = Actor("lead.wang", {"cs_lead"})
HEAD = Actor(
    "head.zhao",
    {"dept_head"},
    units={"technical", "platform", "concerned_department", "business"},
)
MANAGER = Actor("mgr.sun", {"cs_manager"})
SUPPORT = Actor("tech.qian", {"tech_support"})
ENGINEER = Actor("eng.zhou", {"repair_engineer"})
WORKSHOP = Actor("shop.wu", {"workshop"})
WAREHOUSE = Actor("store.zheng", {"warehouse"})
NOBODY = Actor("visitor", set())


def local(*args: int) -> datetime:
    """A datetime in Asia/Shanghai."""
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


class Recorder:
    """A notifier that remembers what it was asked to deliver."""

    def __init__(self) -> None:
        self.notices: list[Any] = []

    def notify(self, notice: Any) -> None:
        self.notices.append(notice)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(local(2026, 3, 3, 10, 0))  # a Tuesday


@pytest.fixture
def notifier() -> Recorder:
    return Recorder()


EngineFactory = Callable[..., Engine]


@pytest.fixture
def make_engine(clock: VirtualClock, notifier: Recorder) -> EngineFactory:
    def make(store: Store | None = None, **kwargs: Any) -> Engine:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("notifier", notifier)
        return Engine.from_directory(WORKFLOWS, store=store or MemoryStore(), **kwargs)

    return make


@pytest.fixture
def engine(make_engine: EngineFactory) -> Engine:
    return make_engine()
