"""The console in a real browser: Chromium driven by Playwright.

Run: ``pytest tests/console -m browser``; regenerate the screenshots of
docs/console.md with ``CSWORK_SCREENSHOTS=1 pytest tests/console -m browser``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cswork import Actor, Engine, VirtualClock
from cswork.console import DefaultPolicy, fixed_actor, make_console
from cswork.definition import load_paths
from cswork.storage import SQLiteStore
from tests.conftest import WORKFLOWS

from .browser import CHROMIUM_ARGS, chromium, screenshot, served, unavailable
from .conftest import AGENT, DESK, LEAD, START, ticket
from .hostile import ALL, HOSTILE_ACTOR, INVISIBLE, RTL, SCRIPT, hostile_case

pytestmark = pytest.mark.browser

#: The person looking in these tests: a group lead with a manager's view.
SUN = Actor("sun.li", {"cs_manager", "cs_lead", "lead"}, {"technical"})


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh Chromium profile (one per module), 1280 px wide."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install playwright)")
    executable = chromium()
    with sync_playwright() as p:
        try:
            ctx = p.chromium.launch_persistent_context(
                str(tmp_path_factory.mktemp("chromium-profile")),
                executable_path=executable,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 860},
                locale="en-GB",
                timezone_id="Asia/Shanghai",
            )
        except Error as exc:
            unavailable(f"Chromium at {executable} did not start: {exc}")
        yield ctx
        ctx.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    """A page that records dialogs, outside requests and script errors."""
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.requests = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    page.close()


def desk_and_complaints(tmp_path: Path) -> tuple[Engine, dict[str, str]]:
    """An engine on SQLite with tickets and complaints; some breached."""
    counter = itertools.count(1)
    defs = load_paths([WORKFLOWS, DESK])
    engine = Engine(
        defs.workflows,
        calendars=defs.calendars,
        store=SQLiteStore(tmp_path / "console.db"),
        clock=VirtualClock(START),
        id_factory=lambda: f"{next(counter):06d}",
    )
    ids: dict[str, str] = {}
    for n, severity in enumerate(["urgent", "important", "general"]):
        c = engine.start("complaint", AGENT, {"customer_id": f"C-{100 + n}",
                         "channel": "phone", "summary": "The line drops every evening"})  # fmt: skip
        c = engine.fire(c.id, "record", LEAD, {
            "organisation": "Acme", "contact_person": "Ms Chen", "request": "fix it",
            "expectation": "a stable line", "apologised": True, "phone": "138",
            "current_situation": "drops at 20:00 daily"})  # fmt: skip
        engine.fire(
            c.id, "classify", LEAD, {"type": "network_line", "severity": severity}
        )
        ids[f"complaint_{severity}"] = c.id
    tech = ticket(engine, 1, unit="technical", severity="high")
    engine.fire(tech.id, "take", LEAD, {"owner": "lead.wang", "attempts": 1})
    ids["ticket"] = tech.id
    ids["waiting"] = ticket(engine, 2, unit="technical").id
    ids["billing"] = ticket(engine, 3, unit="billing").id
    engine.advance(timedelta(hours=9))  # the 8 h answer and the 4 h contact breach
    return engine, ids


def app_for(engine: Engine, actor: Actor = SUN, **kw: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    console = make_console(
        engine, actor_of=fixed_actor(actor), sources=[WORKFLOWS], **kw
    )
    return Starlette(routes=[Mount("/console", console)])


def current_state(page: Any) -> str:
    """The id of the state the diagram highlights as current."""
    return str(page.get_attribute("#diagram g.state.current", "id"))


def test_journey_queue_case_timeline_explain_act(page: Any, tmp_path: Path):
    engine, ids = desk_and_complaints(tmp_path)
    with served(app_for(engine)) as url:
        page.goto(f"{url}/console/")
        assert "Cases of all cases: open" in page.inner_text("h1")
        page.click("#tab-breached")
        page.wait_for_url("**queue=breached**")
        rows = page.locator("table.cases tbody tr")
        assert rows.count() == engine.count(closed=False, breached=True)
        screenshot(page, "queue")
        # Follow the breached ticket.
        page.click(f"a.case-link[href$='/case/{ids['ticket']}']")
        page.wait_for_url(f"**/console/case/{ids['ticket']}")
        assert page.inner_text("#state") == "working"
        assert current_state(page) == "state_working"
        # Its timeline says who did what, when, in Shanghai time.
        timeline = page.inner_text("#timeline")
        assert "step: take · new → working" in timeline
        assert "by lead.wang (cs_lead, lead)" in timeline
        assert "deadline fell due: answer" in timeline
        assert "outcome: breached" in timeline
        assert "2026-04-30 16:00 Thu" in timeline
        # A timer's explanation: the Labour Day holidays are skipped.
        timer = page.locator("details.timer.pending").first
        if not timer.evaluate("d => d.open"):  # the soonest one starts open
            timer.locator("summary").click()
        explain = timer.locator("pre.explain").inner_text()
        assert "skipped Fri 2026-05-01: public holiday: Labor Day" in explain
        assert "due " in explain
        screenshot(page, "case", full_page=True)
        # Fire an allowed event through its form: wait for a promised answer.
        form = page.locator("details.event", has=page.locator("#form-wait"))
        form.locator("summary").click()
        page.fill("#f-wait-promised_at", "2026-05-08T10:00")
        screenshot(page, "act")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**done=wait")
        assert "Done: wait." in page.inner_text("p.done")
        assert page.inner_text("#state") == "waiting"
        # The highlighted state moved; the state left is drawn as visited.
        assert current_state(page) == "state_waiting"
        assert page.locator("#diagram #state_working").get_attribute("class") == "state"
        assert "step: wait · working → waiting" in page.inner_text("#timeline")
        assert "promised_at = 2026-05-08 10:00 Fri" in page.inner_text("#timeline")
    after = engine.get(ids["ticket"])
    assert after.state == "waiting"
    assert after.data["promised_at"] == "2026-05-08T02:00:00+00:00"
    assert engine.history(after.id)[-1].actor == "sun.li"
    assert not page.errors
    assert not page.dialogs
    assert all(u.startswith((url, "data:")) for u in page.requests)


def test_a_refusal_is_shown_in_the_page(page: Any, tmp_path: Path):
    engine, ids = desk_and_complaints(tmp_path)
    with served(app_for(engine)) as url:
        page.goto(f"{url}/console/case/{ids['ticket']}")
        form = page.locator("details.event", has=page.locator("#form-finish"))
        form.locator("summary").click()
        page.fill("#f-finish-note", "fixed the router")
        page.fill("#f-finish-attempts", "9")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#error")
        assert "attempts < 5" in page.inner_text("#error")
        assert page.input_value("#f-finish-note") == "fixed the router"
        assert page.inner_text("#state") == "working"
        screenshot(page, "refused")
    assert engine.get(ids["ticket"]).state == "working"


def test_workflow_and_indicator_pages(page: Any, tmp_path: Path):
    engine, _ = desk_and_complaints(tmp_path)
    with served(app_for(engine)) as url:
        page.goto(f"{url}/console/workflows/complaint")
        assert page.locator("#diagram svg").count() == 1
        assert "first_contact_urgent" in page.inner_text("table.deadlines")
        screenshot(page, "workflow")
        page.goto(f"{url}/console/indicators?month=2026-04")
        page.wait_for_selector("#chart-indicators[data-drawn=yes]", timeout=30_000)
        assert page.locator("#chart-breaches .main-svg").count() >= 1
        screenshot(page, "indicators", full_page=True)
    assert not page.errors
    assert all(u.startswith((url, "data:")) for u in page.requests)


def test_hostile_text_runs_nothing_and_is_shown(page: Any, tmp_path: Path):
    engine, _ = desk_and_complaints(tmp_path)
    case = hostile_case(engine)
    policy = DefaultPolicy(managers={"lead"})
    with served(app_for(engine, HOSTILE_ACTOR, policy=policy)) as url:
        for path in (f"/console/case/{case.id}", "/console/?queue=all",
                     "/console/customer?id=C%22%3E%3Cimg"):  # fmt: skip
            page.goto(url + path)
            assert page.evaluate("window.__pwned") is None
            bad = page.evaluate(
                "document.querySelectorAll('[onerror],[onmouseover],main img').length"
            )
            assert bad == 0
            scripts = page.evaluate(
                "Array.from(document.scripts).filter(s => !s.src && "
                "s.type !== 'application/json').length"
            )
            assert scripts == 0
        page.goto(f"{url}/console/case/{case.id}")
        data = page.inner_text("section#data")
        for text in (SCRIPT, RTL.strip("\u202e\u202c"), "evil.exe"):
            assert text in data
        shown = page.evaluate(
            "Array.from(document.querySelectorAll('#data td.value bdi'))"
            ".map(e => e.textContent).join('\\n')"
        )
        assert RTL in shown
        assert INVISIBLE in shown
        assert all(s in shown for s in ALL)
        assert HOSTILE_ACTOR.id in page.inner_text("header .who")
        # A refusal quoting hostile input is text too.
        form = page.locator("details.event", has=page.locator("#form-take"))
        form.locator("summary").click()
        page.fill("#f-take-owner", SCRIPT)
        page.select_option("#f-take-severity", "low")
        page.evaluate(
            "document.querySelector('#f-take-severity').innerHTML += "
            "'<option value=\"' + "
            + repr(SCRIPT)
            + ".replace(/\"/g, '&quot;') + '\">x</option>'"
        )
        page.select_option("#f-take-severity", SCRIPT)
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#error")
        assert "Refused" in page.inner_text("#error")
        assert page.evaluate("window.__pwned") is None
        screenshot(page, "hostile", full_page=True)
    assert not page.dialogs
    assert not page.errors
