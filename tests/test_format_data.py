"""Issue 19, conditions, data and actions: comparisons with now and between
fields, conditionally required fields, start conditions, resetting counters,
mapped hand-overs and outcome classes.

Each scenario is a small workflow written inline, run through the public API
on a virtual clock, and cites the source rule it serves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cswork import Actor, ConditionNotMetError, InvalidDataError
from cswork.cli import app
from cswork.definition import load_paths, load_text
from cswork.errors import DefinitionError, RejectedError
from cswork.report import build_report

from ._format import engine_for
from .conftest import local
from .helpers import assert_consistent

AGENT = Actor("li", {"agent"})

ORDER = """\
workflow: orders
version: 1
title: Order handling
customer_field: null
roles: {agent: takes orders}
fields:
  promised_at: {type: datetime}
  delivered_at: {type: datetime}
  phone: {type: string}
  email: {type: string}
  fault: {type: enum, values: [none, minor, major]}
  fault_note: {type: string}
counters:
  tries: {}
states:
  open: {initial: true}
  delivered: {}
  done: {final: true, outcome: resolved}
start:
  roles: [agent]
  optional: [phone, email, promised_at]
  when: phone is set or email is set          # 004 §2.2.1: a way to reach them
transitions:
  - event: promise
    from: open
    roles: [agent]
    requires: [promised_at]
    when: promised_at > now                    # 000 §4.1: a time to come
  - event: deliver
    from: open
    to: delivered
    roles: [agent]
    requires: [delivered_at, fault]
    requires_when: {fault_note: fault != none} # a fault is described
    when: {field: delivered_at, op: "<=", value_field: promised_at}
  - {event: retry, from: [open, delivered], roles: [agent], actions: [{increment: tries}]}
  - {event: clear, from: [open, delivered], roles: [agent], actions: [{reset: tries}]}
  - {event: close, from: delivered, to: done, roles: [agent]}
