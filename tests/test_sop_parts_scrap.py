"""The shipped parts-scrap SOP (001 零部件管理), as repaired in issue 15."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import Engine, PermissionDeniedError

from .conftest import AGENT, ENGINEER, MANAGER, WAREHOUSE, WORKSHOP, Recorder
from .helpers import assert_consistent, steps

PART = {"part_name": "PSU", "part_model": "P-9", "quantity": 1, "reason": "burnt"}


def test_the_workshop_records_a_scrap(engine: Engine, notifier: Recorder):
    """001 零部件管理: 损坏无法修复…按照规定进行报废处理, 并进行记录 — the
    workshop, which finds such parts on the bench, may request the scrap."""
    case = engine.start("parts_scrap", WORKSHOP, PART)
    assert case.state == "requested"
    with pytest.raises(PermissionDeniedError):
        engine.start("parts_scrap", AGENT, PART)
    engine.fire(case.id, "confirm_unusable", WAREHOUSE, {"inspection_note": "burnt"})
    engine.fire(case.id, "approve", MANAGER, {})
    engine.fire(case.id, "dispose", WAREHOUSE, {"disposal_method": "recycling"})
    case = engine.fire(case.id, "update_stock", WAREHOUSE, {"stock_record": "S-7"})
    assert case.state == "scrapped"
    assert {k: case.data[k] for k in PART} == PART  # the record (001)
    assert_consistent(engine, case.id)


def test_a_part_the_workshop_scraps_during_a_take_back_repair_links_the_repair(
    engine: Engine,
):
    """001 零部件管理 / 带回维修: the repair that consumed the part is linked."""
    repair = engine.start(
        "repair",
        AGENT,
        {
            "customer_id": "C-3",
            "contact_name": "Mr Lin",
            "contact_phone": "138",
            "product_model": "X-200",
            "fault": "no power",
            "location": "Pudong",
            "situation": "line stopped",
        },
    )
    engine.fire(repair.id, "take_back", AGENT, {"engineer": ENGINEER.id})
    engine.fire(
        repair.id,
        "pick_up",
        ENGINEER,
        {
            "handover_model": "X-200",
            "handover_quantity": 1,
            "handover_fault": "no power",
            "handover_signed": True,
        },
    )
    engine.fire(repair.id, "scrap_part", WORKSHOP, PART)
    (scrap,) = engine.query(workflow="parts_scrap")
    assert scrap.data["repair_case_id"] == repair.id
    assert engine.history(scrap.id)[0].actor == WORKSHOP.id


def test_the_consuming_repair_can_be_recorded_later(engine: Engine):
    """001 零部件管理 (记录): a scrap the warehouse started by hand still gets the
    repair case that used the part up."""
    case = engine.start("parts_scrap", WAREHOUSE, PART)
    case = engine.fire(case.id, "link_repair", WAREHOUSE, {"repair_case_id": "R-42"})
    assert case.state == "requested"
    assert case.data["repair_case_id"] == "R-42"


def test_every_open_scrap_state_is_watched(engine: Engine):
    """Defaults where 001 is silent: inspection 2, disposal 5, stock record 1
    working day(s)."""
    case = engine.start("parts_scrap", ENGINEER, PART)
    engine.advance(timedelta(days=2, minutes=1))  # Tue 10:00 -> Thu 10:01
    assert "deadline:inspection:breached" in steps(engine, case.id)
    engine.fire(case.id, "confirm_unusable", WAREHOUSE, {"inspection_note": "burnt"})
    engine.fire(case.id, "approve", MANAGER, {})
    assert "disposal" in engine.get(case.id).armed
    engine.advance(timedelta(days=7, minutes=1))
    assert "deadline:disposal:breached" in steps(engine, case.id)
    engine.fire(case.id, "dispose", WAREHOUSE, {"disposal_method": "recycling"})
    assert "stock_record" in engine.get(case.id).armed
    engine.advance(timedelta(days=1, minutes=1))
    assert "deadline:stock_record:breached" in steps(engine, case.id)
    assert engine.get(case.id).breaches == 3
