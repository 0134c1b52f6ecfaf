"""Hostile input: whatever comes in, a clear cswork error or a faithful store — never a bypass."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cswork import Actor, CsworkError, Engine, RejectedError, VirtualClock
from cswork.definition import load_paths, load_text
from cswork.errors import DefinitionError
from cswork.storage import MemoryStore, SQLiteStore
from cswork.testing.invariants import check_case, snapshot

from .conftest import WORKFLOWS, local

NASTY = st.one_of(
    st.text(max_size=50),
    st.sampled_from(
        [
            "'; DROP TABLE cases; --",
            "$(reboot)",
            "`id`",
            "\x00",
            "\ud800",
            "a" * 100_000,
            "🎉" * 50,
            "%s%s%s",
            "{0}",
            "\\",
            "\n\r\t",
        ]
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    NASTY,
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
    ),
    max_leaves=6,
)
PAYLOADS = st.one_of(
    st.dictionaries(
        st.one_of(
            NASTY,
            st.sampled_from(
                [
                    "contact_note",
                    "customer_id",
                    "severity",
                    "type",
                    "answer",
                    "advice",
                    "appointment_at",
                    "quantity",
                ]
            ),
        ),
        VALUES,
        max_size=6,
    ),
    st.dictionaries(st.integers(), VALUES, max_size=2),
    VALUES,
)
ROLES = st.sets(
    st.one_of(
        NASTY,
        st.sampled_from(
            ["cs_agent", "cs_lead", "dept_head", "cs_manager", "system", "tech_support"]
        ),
    ),
    max_size=3,
)
EVENTS = st.one_of(
    NASTY,
    st.sampled_from(
        [
            "respond",
            "answer",
            "transfer",
            "close",
            "record",
            "classify",
            "escalate",
            "accept",
        ]
    ),
    st.integers(),
    st.none(),
)


def fresh(store: Any = None) -> Engine:
    return Engine.from_directory(
        WORKFLOWS,
        store=store or MemoryStore(),
        clock=VirtualClock(local(2026, 3, 3, 10, 0)),
    )


ENGINE = fresh()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    workflow=st.sampled_from(["inquiry", "complaint", "repair"]),
    event=EVENTS,
    payload=PAYLOADS,
    roles=ROLES,
    start_payload=PAYLOADS,
)
def test_engine_api_refuses_or_stores_verbatim(
    workflow, event, payload, roles, start_payload
):
    engine = ENGINE
    actor = Actor("fuzz", {r for r in roles if isinstance(r, str)})
    try:
        case = engine.start(workflow, actor, start_payload)  # type: ignore[arg-type]
    except CsworkError:
        case = engine.start(
            workflow,
            Actor("ok", {"cs_agent"}),
            {
                "inquiry": {"customer_id": "C", "channel": "phone", "question": "?"},
                "complaint": {"customer_id": "C", "channel": "phone", "summary": "s"},
                "repair": {
                    "customer_id": "C",
                    "contact_name": "n",
                    "contact_phone": "p",
                    "product_model": "m",
                    "fault": "f",
                    "location": "l",
                    "situation": "s",
                },
            }[workflow],
        )
    else:
        assert actor.roles & {"cs_agent", "cs_lead"}, "a start without the role"
    before = snapshot(engine, case.id)
    try:
        after = engine.fire(case.id, event, actor, payload)  # type: ignore[arg-type]
    except RejectedError:
        assert snapshot(engine, case.id) == before
    except CsworkError:
        assert snapshot(engine, case.id) == before
    else:
        (step,) = [
            t
            for t in engine.definition(workflow).transitions
            if t.event == event
            and (before[0].state in t.from_ or "*" in t.from_)
            and actor.roles & set(t.roles)
        ][:1] or [None]
        assert step is not None, f"{event!r} by {actor} was not refused"
        for name in step.requires:
            assert after.data.get(name) is not None
        stored = engine.history(case.id)[-1].changes
        for key, value in stored.items():
            assert isinstance(key, str)
            assert value is None or isinstance(value, str | int | float | bool)
    check_case(engine, case.id)


@pytest.mark.parametrize("bad", [None, 7, "x", ["a"], ("a",)])
def test_wrong_shapes_get_clear_errors(bad):
    engine = fresh()
    case = engine.start(
        "inquiry",
        Actor("a", {"cs_agent"}),
        {"customer_id": "C", "channel": "phone", "question": "?"},
    )
    if bad is None:
        engine.fire(
            case.id, "respond", Actor("a", {"cs_agent"}), bad
        )  # no data is fine
        return
    with pytest.raises(RejectedError):
        engine.fire(case.id, "respond", Actor("a", {"cs_agent"}), bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Actor"):
        engine.fire(case.id, "respond", "cs_agent", {})  # type: ignore[arg-type]


def test_naive_datetimes_are_refused():
    engine = fresh()
    case = engine.start(
        "repair",
        Actor("a", {"cs_agent"}),
        {
            "customer_id": "C",
            "contact_name": "n",
            "contact_phone": "p",
            "product_model": "m",
            "fault": "f",
            "location": "l",
            "situation": "s",
        },
    )
    engine.fire(
        case.id,
        "dispatch_onsite",
        Actor("a", {"cs_agent"}),
        {"engineer": "e", "estimated_repair_time": "1h"},
    )
    with pytest.raises(RejectedError) as err:
        engine.fire(
            case.id,
            "schedule_visit",
            Actor("e", {"repair_engineer"}),
            {"appointment_at": datetime(2026, 3, 4, 10), "appointment_place": "x"},
        )
    assert "no timezone" in str(err.value)


def test_strings_with_sql_are_stored_verbatim_in_sqlite(tmp_path):
    engine = fresh(SQLiteStore(tmp_path / "h.db"))
    evil = "x'); DELETE FROM cases; -- \u202e 客户 \\ % _"
    case = engine.start(
        "inquiry",
        Actor("a", {"cs_agent"}),
        {"customer_id": evil, "channel": "phone", "question": evil},
    )
    again = fresh(SQLiteStore(tmp_path / "h.db"))
    assert again.get(case.id).data["question"] == evil
    assert [c.id for c in again.query(customer=evil)] == [case.id]


# ------------------------------------------------------------------ the loader
GOODS = [p.read_text(encoding="utf-8") for p in sorted(WORKFLOWS.rglob("*.yaml"))]


def mutate(text: str, data: st.DataObject) -> str:
    ops = data.draw(
        st.lists(
            st.sampled_from(["cut", "insert", "delete", "dup", "swap"]),
            min_size=1,
            max_size=4,
        )
    )
    for op in ops:
        i = data.draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "cut":
            text = text[:i]
        elif op == "insert":
            text = (
                text[:i]
                + data.draw(
                    st.sampled_from(
                        [
                            ":",
                            "- ",
                            "\n",
                            "{",
                            "[",
                            "&a ",
                            "*a",
                            "!!python/object:os.system ",
                            "  ",
                            "'",
                            '"',
                            "\t",
                            "? ",
                            "---\n",
                            "%YAML 1.1\n",
                            "<<: *a\n",
                            "\x00",
                            "\ud800",
                        ]
                    )
                )
                + text[i:]
            )
        elif op == "delete":
            text = text[:i] + text[i + data.draw(st.integers(1, 20)) :]
        elif op == "dup":
            lines = text.splitlines(keepends=True)
            if lines:
                j = data.draw(st.integers(0, len(lines) - 1))
                text = "".join(lines[: j + 1] + lines[j:])
        else:
            lines = text.splitlines(keepends=True)
            if len(lines) > 1:
                j = data.draw(st.integers(0, len(lines) - 2))
                lines[j], lines[j + 1] = lines[j + 1], lines[j]
                text = "".join(lines)
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), base=st.sampled_from(GOODS))
def test_mutated_definitions_load_or_fail_with_positions(data, base):
    text = mutate(base, data)
    began = time.perf_counter()
    try:
        load_text(text, "fuzz.yaml")
    except DefinitionError as err:
        assert err.problems
        for p in err.problems:
            assert p.file == "fuzz.yaml"
            assert p.line >= 0
            assert p.column >= 0
            assert p.message
    assert time.perf_counter() - began < 5


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes(blob):
    try:
        load_text(blob.decode("utf-8", "replace"), "b.yaml")
    except DefinitionError as err:
        assert err.problems


@pytest.mark.parametrize("depth", [63, 64, 65, 10_000, 1_000_000])
def test_deep_nesting(depth):
    with pytest.raises(DefinitionError):
        load_text("a: " + "[" * depth + "]" * depth)


def test_wide_and_huge_documents_are_bounded():
    began = time.perf_counter()
    with pytest.raises(DefinitionError, match="too large"):
        load_text("[" + "1," * 500_000 + "1]")
    with pytest.raises(DefinitionError):
        load_text("workflow: " + "x" * 900_000)
    assert time.perf_counter() - began < 10


# ------------------- validate accepts exactly what the engine builds (issue 18)
def _json(value: Any) -> str:
    # JSON is YAML: the value is written exactly as drawn.
    return json.dumps(value, ensure_ascii=True)


def _validate_agrees_with_the_engine(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "defs"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        try:
            load_paths([folder])
            valid = True
        except DefinitionError as err:
            assert all(p.line > 0 for p in err.problems), err.problems
            valid = False
        store = SQLiteStore(str(Path(tmp) / "cases.db"))
        try:
            Engine.from_directory(folder, store=store)
            builds = True
        except DefinitionError:
            builds = False
        finally:
            store.close()
        assert valid == builds


TIMES = st.builds(
    "{:02d}:{:02d}".format, st.integers(0, 25), st.sampled_from([0, 30, 59, 60])
)
CALENDAR_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "timezone": st.one_of(
        st.sampled_from(
            [
                "UTC",
                "Europe/Berlin",
                "../../etc/passwd",
                "/etc/localtime",
                "localtime",
                "Asia/Shang\x00hai",
                "asia/shanghai",
                "Etc/GMT+5",
                "",
            ]
        ),
        st.text(max_size=20),
        st.integers(),
    ),
    "country": st.one_of(
        st.sampled_from(
            ["CN", "DE", "USA", "UK", "cn", "../../os", "__class__", "", None]
        ),
        st.text(max_size=5),
        st.integers(),
    ),
    "hours": st.dictionaries(
        st.sampled_from(["mon", "tue", "sat", "sun", "xyz"]),
        st.lists(st.builds("{}-{}".format, TIMES, TIMES), max_size=3),
        max_size=3,
    ),
    "day_length": st.one_of(
        st.sampled_from(["8h", "24h", "25h", "1d", "2d", "0s", "99999999999d"]),
        st.builds("{}h".format, st.integers(0, 10**12)),
        st.integers(),
    ),
    "data_years": st.lists(
        st.one_of(st.integers(-5, 10**15), st.booleans()), max_size=3
    ),
    "holidays": st.lists(
        st.one_of(
            st.dates().map(str),
            st.sampled_from(["2026-02-30", "0000-01-01", "9999-12-31"]),
            st.integers(),
        ),
        max_size=3,
    ),
    "makeup_hours": st.sampled_from(["mon", "sat", "xyz", 1]),
}


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.dictionaries(
        st.sampled_from(sorted(CALENDAR_VALUES)),
        st.none(),
        min_size=1,
        max_size=3,
    ).flatmap(lambda keys: st.fixed_dictionaries({k: CALENDAR_VALUES[k] for k in keys}))
)
def test_a_calendar_validates_exactly_when_the_engine_builds_it(values):
    text = "calendar: default\n" + "".join(
        f"{key}: {_json(value)}\n" for key, value in values.items()
    )
    _validate_agrees_with_the_engine({"calendar.yaml": text})


WORKFLOW = """\
workflow: demo
version: {version}
title: Demo
roles: {{agent: takes calls, lead: leads}}
fields:
  customer_id: {{type: string}}
  due: {{type: datetime}}
  amount: {{type: {number}, min: {min}, max: {max}}}
  note: {{type: string, max_length: {max_length}}}
  flag: {{type: boolean}}