"""


def _order():  # type: ignore[no-untyped-def]
    engine, clock = engine_for(ORDER, at=local(2026, 3, 3, 10))
    case = engine.start("orders", AGENT, {"phone": "021-5555"})
    return engine, clock, case.id


# ---------------------------------------------------------- start: when
def test_a_start_condition_refuses_a_case_no_one_can_reach() -> None:
    engine, _ = engine_for(ORDER, at=local(2026, 3, 3, 10))
    with pytest.raises(ConditionNotMetError) as err:
        engine.start("orders", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})
    assert "phone is set or email is set" in str(err.value)
    assert engine.query(workflow="orders") == []
    assert engine.start("orders", AGENT, {"email": "c@example.com"}).state == "open"


# ------------------------------------------------------------ comparisons
def test_a_promised_time_in_the_past_is_refused() -> None:
    """000 §4.1: the promised delivery time lies ahead."""
    engine, _, cid = _order()
    before = (engine.get(cid), engine.history(cid))
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(cid, "promise", AGENT, {"promised_at": "2026-03-01T10:00:00+08:00"})
    assert "promised_at > now" in str(err.value)
    assert (engine.get(cid), engine.history(cid)) == before
    engine.fire(cid, "promise", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})
    assert engine.get(cid).data["promised_at"] == "2026-03-05T02:00:00+00:00"


def test_now_is_the_time_of_the_step() -> None:
    engine, clock, cid = _order()
    clock.set(local(2026, 3, 6, 10))  # the promise would now be in the past
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "promise", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})


def test_a_field_compared_with_another_field_value_field_form() -> None:
    """000 §4.2: delivered no later than promised (delivered_at <= promised_at)."""
    engine, _, cid = _order()
    engine.fire(cid, "promise", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})
    late = {"delivered_at": "2026-03-06T10:00:00+08:00", "fault": "none"}
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(cid, "deliver", AGENT, late)
    assert "delivered_at <= promised_at" in str(err.value)
    on_time = {"delivered_at": "2026-03-05T09:00:00+08:00", "fault": "none"}
    assert engine.fire(cid, "deliver", AGENT, on_time).state == "delivered"
    assert_consistent(engine, cid)


def test_a_comparison_with_an_unset_field_is_false() -> None:
    engine, _, cid = _order()  # nothing promised
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "deliver", AGENT,
                    {"delivered_at": "2026-03-04T10:00:00+08:00", "fault": "none"})  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "names"),
    [
        ("promised_at > fault", ("promised_at", "fault")),  # datetime vs enum
        ("tries > promised_at", ("tries", "promised_at")),  # counter vs datetime
        ("promised_at > later", ("later",)),  # neither a field nor now
    ],
)
def test_field_comparisons_are_type_checked_when_loaded(
    condition: str, names: tuple[str, ...]
) -> None:
    text = ORDER.replace("when: promised_at > now", f"when: {condition}")
    with pytest.raises(DefinitionError) as err:
        load_text(text)
    (problem,) = err.value.problems
    assert condition in text.splitlines()[problem.line - 1]
    for name in names:
        assert repr(name) in problem.message


def test_value_field_and_value_together_are_refused() -> None:
    text = ORDER.replace(
        "value_field: promised_at}", "value_field: promised_at, value: x}"
    )
    with pytest.raises(DefinitionError):
        load_text(text)


# --------------------------------------------------------- requires_when
def test_a_field_is_required_only_when_its_condition_holds() -> None:
    """003: a return visit that finds a fault records what it is."""
    engine, _, cid = _order()
    engine.fire(cid, "promise", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})
    faulty = {"delivered_at": "2026-03-04T10:00:00+08:00", "fault": "minor"}
    with pytest.raises(InvalidDataError) as err:
        engine.fire(cid, "deliver", AGENT, faulty)
    assert set(err.value.field_errors) == {"fault_note"}
    assert "fault != none" in err.value.field_errors["fault_note"]
    # Given, it is accepted without being listed under optional as well.
    case = engine.fire(cid, "deliver", AGENT, {**faulty, "fault_note": "scratched"})
    assert case.data["fault_note"] == "scratched"


def test_a_field_not_required_may_still_be_left_out() -> None:
    engine, _, cid = _order()
    engine.fire(cid, "promise", AGENT, {"promised_at": "2026-03-05T10:00:00+08:00"})
    ok = {"delivered_at": "2026-03-04T10:00:00+08:00", "fault": "none"}
    assert "fault_note" not in engine.fire(cid, "deliver", AGENT, ok).data


def test_requires_when_names_a_declared_field() -> None:
    with pytest.raises(DefinitionError) as err:
        load_text(ORDER.replace("{fault_note: fault", "{fault_notes: fault"))
    assert "fault_notes" in str(err.value)


# ------------------------------------------------------------------ reset
def test_reset_sets_a_counter_back_to_zero() -> None:
    engine, _, cid = _order()
    engine.fire(cid, "retry", AGENT)
    engine.fire(cid, "retry", AGENT)
    assert engine.get(cid).counters["tries"] == 2
    engine.fire(cid, "clear", AGENT)
    assert engine.get(cid).counters["tries"] == 0
    assert engine.history(cid)[-1].counters == {"tries": 0}  # replayable
    assert_consistent(engine, cid)


def test_reset_names_a_declared_counter() -> None:
    with pytest.raises(DefinitionError) as err:
        load_text(ORDER.replace("{reset: tries}", "{reset: trys}"))
    assert "trys" in str(err.value)


# ------------------------------------------------------- copy: a mapping
INQUIRY = """\
workflow: inquiry
version: 1
title: Inquiry
roles: {agent: takes calls}
fields:
  customer_id: {type: string}
  question: {type: string}
  urgency: {type: enum, values: [normal, very]}
  complaint_id: {type: string}
states:
  open: {initial: true}
  converted: {final: true, outcome: transferred}
start: {roles: [agent], requires: [customer_id, question], optional: [urgency]}
transitions:
  - event: convert
    from: open
    to: converted
    roles: [agent]
    actions:
      - start_case: complaint
        copy:
          customer_id: customer_id          # same name
          summary: question                 # renamed
          severity: {from: urgency, map: {normal: general, very: urgent}}
        link: inquiry_id
        back_link: complaint_id
"""
COMPLAINT = """\
workflow: complaint
version: 1
title: Complaint
roles: {agent: takes calls}
fields:
  customer_id: {type: string}
  summary: {type: string}
  severity: {type: enum, values: [general, urgent]}
  inquiry_id: {type: string}
states:
  open: {initial: true}
  done: {final: true, outcome: resolved}
start: {roles: [agent], requires: [customer_id, summary, severity], optional: [inquiry_id]}
transitions:
  - {event: close, from: open, to: done, roles: [agent]}
