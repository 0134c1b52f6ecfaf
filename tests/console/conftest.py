"""Fixtures of the console tests: an engine with the desk workflow, people, clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the console extra is not installed")

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount
from starlette.testclient import TestClient

from cswork import Actor, Case, Engine, VirtualClock
from cswork.console import make_console
from cswork.definition import load_paths
from cswork.storage import MemoryStore, Store
from tests.conftest import TZ, WORKFLOWS

HERE = Path(__file__).parent
DESK = HERE / "desk.yaml"

MANAGER = Actor("mgr.sun", {"cs_manager"})
LEAD = Actor("lead.wang", {"lead", "cs_lead"}, {"technical"})
AGENT = Actor("agent.li", {"agent", "cs_agent"}, {"billing"})
STRANGER = Actor("visitor", set())
PEOPLE = {a.id: a for a in (MANAGER, LEAD, AGENT, STRANGER)}
#: Thursday before the Labour Day holidays (1–5 May 2026).
START = datetime(2026, 4, 30, 16, 0, tzinfo=TZ)


def desk_engine(
    store: Store | None = None, clock: VirtualClock | None = None
) -> Engine:
    """An engine with the shipped SOPs and the desk workflow on a virtual clock."""
    defs = load_paths([WORKFLOWS, DESK])
    return Engine(
        defs.workflows,
        calendars=defs.calendars,
        store=store or MemoryStore(),
        clock=clock or VirtualClock(START),
    )


def ticket(engine: Engine, n: int, **data: Any) -> Case:
    """A desk case of customer ``C-n`` (started by the billing agent)."""
    return engine.start(
        "desk", AGENT, {"customer_id": f"C-{n}", "summary": f"ticket {n}", **data}
    )


@pytest.fixture
def engine() -> Engine:
    return desk_engine()


@pytest.fixture
def seeded(engine: Engine) -> dict[str, Case]:
    """Cases of both units, one owned by the lead, one breached, one unassigned."""
    cases = {
        "mine": ticket(engine, 1, unit="technical", owner="lead.wang", severity="high"),
        "tech": ticket(engine, 2, unit="technical", severity="low"),
        "billing": ticket(engine, 3, unit="billing"),
        "loose": ticket(engine, 4),
    }
    engine.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    taken = engine.fire(cases["tech"].id, "take", LEAD, {"owner": "lead.wang"})
    engine.advance(timedelta(hours=9))  # "answer" (8 h wall) is breached
    cases["tech"] = engine.get(taken.id)
    cases["mine"] = engine.get(cases["mine"].id)
    cases["billing"] = engine.get(cases["billing"].id)
    cases["loose"] = engine.get(cases["loose"].id)
    return cases


def actor_from_header(request: Request) -> Actor | None:
    """The person named by the ``x-user`` header (None: nobody signed in)."""
    return PEOPLE.get(request.headers.get("x-user", ""))


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(engine: Engine) -> Iterator[MakeClient]:
    """A client of the console mounted at /console, acting as ``user``."""
    clients: list[TestClient] = []

    def make(user: str = "mgr.sun", **kw: Any) -> TestClient:
        kw.setdefault("actor_of", actor_from_header)
        console = make_console(kw.pop("engine", engine), **kw)
        app = Starlette(routes=[Mount("/console", console)])
        client = TestClient(app, headers={"x-user": user})
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def token_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = re.search(r'name="_csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def post_event(
    client: TestClient, case: Case, event: str, data: dict[str, str], **over: str
) -> Any:
    """Open the case page, then post the event's form as a browser would."""
    page = client.get(f"/console/case/{case.id}")
    assert page.status_code == 200, page.text
    form = {
        "_csrf": token_of(page.text),
        "_event": event,
        "_version": str(case.version),
    }
    form.update(data)
    form.update(over)
    return client.post(f"/console/case/{case.id}", data=form, follow_redirects=False)