states:
  new: {{initial: {initial}}}
  open: {{}}
  closed: {{final: true}}
start: {{roles: [agent], requires: [customer_id]}}
transitions:
  - {{event: take, from: new, to: open, roles: [agent], when: {when},
      actions: [{{set: {{{set_field}: {set_value}}}}}]}}
  - {{event: close, from: open, to: closed, roles: [lead]}}
deadlines:
  d: {{scope: [open], after: {after}, basis: wall,
      warn: {{percent: {percent}, notify: [lead]}}}}
"""
LITERALS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2026-03-06T10:00:00+08:00",
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+01:00",
            "2026-03-06T10:00:00",
            "yes",
        ]
    ),
)
WORKFLOW_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "version": st.one_of(st.integers(-1, 10**30), st.booleans(), st.just(1.0)),
    "number": st.sampled_from(["number", "integer"]),
    "min": st.one_of(st.none(), st.integers(-(10**20), 10**20), st.booleans()),
    "max": st.one_of(st.none(), st.floats(-1e300, 1e300), st.booleans()),
    "max_length": st.one_of(st.integers(-1, 2_000_000), st.booleans(), st.just(5.0)),
    "initial": st.sampled_from([True, "yes", 1]),
    "when": st.builds(
        lambda f, op, v: _json({"field": f, "op": op, "value": v}),
        st.sampled_from(["due", "amount", "note", "flag", "customer_id"]),
        st.sampled_from(["==", "!=", "<", ">=", "in", "is set"]),
        st.one_of(LITERALS, st.lists(LITERALS, max_size=2)),
    ),
    "set_field": st.sampled_from(["due", "amount", "note", "flag"]),
    "set_value": LITERALS.map(_json),
    "after": st.one_of(
        st.sampled_from(["1h", "3650d", "3651d", "99999999999d", "0s"]),
        st.builds("{}h".format, st.integers(0, 10**14)),
    ),
    "percent": st.one_of(st.integers(-1, 120), st.booleans()),
}


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries(WORKFLOW_VALUES))
def test_a_workflow_validates_exactly_when_the_engine_builds_it(values):
    text = WORKFLOW.format(
        **{
            k: v if k in ("when", "set_value", "number", "set_field") else _json(v)
            for k, v in values.items()
        }
    )
    _validate_agrees_with_the_engine({"wf.yaml": text})