"""


def test_copy_renames_and_maps_values() -> None:
    """002 §6: an inquiry that turns out a complaint keeps what was said."""
    engine, _ = engine_for(INQUIRY, COMPLAINT, at=local(2026, 3, 3, 10))
    inquiry = engine.start("inquiry", AGENT,
                           {"customer_id": "C-1", "question": "broken", "urgency": "very"})  # fmt: skip
    engine.fire(inquiry.id, "convert", AGENT)
    (complaint,) = engine.query(workflow="complaint")
    assert complaint.data == {
        "customer_id": "C-1", "summary": "broken", "severity": "urgent",
        "inquiry_id": inquiry.id,
    }  # fmt: skip
    assert engine.get(inquiry.id).data["complaint_id"] == complaint.id
    started = engine.history(complaint.id)[0]
    assert (started.actor, started.roles) == ("li", ("agent",))  # who took the step


def test_a_hand_over_the_target_refuses_refuses_the_step() -> None:
    """The urgency was never asked: severity would be null, which the
    complaint requires. The step is refused, nothing changes, no case starts."""
    engine, _ = engine_for(INQUIRY, COMPLAINT, at=local(2026, 3, 3, 10))
    inquiry = engine.start("inquiry", AGENT, {"customer_id": "C-1", "question": "?"})
    before = (engine.get(inquiry.id), engine.history(inquiry.id))
    with pytest.raises(RejectedError) as err:
        engine.fire(inquiry.id, "convert", AGENT)
    assert "'complaint'" in str(err.value)
    assert isinstance(err.value, InvalidDataError)
    assert set(err.value.field_errors) == {"severity"}
    assert (engine.get(inquiry.id), engine.history(inquiry.id)) == before
    assert engine.query(workflow="complaint") == []
    assert engine.stuck_handovers() == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("very: urgent", "very: critical"), "critical"),  # not a target value
        (("summary: question", "summary: nothing"), "nothing"),  # no such field
        (("summary: question", "# summary: question"), "summary"),  # required there
    ],
)
def test_a_copy_mapping_is_checked_against_the_target(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    (tmp_path / "inquiry.yaml").write_text(INQUIRY.replace(*change))
    (tmp_path / "complaint.yaml").write_text(COMPLAINT)
    with pytest.raises(DefinitionError) as err:
        load_paths([tmp_path])
    assert any(says in p.message for p in err.value.problems)
    assert all(p.file.endswith("inquiry.yaml") for p in err.value.problems)


# ---------------------------------------------------------------- outcomes
CLOSING = """\
workflow: returns
version: 1
title: Product returns
outcomes: {{refunded: good, sent_on: neutral, refused: {refused}}}
roles: {{agent: takes returns}}
fields:
  customer_id: {{type: string}}
states:
  open: {{initial: true}}
  refunded: {{final: true, outcome: refunded}}
  sent_on: {{final: true, outcome: sent_on}}
  refused: {{final: true, outcome: refused}}
start: {{roles: [agent], requires: [customer_id]}}
transitions:
  - {{event: refund, from: open, to: refunded, roles: [agent]}}
  - {{event: send_on, from: open, to: sent_on, roles: [agent]}}
  - {{event: refuse, from: open, to: refused, roles: [agent]}}
"""


@pytest.mark.parametrize(("refused", "rate"), [("bad", 0.5), ("neutral", 1.0)])
def test_reports_count_outcomes_by_the_classes_the_workflow_declares(
    refused: str, rate: float
) -> None:
    """Outcomes other than resolved (a case sent on) need not count against the
    resolution rate: the SOP says how each counts."""
    engine, _ = engine_for(CLOSING.format(refused=refused), at=local(2026, 3, 3, 10))
    for event in ("refund", "send_on", "refuse"):
        case = engine.start("returns", AGENT, {"customer_id": f"C-{event}"})
        engine.fire(case.id, event, AGENT)
    report = build_report(engine, cuts=())
    (resolution,) = [i for i in report.indicators if i.key == "resolution_rate"]
    assert resolution.value == rate
    assert resolution.detail["neutral"] == (1 if refused == "bad" else 2)


def test_outcome_classes_name_outcomes_of_final_states() -> None:
    with pytest.raises(DefinitionError) as err:
        load_text(
            CLOSING.format(refused="bad").replace("sent_on: neutral", "sent: neutral")
        )
    assert "sent" in str(err.value)


# --------------------------------------------- the journey of issue 19, done
JOURNEY_ORDERS = """\
workflow: orders
version: 1
title: Order handling
roles:
  sales: takes orders
  dispatcher: delivers
