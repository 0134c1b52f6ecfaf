"""The loader: safe YAML, YAML 1.2 scalars, and every error with its position."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cswork.definition import LoadedWorkflow, load_file, load_paths, load_text
from cswork.errors import DefinitionError

from .conftest import WORKFLOWS

GOOD = """\
workflow: demo
version: 1
title: Demo
roles: {agent: takes calls, lead: leads}
fields:
  customer_id: {type: string}
  severity: {type: enum, values: [low, high]}
states:
  new: {initial: true}
  open: {}
  closed: {final: true}
start: {roles: [agent], requires: [customer_id]}
transitions:
  - {event: take, from: new, to: open, roles: [agent]}
  - {event: close, from: open, to: closed, roles: [lead]}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as err:
        load_text(textwrap.dedent(text), "wf.yaml")
    return [str(p) for p in err.value.problems]


def test_good_file_loads():
    loaded = load_text(GOOD, "wf.yaml")
    assert isinstance(loaded, LoadedWorkflow)
    assert loaded.definition.initial_state() == "new"


def test_every_shipped_file_loads():
    defs = load_paths([WORKFLOWS])
    assert {w.definition.workflow for w in defs.workflows} == {
        "inquiry",
        "complaint",
        "repair",
        "parts_scrap",
        "emergency",
        "drill_program",
        "review",
    }
    assert [c.definition.calendar for c in defs.calendars] == ["default"]


def test_duplicate_keys_are_an_error_with_both_positions():
    assert problems(GOOD + "version: 2\n") == [
        "wf.yaml:16:1: duplicate key 'version' (first given at line 2)"
    ]


def test_yaml_11_booleans_and_sexagesimals_stay_strings():
    text = (
        GOOD.replace("  open: {}", "  on: {}\n  no: {}\n  'off': {}")
        .replace("to: open", "to: on")
        .replace("from: open", "from: on")
    )
    text += "  - {event: yes, from: on, to: no, roles: [agent]}\n"
    text += "  - {event: off, from: no, to: 'off', roles: [agent]}\n"
    text += "  - {event: 'y', from: 'off', to: closed, roles: [agent]}\n"
    wf = load_text(text).definition
    assert set(wf.states) == {"new", "on", "no", "off", "closed"}
    assert [t.event for t in wf.transitions][2:] == ["yes", "off", "y"]
    # 1:30 is text, not 90; 010 is ten, not eight
    with pytest.raises(DefinitionError) as err:
        load_text(GOOD.replace("version: 1", "version: 1:30"))
    assert "version" in str(err.value)
    assert (
        load_text(GOOD.replace("version: 1", "version: 010")).definition.version == 10
    )


def test_unknown_key_points_at_the_key_with_a_hint():
    assert problems(GOOD.replace("roles: [lead]", "rolse: [lead]")) == [
        "wf.yaml:15:5: transitions.1: missing required key 'roles'",
        "wf.yaml:15:44: transitions.1.rolse: unknown key 'rolse' (did you mean 'roles'?)",
    ]


def test_unknown_names_are_located_and_get_hints():
    text = GOOD.replace("to: closed", "to: closd").replace(
        "roles: [lead]", "roles: [leed]"
    )
    assert problems(text) == [
        "wf.yaml:9:3: no final state can be reached from 'new'",
        "wf.yaml:10:3: state 'open' is not final but no transition leads out of it",
        "wf.yaml:11:3: final state 'closed' cannot be reached from the initial state 'new'",
        "wf.yaml:15:36: unknown state 'closd' (did you mean 'closed'?)",
        "wf.yaml:15:51: unknown role 'leed' (did you mean 'lead'?)",
    ]


def test_wrong_types_and_literals_are_reported_together():
    text = GOOD.replace("version: 1", "version: one").replace(
        "{type: enum, values: [low, high]}", "{type: enumm, values: [low, high]}"
    )
    found = problems(text)
    assert found[0] == (
        "wf.yaml:2:10: version: Input should be a valid integer, "
        "unable to parse string as an integer"
    )
    assert found[1].startswith("wf.yaml:7:20: fields.severity.type: Input should be")
    assert found[1].endswith("(did you mean 'enum'?)")


