"""The case page: data, timeline, timers explained, events offered, the diagram."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cswork import Case, Engine

from .conftest import LEAD, MakeClient, ticket


def test_case_page_shows_data_timeline_and_state(
    make_client: MakeClient, seeded: dict[str, Case]
):
    case = seeded["tech"]
    page = make_client("mgr.sun").get(f"/console/case/{case.id}")
    assert page.status_code == 200
    html = page.text
    assert '<strong id="state">working</strong>' in html
    assert "ticket 2" in html  # data
    # The timeline: who, when (Shanghai time), what changed.
    steps = re.findall(r'<li class="step[^"]*" id="step-(\d+)">', html)
    assert steps == [str(n) for n in range(1, case.version + 1)]
    assert "by <bdi>agent.li</bdi> (agent, cs_agent)" in html
    assert "by <bdi>lead.wang</bdi> (cs_lead, lead)" in html
    assert "2026-04-30 16:05 Thu" in html  # taken five minutes after the start
    assert "owner = <bdi>lead.wang</bdi>" in html
    assert "new → working" in html
    assert "outcome: <bdi>breached</bdi>" in html
    assert "(version 3)" in html


def test_timers_carry_their_explanation(make_client: MakeClient, engine: Engine):
    case = ticket(engine, 1, unit="technical")
    html = make_client("mgr.sun").get(f"/console/case/{case.id}").text
    assert "Take it within 4 working hours" in html
    assert "due 2026-05-06 11:00 Wed" in html
    explained = re.search(r'<pre class="explain">(.*?)</pre>', html, re.DOTALL)
    assert explained is not None
    text = explained.group(1)
    assert "skipped Fri 2026-05-01: public holiday: Labor Day" in text
    assert "used Wed 2026-05-06 09:00–11:00 (2h)" in text


def test_closed_timers_are_listed_with_their_state(
    make_client: MakeClient, seeded: dict[str, Case]
):
    html = make_client("mgr.sun").get(f"/console/case/{seeded['tech'].id}").text
    assert re.search(r'<details class="timer fired[^"]*" id="timer-', html)
    assert re.search(r'<details class="timer cancelled[^"]*" id="timer-', html)
    assert "Answer within 8 hours" in html


def test_events_offered_are_the_ones_the_person_may_fire(
    make_client: MakeClient, seeded: dict[str, Case]
):
    case = seeded["tech"]  # working
    lead = make_client("lead.wang").get(f"/console/case/{case.id}").text
    assert re.findall(r'id="form-(\w+)"', lead) == ["finish", "note", "wait"]
    manager = make_client("mgr.sun").get(f"/console/case/{case.id}").text
    assert re.findall(r'id="form-(\w+)"', manager) == ["finish", "note"]


def test_forms_have_typed_inputs(make_client: MakeClient, seeded: dict[str, Case]):
    html = make_client("lead.wang").get(f"/console/case/{seeded['mine'].id}").text
    form = re.search(r'<form[^>]*id="form-take">(.*?)</form>', html, re.DOTALL)
    assert form is not None
    f = form.group(1)
    assert re.search(r'name="owner" type="text"[^>]*required', f)
    assert 'name="promised_at" type="datetime-local"' in f
    assert re.search(r'name="attempts" type="number" step="1" min="0.0" max="10.0"', f)
    assert 'name="refund" type="number" step="any"' in f
    assert '<option value="true" >yes</option>' in f.replace("  ", " ")
    assert '<option value="high" selected>high</option>' in f  # the case's value
    assert f'name="_version" value="{seeded["mine"].version}"' in f
    # Required first, then the optional ones in the order the workflow names them.
    names = re.findall(r'<label for="f-take-(\w+)"', f)
    assert names == ["owner", "promised_at", "attempts", "refund", "urgent", "severity"]


def test_diagram_marks_the_current_state_and_path(
    make_client: MakeClient, seeded: dict[str, Case]
):
    html = make_client("mgr.sun").get(f"/console/case/{seeded['tech'].id}").text
    assert re.search(r'<g id="state_working" class="state current"', html)
    assert re.search(r'<g id="state_new" class="state"', html)
    assert "<script" not in html.split('<div class="diagram"')[1].split("</div>")[0]


@pytest.mark.parametrize("graphviz", [True, False], ids=["graphviz", "builtin"])
def test_both_drawings_carry_the_same_ids(
    make_client: MakeClient, seeded: dict[str, Case], graphviz: bool
):
    if graphviz:
        from cswork.diagram import graphviz_available

        if not graphviz_available():
            pytest.skip("Graphviz's dot is not installed")
    client = make_client("mgr.sun", graphviz=graphviz)
    html = client.get(f"/console/case/{seeded['tech'].id}").text
    drawn_by = "graphviz" if graphviz else "cswork"
    assert f'data-drawn-by="{drawn_by}"' in html
    assert re.search(r'<g id="state_working" class="state current"', html)
    assert 'id="transition_0_new"' in html
    if not graphviz:
        assert "install Graphviz" in html
    alone = client.get("/console/diagram", params={"case": seeded["tech"].id})
    assert alone.headers["content-type"].startswith("image/svg+xml")
    assert alone.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_unknown_and_invisible_cases_are_not_found(
    make_client: MakeClient, seeded: dict[str, Case]
):
    agent = make_client("agent.li")
    hidden = agent.get(f"/console/case/{seeded['tech'].id}")
    missing = agent.get("/console/case/no-such-case")
    assert hidden.status_code == missing.status_code == 404
    assert "ticket 2" not in hidden.text
    assert (
        agent.get("/console/diagram", params={"case": seeded["tech"].id}).status_code
        == 404
    )
    assert agent.get(f"/console/case/{seeded['billing'].id}").status_code == 200


def test_case_ids_with_slashes_and_marks(make_client: MakeClient, engine: Engine):
    odd = engine.start(
        "desk", LEAD, {"customer_id": "C/1?#", "summary": "odd"}, case_id="a/b?c#d"
    )
    client = make_client("mgr.sun")
    page = client.get("/console/case/a%2Fb%3Fc%23d")
    assert page.status_code == 200
    assert 'href="/console/case/a%2Fb%3Fc%23d"' in client.get("/console/").text
    assert 'href="/console/customer?id=C%2F1%3F%23"' in page.text
    assert odd.id in page.text


def test_closed_case_offers_nothing(make_client: MakeClient, engine: Engine):
    case = ticket(engine, 1, unit="technical")
    case = engine.fire(case.id, "take", LEAD, {"owner": "lead.wang"})
    engine.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    case = engine.fire(case.id, "finish", LEAD, {"note": "done", "attempts": 1})
    html = make_client("lead.wang").get(f"/console/case/{case.id}").text
    assert "The case is closed." in html
    assert 'id="form-' not in html