fields:
  customer_id: {type: string, max_length: 20}
  product: {type: enum, values: [kettle, heater, fan]}
  promised_at: {type: datetime}
  delivered_at: {type: datetime}
  damaged: {type: boolean}
  damage_note: {type: string}
  visit_id: {type: string}
states:
  received: {initial: true}
  confirmed: {}
  delivered: {final: true, outcome: resolved}
start:
  roles: [sales]
  requires: [customer_id, product]
transitions:
  - event: confirm                         # 000 §4.1: a promised time to come
    from: received
    to: confirmed
    roles: [sales]
    requires: [promised_at]
    when: promised_at > now
  - event: deliver                         # 000 §4.2: as promised
    from: confirmed
    to: delivered
    roles: [dispatcher]
    requires: [delivered_at, damaged]
    requires_when: {damage_note: damaged == true}
    when: delivered_at <= promised_at
    actions:
      - start_case: return_visit
        copy:
          customer_id: customer_id
          item: {from: product, map: {kettle: small, heater: large, fan: small}}
        link: order_id
        back_link: visit_id
deadlines:
  confirm_in_time:
    scope: [received]
    after: 4h
    basis: working
  remind_before_delivery:                  # 000 §4.2: a day before the promised time
    scope: [confirmed]
    at: promised_at
    offset: -1d
    basis: working
"""
JOURNEY_VISIT = """\
workflow: return_visit
version: 1
title: Return visit
roles:
  dispatcher: delivers
  cs_agent: calls back
fields:
  customer_id: {type: string, max_length: 20}
  item: {type: enum, values: [small, large]}
  order_id: {type: string}
  satisfied: {type: boolean}
states:
  due: {initial: true}
  called: {}
  done: {final: true, outcome: resolved}
start:
  roles: [dispatcher]
  requires: [customer_id, item]
  optional: [order_id]
transitions:
  - {event: call, from: due, to: called, roles: [cs_agent], requires: [satisfied]}
  - {event: follow_up, from: called, to: done, roles: [cs_agent]}
deadlines:
  call_on_day_7:                           # 003: on day 7, not before day 6
    scope: [due]
    after: 7d
    not_before: 6d
    basis: wall
    met_by: [call]
  follow_up_in_a_month:                    # 003: at one month
    scope: [called]
    after: 1mo
    basis: wall
    met_by: [follow_up]
"""


def test_a_new_sop_using_the_additions_goes_from_file_to_report(tmp_path: Path) -> None:
    """Issue 19, done when: a window, a month, a field comparison, an at:
    offset, a conditionally required field and a mapped copy:, through the
    command line only: validate, diagram, simulate, report."""
    runner = CliRunner()

    def cswork(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    sops = tmp_path / "sops"
    sops.mkdir()
    (sops / "orders.yaml").write_text(JOURNEY_ORDERS, encoding="utf-8")
    (sops / "return_visit.yaml").write_text(JOURNEY_VISIT, encoding="utf-8")
    assert cswork("validate", str(sops)) == (0, "ok: 2 definition(s) valid\n")

    code, out = cswork("diagram", "return_visit", "--workflows", str(sops))
    assert code == 0, out
    assert "follow_up_in_a_month: 1mo wall" in out
    code, out = cswork("diagram", "orders", "--workflows", str(sops))
    assert code == 0, out
    assert "delivered_at <= promised_at" in out

    store = f"sqlite:///{tmp_path / 'trial.db'}"
    code, out = cswork(
        "simulate", str(sops), "--days", "10", "--cases-per-day", "4",
        "--seed", "2", "--mix", "orders=1", "--store", store,
    )  # fmt: skip
    assert code == 0, out
    (total,) = re.findall(r"^(\d+) cases over 10 days \(seed 2\)", out, re.MULTILINE)

    code, out = cswork(
        "report", "--store", store, "--workflows", str(sops), "--format", "json"
    )
    assert code == 0, out
    report = json.loads(out)
    cases = report["cases"]
    assert sum(sum(by.values()) for by in cases.values()) == int(total)
    assert cases["orders"]["resolved"] > 0  # delivered as promised ...
    assert sum(cases["return_visit"].values()) == cases["orders"]["resolved"]
    armed = {d["deadline"]: d["armed"] for d in report["deadlines"]}
    assert armed["remind_before_delivery"] > 0  # ... reminded the day before
    assert armed["call_on_day_7"] > 0  # each delivery gets its return visit
