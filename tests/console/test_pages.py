"""The other pages: workflows and their files, indicators, customers, assets."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cswork import Case, Engine
from tests.conftest import WORKFLOWS

from .conftest import DESK, MakeClient, ticket


def test_workflow_list(make_client: MakeClient):
    page = make_client("agent.li").get("/console/workflows")
    assert page.status_code == 200
    for wid in ("complaint", "desk", "inquiry", "repair"):
        assert f'href="/console/workflows/{wid}"' in page.text
    assert "was not told where the files are" in page.text


def test_workflow_page(make_client: MakeClient):
    page = make_client("agent.li").get("/console/workflows/desk")
    assert page.status_code == 200
    html = page.text
    assert "Service desk ticket (工单)" in html
    assert re.search(r'<g id="state_new" class="state"', html)  # no current state
    assert "state current" not in html
    # Deadlines: timing, scope, what meets them.
    assert (
        '<th scope="row">respond</th><td><bdi>Take it within 4 working hours</bdi></td><td><bdi>4h working</bdi></td><td>new</td><td>take</td>'
        in html
    )
    assert "2d working" in html
    assert "8h wall" in html
    assert '<th scope="row">lead</th><td><bdi>leads a unit</bdi></td>' in html
    assert "attempts is not set or attempts &lt; 5" in html


def test_unknown_workflow_is_not_found(make_client: MakeClient):
    client = make_client("agent.li")
    assert client.get("/console/workflows/nope").status_code == 404
    assert client.get("/console/workflows/desk?version=x").status_code == 400
    assert client.get("/console/workflows/desk?version=7").status_code == 404


def test_file_status(make_client: MakeClient, engine: Engine, tmp_path: Path):
    shutil.copy(DESK, tmp_path / "desk.yaml")
    (tmp_path / "broken.yaml").write_text(
        "workflow: broken\nversion: 1\ntitle: <b>x</b>\nstates: {}\n", encoding="utf-8"
    )
    newer = (tmp_path / "desk.yaml").read_text(encoding="utf-8")
    (tmp_path / "desk2.yaml").write_text(
        newer.replace("workflow: desk", "workflow: desk_copy"), encoding="utf-8"
    )
    client = make_client("mgr.sun", sources=[tmp_path])
    html = client.get("/console/workflows").text
    assert html.count('<tr class="ok">') == 2
    assert html.count('<tr class="invalid">') == 1
    assert re.search(r"broken\.yaml:\d+:\d+: ", html)
    assert 'desk_copy v1</td>\n  <td><span class="bad">not loaded</span>' in html
    one = client.get("/console/workflows/desk").text
    assert "desk v1</td>\n  <td>v1</td>" in one
    # A change on disk shows without a restart.
    (tmp_path / "broken.yaml").unlink()
    assert '<tr class="invalid">' not in client.get("/console/workflows").text


def test_customer_page_lists_every_workflow_newest_first(
    make_client: MakeClient, engine: Engine
):
    from datetime import timedelta

    from .conftest import AGENT

    first = ticket(engine, 7, unit="billing")
    engine.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    second = engine.start(
        "inquiry", AGENT, {"customer_id": "C-7", "channel": "phone", "question": "?"}
    )
    ticket(engine, 8, unit="billing")
    client = make_client("mgr.sun")
    page = client.get("/console/customer", params={"id": "C-7"})
    assert page.status_code == 200
    ids = re.findall(r'href="/console/case/([^"]+)"', page.text)
    assert ids == [second.id, first.id]
    assert "2 cases of this customer" in page.text
    # A unit's person sees only the cases their scope holds.
    agent = make_client("agent.li").get("/console/customer", params={"id": "C-7"})
    assert re.findall(r'href="/console/case/([^"]+)"', agent.text) == [first.id]
    assert "Give a customer key" in client.get("/console/customer").text


def test_customer_pages_are_paginated(make_client: MakeClient, engine: Engine):
    for _ in range(5):
        ticket(engine, 1)
    page = make_client("mgr.sun").get("/console/customer?id=C-1&size=2&page=3")
    assert len(re.findall(r'class="case-link"', page.text)) == 1
    assert "page 3 of 3" in page.text


def test_indicators(make_client: MakeClient, seeded: dict[str, Case]):
    page = make_client("mgr.sun").get("/console/indicators?month=2026-04")
    assert page.status_code == 200
    html = page.text
    assert "2026-04 (Asia/Shanghai), all cases: 4 cases started" in html
    assert "Resolution rate" in html
    assert "≥ 95 %" in html
    assert 'data-chart="chart-indicators"' in html
    assert '<script src="/console/static/plotly.min.js" defer>' in html
    assert "cdn" not in html.lower()
    assert (
        make_client("lead.wang")
        .get("/console/indicators?scope=unit:technical")
        .status_code
        == 200
    )


def test_indicators_without_plotly_are_tables(
    make_client: MakeClient, seeded: dict[str, Case], monkeypatch: pytest.MonkeyPatch
):
    from cswork.console import app

    monkeypatch.setattr(app, "plotly_js", lambda: None)
    html = make_client("mgr.sun").get("/console/indicators?month=2026-04").text
    assert "plotly.min.js" not in html
    assert "data-chart" not in html
    assert "Charts need plotly.js" in html
    assert "Resolution rate" in html


def test_indicators_are_for_people_the_policy_names(make_client: MakeClient):
    page = make_client("visitor").get("/console/indicators")
    assert page.status_code == 403
    bad = make_client("mgr.sun").get("/console/indicators?month=2026-13")
    assert bad.status_code == 400


def test_assets_are_served_by_the_console(make_client: MakeClient):
    client = make_client("mgr.sun")
    css = client.get("/console/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    js = client.get("/console/static/console.js")
    assert "Plotly.newPlot" in js.text
    plotly = client.get("/console/static/plotly.min.js")
    assert plotly.status_code == 200
    assert len(plotly.content) > 1_000_000
    assert client.get("/console/static/../app.py").status_code == 404
    assert client.get("/console/static/nope.js").status_code == 404


def test_pages_carry_a_strict_content_security_policy(make_client: MakeClient):
    answer = make_client("mgr.sun").get("/console/")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_shipped_workflows_all_render(make_client: MakeClient):
    client = make_client("mgr.sun")
    for path in sorted(WORKFLOWS.glob("*.yaml")):
        wid = path.stem
        assert client.get(f"/console/workflows/{wid}").status_code == 200, wid
