"""The queue page: scopes, queues, filters, order and pages — all in the store."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cswork import Case, Engine
from cswork.console.policy import DefaultPolicy
from cswork.console.queues import QUEUES, QueueParams, queue_filters

from .conftest import AGENT, LEAD, MakeClient, ticket


def listed(html: str) -> list[str]:
    """The case ids a list page links to, in order."""
    return re.findall(r'href="/console/case/([^"]+)"', html)


def counts(html: str) -> dict[str, int]:
    return {
        name: int(n)
        for name, n in re.findall(
            r'id="tab-(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>', html
        )
    }


def test_manager_sees_every_open_case(make_client: MakeClient, seeded: dict[str, Case]):
    page = make_client("mgr.sun").get("/console/")
    assert page.status_code == 200
    assert set(listed(page.text)) == {c.id for c in seeded.values()}
    assert "Looking: <bdi" in page.text
    assert "mgr.sun" in page.text


@pytest.mark.parametrize("queue", list(QUEUES))
def test_tab_counts_match_engine_count(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case], queue: str
):
    page = make_client("lead.wang").get("/console/", params={"queue": queue})
    assert page.status_code == 200
    scope = DefaultPolicy().scopes(LEAD)[0]  # unit technical
    params = QueueParams(queue=queue, scope=scope.key)
    now = engine.clock.now()
    expected = {
        name: engine.count(**queue_filters(engine, params, scope, now, name))
        for name in QUEUES
    }
    assert counts(page.text) == expected
    assert len(listed(page.text)) == expected[queue]


def test_queues_hold_what_their_names_say(
    make_client: MakeClient, seeded: dict[str, Case]
):
    client = make_client("mgr.sun")
    assert listed(client.get("/console/?queue=breached").text) == [seeded["tech"].id]
    unassigned = set(listed(client.get("/console/?queue=unassigned").text))
    assert unassigned == {seeded["billing"].id, seeded["loose"].id}
    mine = listed(make_client("lead.wang").get("/console/?scope=mine").text)
    assert set(mine) == {seeded["mine"].id, seeded["tech"].id}


def test_due_soon_is_a_window_of_hours(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    client = make_client("mgr.sun")
    # "respond" of the new cases falls due on Wed 6 May 11:00 (after the holidays).
    soon = listed(client.get("/console/?queue=due&hours=2").text)
    later = listed(client.get("/console/?queue=due&hours=200").text)
    assert seeded["mine"].id not in soon
    assert seeded["mine"].id in later
    assert "(within 200 h)" in client.get("/console/?queue=due&hours=200").text


def test_unit_people_see_their_unit_and_their_own(
    make_client: MakeClient, seeded: dict[str, Case]
):
    lead = set(listed(make_client("lead.wang").get("/console/").text))
    assert lead == {seeded["mine"].id, seeded["tech"].id}
    agent = set(listed(make_client("agent.li").get("/console/").text))
    assert agent == {seeded["billing"].id}
    # Typing another unit's owner does not widen a scope: the scope's filters win.
    other = make_client("agent.li").get("/console/", params={"scope": "mine"})
    assert listed(other.text) == []


def test_a_scope_not_yours_is_refused(make_client: MakeClient, seeded: dict[str, Case]):
    page = make_client("agent.li").get("/console/?scope=unit:technical")
    assert page.status_code == 400
    assert seeded["tech"].id not in page.text
    assert make_client("agent.li").get("/console/?scope=all").status_code == 400


def test_filters(make_client: MakeClient, engine: Engine, seeded: dict[str, Case]):
    client = make_client("mgr.sun")
    started = engine.start(
        "inquiry", AGENT, {"customer_id": "C-9", "channel": "phone", "question": "?"}
    )
    by_wf = listed(client.get("/console/?workflow=inquiry").text)
    assert by_wf == [started.id]
    by_state = set(listed(client.get("/console/?state=working").text))
    assert by_state == {seeded["tech"].id}
    by_owner = set(listed(client.get("/console/?owner=lead.wang").text))
    assert by_owner == {seeded["mine"].id, seeded["tech"].id}


def test_severity_filter_is_done_by_the_store(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    client = make_client("mgr.sun")
    page = client.get("/console/?severity=high")
    assert page.status_code == 200
    assert 'name="severity" value="high"' in page.text
    assert listed(page.text) == [seeded["mine"].id]
    assert engine.count(data={"severity": "high"}) == 1
    assert listed(client.get("/console/?severity=none-such").text) == []


class Spy:
    """Records the engine's query and count calls."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[dict[str, Any]] = []
        self.counts: list[dict[str, Any]] = []
        query, count = engine.query, engine.count

        def spy_query(**kw: Any) -> list[Case]:
            self.queries.append(kw)
            return query(**kw)

        def spy_count(**kw: Any) -> int:
            self.counts.append(kw)
            return count(**kw)

        monkeypatch.setattr(engine, "query", spy_query)
        monkeypatch.setattr(engine, "count", spy_count)


def test_pages_come_from_the_store(
    make_client: MakeClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    cases = [ticket(engine, n, unit="technical") for n in range(7)]
    spy = Spy(engine, monkeypatch)
    client = make_client("mgr.sun")
    page = client.get("/console/?size=3&page=2&order=created")
    assert listed(page.text) == [c.id for c in cases[3:6]]
    assert [q["offset"] for q in spy.queries] == [3]
    assert [q["limit"] for q in spy.queries] == [3]
    assert len(spy.counts) == len(QUEUES)  # one count per tab, no list read
    assert "page 2 of 3" in page.text
    last = client.get("/console/?size=3&page=3")
    assert listed(last.text) == [cases[6].id]
    assert 'rel="next"' not in last.text
    assert 'rel="prev"' in last.text


def test_order_and_direction(make_client: MakeClient, engine: Engine):
    cases = [ticket(engine, n) for n in range(3)]
    client = make_client("mgr.sun")
    newest = listed(client.get("/console/?order=created&desc=1").text)
    assert newest == [c.id for c in reversed(cases)]
    page = client.get("/console/?order=created")
    # The sorted column's link flips the direction; the others sort by themselves.
    links = re.findall(r'class="sort" href="([^"]+)"', page.text)
    assert links == [
        "/console/?queue=open&amp;scope=all&amp;order=due",
        "/console/?queue=open&amp;scope=all&amp;desc=1",
        "/console/?queue=open&amp;scope=all&amp;order=updated",
    ]
    assert " ▲" in page.text


@pytest.mark.parametrize(
    "query",
    ["queue=nope", "order=state", "page=0", "size=100000", "hours=x", "page=-1"],
)
def test_bad_parameters_are_a_clear_400(make_client: MakeClient, query: str):
    page = make_client("mgr.sun").get(f"/console/?{query}")
    assert page.status_code == 400
    assert 'role="alert"' in page.text


def test_queue_links_keep_the_mount_path(
    make_client: MakeClient, seeded: dict[str, Case]
):
    page = make_client("mgr.sun").get("/console/?queue=breached")
    assert 'href="/console/static/console.css"' in page.text
    assert 'href="/console/customer?id=C-2"' in page.text


def test_times_are_in_the_calendar_zone(
    make_client: MakeClient, seeded: dict[str, Case]
):
    page = make_client("mgr.sun").get("/console/?queue=all")
    assert "2026-04-30 16:00 Thu" in page.text  # started at 16:00 in Shanghai
    assert "Asia/Shanghai (UTC+08:00)" in page.text
