"""``cswork.testing`` on a user's own SOP: what it loads and what it can drive."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cswork import Engine
from cswork.definition.model import DataField
from cswork.testing import invariants as inv
from cswork.testing import strategies as cst
from cswork.testing import workflow_state_machine

from .conftest import WORKFLOWS
from .helpers import routed_complaint
from .test_simulation import ANY_SOP

QUICK = settings(
    max_examples=8,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_extra_paths_add_to_the_files_next_to_the_sop(tmp_path: Path):
    sops, calendars = tmp_path / "sops", tmp_path / "calendars"
    sops.mkdir()
    shutil.copytree(WORKFLOWS / "calendars", calendars)
    text = ANY_SOP.replace(
        "customer_field: null", "customer_field: null\ncalendar: office"
    )
    (sops / "odd_jobs.yaml").write_text(text, encoding="utf-8")
    office = (calendars / "default.yaml").read_text(encoding="utf-8")
    (calendars / "office.yaml").write_text(
        office.replace("calendar: default", "calendar: office"), encoding="utf-8"
    )
    sop = sops / "odd_jobs.yaml"
    machine = workflow_state_machine(sop, extra_paths=[calendars / "office.yaml"])
    # The SOP's directory is loaded too (it used to be replaced).
    assert sorted(Path(p).name for p in machine.paths) == [
        "odd_jobs.yaml",
        "office.yaml",
    ]
    twice = workflow_state_machine(sop, extra_paths=[sop, calendars / "office.yaml"])
    assert sorted(Path(p).name for p in twice.paths) == ["odd_jobs.yaml", "office.yaml"]
    machine.TestCase.settings = QUICK
    machine.TestCase("runTest").runTest()


def test_the_state_machine_drives_a_workflow_unlike_the_shipped_ones(tmp_path: Path):
    # Text of one character, numbers only below -5 or between 0.5 and 0.7,
    # and a step only a deadline may take.
    (tmp_path / "odd_jobs.yaml").write_text(ANY_SOP, encoding="utf-8")
    machine = workflow_state_machine(tmp_path / "odd_jobs.yaml")
    machine.TestCase.settings = QUICK
    machine.TestCase("runTest").runTest()


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_valid_field_values_respect_the_declared_limits(data: st.DataObject):
    spec = data.draw(
        st.sampled_from(
            [
                DataField(type="string", max_length=1),
                DataField(type="integer", max=-5),
                DataField(type="integer", min=5000),
                DataField(type="integer", min=0.5, max=3.5),
                DataField(type="number", min=2e6),
                DataField(type="number", max=-2e6),
                DataField(type="number", min=0.5, max=0.7),
            ]
        )
    )
    value = data.draw(cst.field_values(spec))
    if spec.type == "string":
        assert len(value) <= spec.max_length
    else:
        assert spec.min is None or value >= spec.min
        assert spec.max is None or value <= spec.max


def test_the_ownership_invariant_catches_a_unit_no_workflow_names(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: the owner of every open case is a person, its unit one the
    workflow names — checked by ``check_case``, so every simulation holds it."""
    case = engine.get(routed_complaint(engine, "general"))
    assert case.unit == "technical"
    inv.check_ownership(engine, case.id)
    real_get = engine.get
    for bad in ({"unit": "nowhere", "data": {**case.data, "department": "nowhere"}},
                {"unit": "platform"},
                {"owner": " ", "data": {**case.data, "handler": " "}}):  # fmt: skip
        monkeypatch.setattr(
            engine, "get", lambda _id, b=bad: replace(real_get(_id), **b)
        )
        with pytest.raises(inv.InvariantViolation):
            inv.check_ownership(engine, case.id)
