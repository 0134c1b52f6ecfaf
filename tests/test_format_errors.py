"""Issue 19, errors that teach, and issue 14, states where a case could wait
for ever: the messages a process owner sees, and ``cswork validate --strict``.

We assert what our messages must tell (where, what, how to fix), not every
word of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cswork import Actor, ConditionNotMetError, PermissionDeniedError
from cswork.cli import app
from cswork.definition import load_paths, load_text
from cswork.errors import DefinitionError

from ._format import engine_for
from .conftest import local

runner = CliRunner()

CLOSING = """\
workflow: closing
version: 1
title: Closing a complaint
customer_field: null
roles: {agent: a, manager: m}
fields:
  severity: {type: enum, values: [low, high]}
  drill: {type: boolean}
counters:
  reopen_count: {}
states:
  open: {initial: true}
  closed: {final: true}
  escalated: {final: true}
start: {roles: [agent], optional: [severity, drill]}
transitions:
  - {event: reopen, from: open, roles: [agent], actions: [{increment: reopen_count}]}
  - event: close
    from: open
    to: closed
    roles: [agent]
    when: severity == low and reopen_count < 2
  - event: close
    from: open
    to: escalated
    roles: [manager]
    when: reopen_count >= 2 or (severity == high and drill == false)
"""
AGENT = Actor("a", {"agent"})
MANAGER = Actor("m", {"manager"})
BOTH = Actor("b", {"agent", "manager"})


# ------------------------------------------------------- YAML slips, hints
def test_an_unquoted_comma_in_a_flow_mapping_gets_a_quoting_hint() -> None:
    text = CLOSING.replace(
        "  - {event: reopen, from: open,",
        "  - {event: reopen, description: as promised, to the customer, from: open,",
    )
    with pytest.raises(DefinitionError) as err:
        load_text(text, "closing.yaml")
    (problem,) = err.value.problems
    assert problem.file == "closing.yaml"
    assert "to the customer" in text.splitlines()[problem.line - 1]
    assert "to the customer" in problem.message  # what the loader saw
    assert "quote" in problem.hint  # how to fix it ...
    assert '"as promised, to the customer"' in problem.hint  # ... spelt out


def test_the_hint_is_given_for_a_block_mapping_value_too(tmp_path: Path) -> None:
    text = CLOSING.replace(
        "  open: {initial: true}",
        "  open: {initial: true, description: new, not yet read}",
    )
    (tmp_path / "closing.yaml").write_text(text)
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "closing.yaml:" in result.output
    assert '"new, not yet read"' in result.output


# ------------------------------------------------------ refused conditions
def _closing():  # type: ignore[no-untyped-def]
    engine, _ = engine_for(CLOSING, at=local(2026, 3, 3, 10))
    case = engine.start("closing", AGENT, {"severity": "high", "drill": True})
    engine.fire(case.id, "reopen", AGENT)
    return engine, case.id


def test_a_refused_condition_names_the_failing_clause_and_its_values() -> None:
    engine, cid = _closing()
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(cid, "close", MANAGER)
    message = str(err.value)
    # Both clauses of the "or" failed: each is named with the value it saw.
    assert "reopen_count >= 2 (reopen_count is 1)" in message
    assert "drill == false (drill is true)" in message
    # The clause that held is not blamed.
    assert "severity is" not in message.split("2. close")[-1]
    assert err.value.condition == (
        "reopen_count >= 2 or (severity == high and drill == false)"
    )


def test_several_transitions_sharing_an_event_are_each_listed_with_why() -> None:
    """The refusal shows every alternative, not only the first."""
    engine, cid = _closing()
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(cid, "close", AGENT)
    lines = str(err.value).splitlines()
    (first,) = [line for line in lines if "→ closed" in line]
    (second,) = [line for line in lines if "→ escalated" in line]
    assert "severity == low (severity is 'high')" in first  # its condition
    assert "manager" in second  # the agent lacks its role
    assert lines.index(first) < lines.index(second)  # in file order


def test_with_both_roles_each_alternative_gives_its_failing_condition() -> None:
    engine, cid = _closing()
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(cid, "close", BOTH)
    text = str(err.value)
    assert "severity == low (severity is 'high')" in text
    assert "reopen_count >= 2 (reopen_count is 1)" in text


def test_a_role_refusal_of_every_alternative_says_which_roles_may() -> None:
    engine, cid = _closing()
    with pytest.raises(PermissionDeniedError) as err:
        engine.fire(cid, "close", Actor("x", {"visitor"}))
    assert set(err.value.required_roles) == {"agent", "manager"}


def test_a_comparison_between_fields_shows_both_values() -> None:
    text = (
        CLOSING.replace(
            "  drill: {type: boolean}",
            "  drill: {type: boolean}\n  promised_at: {type: datetime}\n"
            "  delivered_at: {type: datetime}",
        )
        .replace(
            "  - {event: reopen,",
            "  - {event: deliver, from: open, roles: [agent], requires: [delivered_at],\n"
            "     when: delivered_at <= promised_at}\n  - {event: reopen,",
        )
        .replace(
            "optional: [severity, drill]", "optional: [severity, drill, promised_at]"
        )
    )
    engine, _ = engine_for(text, at=local(2026, 3, 3, 10))
    case = engine.start("closing", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(case.id, "deliver", AGENT,
                    {"delivered_at": "2026-03-06T10:00:00+08:00"})  # fmt: skip
    message = str(err.value)
    assert "delivered_at is '2026-03-06T02:00:00+00:00'" in message
    assert "promised_at is '2026-03-05T02:00:00+00:00'" in message


# ------------------------------------------- validate: nothing waits forever
WAITING = """\
workflow: waiting
version: 1
title: A case that may wait
customer_field: null
roles: {agent: a}
fields:
  owner: {type: string}
