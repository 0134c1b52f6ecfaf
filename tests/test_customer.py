"""The customer file (客户档案, 001 §7) and the links between cases.

001 §7 asks for one file per customer holding every request and where it
stands: ``Engine.customer`` lists a customer's cases across workflows, newest
first, with their open deadlines; ``cswork customer`` prints it; ``cswork
case show`` names the cases a hand-over linked.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cswork import Actor, AsyncEngine, Engine, InvalidArgumentError, VirtualClock
from cswork.cli import app
from cswork.storage import MemoryStore, SQLiteStore, Store

from .conftest import WORKFLOWS, Recorder, local

AGENT = Actor("li", {"agent"})

ASK = """\
workflow: ask
version: 1
title: Ask
roles: {agent: takes calls}
calendar: default
fields:
  customer_id: {type: string}
  question: {type: string}
  fix_case: {type: string}
states:
  open: {initial: true}
  answered: {final: true, outcome: resolved}
  escalated: {final: true, outcome: transferred}
start: {roles: [agent], requires: [customer_id, question]}
transitions:
  - {event: answer, from: open, to: answered, roles: [agent]}
  - event: escalate
    from: open
    to: escalated
    roles: [agent]
    actions:
      - start_case: fix
        copy: [customer_id, question]
        link: ask_case
        back_link: fix_case
deadlines:
  reply:
    scope: [open]
    from: start
    after: 4h
    basis: working
    met_by: [answer, escalate]
"""
FIX = """\
workflow: fix
version: 1
title: Fix
roles: {agent: takes calls}
calendar: default
fields:
  customer_id: {type: string}
  question: {type: string}
  ask_case: {type: string}
states:
  open: {initial: true}
  done: {final: true, outcome: resolved}
start: {roles: [agent], requires: [customer_id, question], optional: [ask_case]}
transitions:
  - {event: close, from: open, to: done, roles: [agent]}
deadlines:
  contact:
    scope: [open]
    from: start
    after: 2h
    basis: working
    met_by: [close]
  visit:
    scope: [open]
    from: start
    after: 8h
    basis: working
    met_by: [close]