def test_condition_syntax_and_enum_values_are_checked():
    text = GOOD.replace("roles: [lead]}", "roles: [lead], when: 'severity = high'}")
    (p,) = problems(text)
    assert p.startswith("wf.yaml:15:65: transitions.1.when: ")
    assert p.endswith("use '==' to compare (offset 8)")
    text = GOOD.replace("roles: [lead]}", "roles: [lead], when: severity == hihg}")
    assert problems(text) == [
        (
            "wf.yaml:15:65: 'hihg' is not a value of enum field 'severity' "
            "(did you mean 'high'?)"
        )
    ]


def test_aliases_are_refused():
    text = (
        GOOD.replace(
            "roles: {agent: takes calls, lead: leads}",
            "roles: &r {agent: takes calls, lead: leads}",
        )
        + "extra: *r\n"
    )
    (p,) = problems(text)
    assert p == "wf.yaml:16:8: aliases (*name) are not allowed"


def test_billion_laughs_is_refused_quickly():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    found = problems("\n".join(lines))
    assert found == ["wf.yaml:2:10: aliases (*name) are not allowed"]


def test_python_tags_are_refused():
    text = GOOD.replace(
        "title: Demo", "title: !!python/object/apply:os.system ['true']"
    )
    found = problems(text)
    assert found[0].startswith("wf.yaml:3:8: the tag 'tag:yaml.org,2002:python/object/")


def test_deep_nesting_is_refused_without_crashing():
    found = problems("a: " + "[" * 100_000 + "]" * 100_000)
    assert found == ["wf.yaml:1:67: nesting deeper than 64 levels"]


def test_syntax_error_has_a_position():
    (p,) = problems("workflow: demo\nversion: [1, 2\ntitle: x\n")
    assert p.startswith("wf.yaml:3:6: YAML syntax:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "wf.yaml:1:1: the file is empty"),
        (
            "- a\n- b\n",
            (
                "wf.yaml:1:1: a definition is a mapping that starts with "
                "'workflow:' or 'calendar:'"
            ),
        ),
        (
            "workflw: x\n",
            (
                "wf.yaml:1:1: a definition is a mapping that starts with "
                "'workflow:' or 'calendar:' (did you mean 'workflow'?)"
            ),
        ),
        ("a: 1\n---\nb: 2\n", "wf.yaml:2:1: only one YAML document per file"),
    ],
)
def test_not_a_definition(text: str, message: str):
    assert problems(text) == [message]


def test_directory_reports_every_file_and_cross_file_problems(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(GOOD.replace("roles: [lead]", "roles: [leed]"))
    (tmp_path / "b.yaml").write_text(
        GOOD.replace("workflow: demo", "workflow: other") + "calendar: nosuch\n"
    )
    (tmp_path / "c.yaml").write_text(GOOD.replace("Demo", "Demo again"))
    with pytest.raises(DefinitionError) as err:
        load_paths([tmp_path])
    found = [str(p) for p in err.value.problems]
    assert any(p.startswith(f"{tmp_path}/a.yaml:15:") and "'leed'" in p for p in found)
    assert any(
        p.startswith(f"{tmp_path}/b.yaml:16:11: unknown calendar 'nosuch'")
        for p in found
    )
    assert not any("c.yaml" in p for p in found)


def test_same_workflow_version_twice_is_an_error(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("Demo", "Demo copy"))
    with pytest.raises(DefinitionError) as err:
        load_paths([tmp_path])
    (p,) = err.value.problems
    assert p.file.endswith("b.yaml")
    assert "also defined in" in p.message


def test_unreadable_and_oversized_files(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 1_100_000)
    with pytest.raises(DefinitionError, match="larger than"):
        load_file(big)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"workflow: \xff\xfe\n")
    with pytest.raises(DefinitionError, match="cannot read"):
        load_file(bad)
