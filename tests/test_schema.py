"""The JSON Schema and the loader agree."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from cswork.definition import load_text
from cswork.definition._yaml import read_yaml
from cswork.definition.schema import json_schema
from cswork.errors import DefinitionError

from .conftest import WORKFLOWS
from .test_loader import GOOD

VALIDATOR = jsonschema.Draft7Validator(json_schema())
SHIPPED = sorted(WORKFLOWS.rglob("*.yaml"))


def schema_errors(text: str) -> list[str]:
    data, _, problems = read_yaml(text)
    assert not problems
    return [e.message for e in VALIDATOR.iter_errors(data)]


def test_the_schema_is_valid_draft_07():
    jsonschema.Draft7Validator.check_schema(json_schema())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_files_pass_both(path: Path):
    text = path.read_text(encoding="utf-8")
    assert schema_errors(text) == []
    load_text(text, str(path))


BROKEN = {
    "unknown key": GOOD.replace("title: Demo", "title: Demo\ncolour: red"),
    "misspelt key": GOOD.replace("roles: [lead]", "rolse: [lead]"),
    "missing key": GOOD.replace("title: Demo\n", ""),
    "wrong type": GOOD.replace("version: 1", "version: one"),
    "version zero": GOOD.replace("version: 1", "version: 0"),
    "bad enum literal": GOOD.replace("{type: string}", "{type: text}"),
    "bad name": GOOD.replace("event: take", "event: Take-It"),
    "bad duration": GOOD
    + "deadlines:\n  d: {scope: [open], after: 4 hours, basis: wall}\n",
    "bad basis": GOOD + "deadlines:\n  d: {scope: [open], after: 4h, basis: office}\n",
    "bad action": GOOD.replace(
        "roles: [agent]}", "roles: [agent], actions: [{mail: x}]}"
    ),
    "bad condition": GOOD.replace(
        "roles: [lead]}", "roles: [lead], when: {every: []}}"
    ),
    "bad calendar hours": "calendar: c\nhours: {mon: ['9-12']}\n",
    "bad weekday": "calendar: c\nhours: {monday: ['09:00-12:00']}\n",
    "bad holiday": "calendar: c\nholidays: [2027-02-30x]\n",
    "warn percent": GOOD + "deadlines:\n  d: {scope: [open], after: 4h, basis: wall,"
    " warn: {percent: 120, notify: [lead]}}\n",
}


@pytest.mark.parametrize("text", BROKEN.values(), ids=BROKEN.keys())
def test_broken_samples_fail_both(text: str):
    assert schema_errors(text), "the schema accepted it"
    with pytest.raises(DefinitionError):
        load_text(text)