"""


@pytest.fixture
def sops(tmp_path: Path) -> Path:
    d = tmp_path / "sops"
    d.mkdir()
    shutil.copytree(WORKFLOWS / "calendars", d / "calendars")
    (d / "ask.yaml").write_text(ASK, encoding="utf-8")
    (d / "fix.yaml").write_text(FIX, encoding="utf-8")
    return d


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        s = SQLiteStore(tmp_path / "c.db")
        yield s
        s.close()
    else:
        from .storage import pg

        make, cleanup = pg.store_factory(pg.server().dsn)
        s = make()
        yield s
        s.close()
        cleanup()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(local(2026, 3, 3, 10, 0))  # a Tuesday


@pytest.fixture
def engine(sops: Path, store: Store, clock: VirtualClock) -> Engine:
    return Engine.from_directory(sops, store=store, clock=clock, notifier=Recorder())


def _history(engine: Engine, clock: VirtualClock) -> dict[str, str]:
    """C-1: an answered question, then one escalated into a fix, then an open one."""
    ids: dict[str, str] = {}
    first = engine.start("ask", AGENT, {"customer_id": "C-1", "question": "a"})
    engine.fire(first.id, "answer", AGENT)
    ids["answered"] = first.id
    clock.advance(timedelta(minutes=5))
    second = engine.start("ask", AGENT, {"customer_id": "C-1", "question": "b"})
    clock.advance(timedelta(minutes=5))
    engine.fire(second.id, "escalate", AGENT)
    ids["escalated"] = second.id
    ids["fix"] = str(engine.get(second.id).data["fix_case"])
    clock.advance(timedelta(minutes=5))
    ids["open"] = engine.start("ask", AGENT, {"customer_id": "C-1", "question": "c"}).id
    engine.start("ask", AGENT, {"customer_id": "C-2", "question": "other"})
    return ids


def test_the_file_lists_every_case_across_workflows_newest_first(
    engine: Engine, clock: VirtualClock
) -> None:
    ids = _history(engine, clock)
    found = engine.customer("C-1")
    assert found.customer == "C-1"
    assert [c.id for c in found.cases] == [
        ids["open"],
        ids["fix"],
        ids["escalated"],
        ids["answered"],
    ]
    assert [c.workflow_id for c in found.cases] == ["ask", "fix", "ask", "ask"]
    assert [c.state for c in found.cases] == ["open", "open", "escalated", "answered"]
    assert [c.id for c in found.open_cases] == [ids["open"], ids["fix"]]
    assert not found.more


def test_each_case_carries_its_open_deadlines_soonest_first(
    engine: Engine, clock: VirtualClock
) -> None:
    ids = _history(engine, clock)
    cases = {c.id: c for c in engine.customer("C-1").cases}
    fix = cases[ids["fix"]]
    assert [d.name for d in fix.deadlines] == ["contact", "visit"]
    assert fix.deadlines[0].due_at == engine.get(ids["fix"]).armed["contact"]
    assert fix.deadlines[0].due_at < fix.deadlines[1].due_at
    assert [d.name for d in cases[ids["open"]].deadlines] == ["reply"]
    assert cases[ids["answered"]].deadlines == ()  # closed: nothing open
    assert fix.created_at == fix.updated_at
    assert cases[ids["answered"]].updated_at >= cases[ids["answered"]].created_at
    nearest = engine.customer("C-1").next_due
    assert nearest == fix.deadlines[0]  # the fix's 2 h beats the 4 h reply


def test_limit_keeps_the_newest_and_says_there_is_more(
    engine: Engine, clock: VirtualClock
) -> None:
    ids = _history(engine, clock)
    found = engine.customer("C-1", limit=2)
    assert [c.id for c in found.cases] == [ids["open"], ids["fix"]]
    assert found.more
    assert not engine.customer("C-1", limit=4).more


def test_an_unknown_customer_has_an_empty_file(engine: Engine) -> None:
    found = engine.customer("nobody")
    assert found.cases == ()
    assert not found.more
    assert found.next_due is None
    assert engine.customer("x" * 5000).cases == ()  # text no case may hold


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": True}, {"limit": "3"}])
def test_a_bad_limit_is_refused(engine: Engine, bad: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError):
        engine.customer("C-1", **bad)  # type: ignore[arg-type]


def test_a_customer_id_that_is_not_text_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidArgumentError):
        engine.customer(42)  # type: ignore[arg-type]


def test_links_name_the_case_each_side_of_a_handover(
    engine: Engine, clock: VirtualClock
) -> None:
    ids = _history(engine, clock)
    out = engine.links(ids["escalated"])
    assert [(x.kind, x.case_id, x.workflow_id, x.field) for x in out] == [
        ("started", ids["fix"], "fix", "fix_case")
    ]
    back = engine.links(ids["fix"])
    assert [(x.kind, x.case_id, x.workflow_id, x.field) for x in back] == [
        ("started_from", ids["escalated"], "ask", "ask_case")
    ]
    assert engine.links(ids["answered"]) == []


def test_the_async_engine_reads_the_file_too(
    engine: Engine, clock: VirtualClock
) -> None:
    ids = _history(engine, clock)

    async def read() -> tuple[list[str], int]:
        aengine = AsyncEngine(engine)
        try:
            found = await aengine.customer("C-1", limit=10)
            links = await aengine.links(ids["fix"])
            return [c.id for c in found.cases], len(links)
        finally:
            await aengine.close()

    listed, links = asyncio.run(read())
    assert listed[0] == ids["open"]
    assert links == 1


# ------------------------------------------------------------------ the CLI
runner = CliRunner()


@pytest.fixture
def stored(
    sops: Path, tmp_path: Path, clock: VirtualClock
) -> tuple[str, dict[str, str]]:
    s = SQLiteStore(tmp_path / "cli.db")
    engine = Engine.from_directory(sops, store=s, clock=clock, notifier=Recorder())
    ids = _history(engine, clock)
    engine.close()
    s.close()
    return f"sqlite:///{tmp_path / 'cli.db'}", ids


def test_cli_prints_the_file(sops: Path, stored: tuple[str, dict[str, str]]) -> None:
    url, ids = stored
    args = ["customer", "C-1", "--store", url, "--workflows", str(sops)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "4 case(s), 2 open" in lines[0]
    order = [ids["open"], ids["fix"], ids["escalated"], ids["answered"]]
    listed = [ln.split()[0] for ln in lines[1:] if not ln.startswith(" ")]
    assert listed == order
    assert any("due visit" in ln for ln in lines)


def test_cli_json_and_limit(sops: Path, stored: tuple[str, dict[str, str]]) -> None:
    url, ids = stored
    args = ["customer", "C-1", "--store", url, "--workflows", str(sops)]
    result = runner.invoke(app, [*args, "--format", "json", "--limit", "1"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["customer"] == "C-1"
    assert doc["more"] is True
    assert [c["id"] for c in doc["cases"]] == [ids["open"]]
    assert doc["cases"][0]["deadlines"][0]["name"] == "reply"


def test_cli_unknown_customer_and_missing_store(sops: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    result = runner.invoke(app, ["customer", "C-9", "--store", url])
    assert result.exit_code == 2
    assert not (tmp_path / "none.db").exists()
    s = SQLiteStore(tmp_path / "empty.db")
    s.close()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["customer", "C-9", "--store", empty])
    assert result.exit_code == 0
    assert "no cases" in result.output


def test_case_show_prints_the_links(
    sops: Path, stored: tuple[str, dict[str, str]]
) -> None:
    url, ids = stored
    base = ["--store", url, "--workflows", str(sops)]
    result = runner.invoke(app, ["case", "show", ids["fix"], *base])
    assert result.exit_code == 0, result.output
    assert f"started from ask case {ids['escalated']}" in result.output
    result = runner.invoke(app, ["case", "show", ids["escalated"], *base])
    assert f"started fix case {ids['fix']}" in result.output
    result = runner.invoke(app, ["case", "show", ids["fix"], *base, "--format", "json"])
    links = json.loads(result.output)["links"]
    assert links == [
        {
            "kind": "started_from",
            "case_id": ids["escalated"],
            "workflow_id": "ask",
            "field": "ask_case",
        }
    ]