states:
  open: {initial: true}
  parked: {waits: customer}
  idle: {}
  done: {final: true}
start: {roles: [agent]}
transitions:
  - {event: park, from: open, to: parked, roles: [agent]}
  - {event: idle, from: open, to: idle, roles: [agent]}
  - {event: finish, from: [open, parked, idle], to: done, roles: [agent]}
deadlines:
  reply:
    scope: [open]
    after: 1d
    basis: working
"""


def _warnings(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "waiting.yaml").write_text(text)
    (loaded,) = load_paths([tmp_path]).workflows
    return [p.message for p in loaded.warnings]


def test_unwatched_waiting_and_unowned_states_are_warnings(tmp_path: Path) -> None:
    found = _warnings(tmp_path, WAITING)
    assert any("'parked'" in m and "waits for the customer" in m for m in found)
    assert any("'idle'" in m and "no deadline" in m for m in found)
    for state in ("open", "parked", "idle"):
        assert any(f"'{state}'" in m and "no owner" in m for m in found)
    assert not any("'done'" in m for m in found)  # final states wait for nothing


def test_a_state_may_say_why_it_is_unbounded_or_unowned(tmp_path: Path) -> None:
    text = (
        WAITING.replace("  idle: {}", '  idle: {unbounded: "kept, on purpose"}')
        .replace("  open: {initial: true}", "  open: {initial: true, unowned: a queue}")
        .replace("start: {roles: [agent]}", "start: {roles: [agent]}\n")
        .replace("{event: park, from: open, to: parked, roles: [agent]}",
                 "{event: park, from: open, to: parked, roles: [agent], "
                 "assign: {owner: actor}}")
        .replace("{event: idle, from: open, to: idle, roles: [agent]}",
                 "{event: idle, from: open, to: idle, roles: [agent], "
                 "assign: {owner: actor}}")
        .replace("    scope: [open]", "    scope: [open, parked]")
    )  # fmt: skip
    assert _warnings(tmp_path, text) == []


def test_without_an_owner_field_nobody_is_asked_for_an_owner(tmp_path: Path) -> None:
    text = WAITING.replace("fields:\n  owner: {type: string}\n", "")
    found = _warnings(tmp_path, text)
    assert found
    assert not any("no owner" in m for m in found)


def test_validate_warns_and_strict_fails(tmp_path: Path) -> None:
    (tmp_path / "waiting.yaml").write_text(WAITING)
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 0
    assert "warning" in result.output
    assert "waiting.yaml:10:" in result.output  # the state 'parked', by position
    strict = runner.invoke(app, ["validate", "--strict", str(tmp_path)])
    assert strict.exit_code == 1
    assert "'parked'" in strict.output
    with pytest.raises(DefinitionError):
        load_paths([tmp_path], strict=True)


def test_waits_unbounded_unowned_are_for_open_states_only() -> None:
    text = WAITING.replace(
        "  done: {final: true}", "  done: {final: true, waits: customer}"
    )
    with pytest.raises(DefinitionError):
        load_text(text)
