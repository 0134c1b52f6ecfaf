"""A process owner's journey, through the command line only.

A new SOP is written to an empty directory, then checked (`validate`),
drawn (`diagram`), tried with simulated traffic (`simulate --mix`), and
measured (`report`) — nothing but `cswork` commands and their output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cswork.cli import app
from cswork.diagram import graphviz_available

runner = CliRunner()

# Order handling (seed 000 §4): confirm the order with a promised delivery
# time, deliver by that time, then a return visit (003) started from the
# delivery with the customer and the product copied over.
ORDERS = """\
workflow: orders
version: 1
title: Order handling (订单处理)
roles:
  sales: 销售 — takes and confirms orders
  dispatcher: 调度 — plans and records deliveries
fields:
  customer_id: {type: string, max_length: 20}
  product: {type: enum, values: [kettle, heater, fan]}
  quantity: {type: integer, min: 1, max: 50}
  promised_at: {type: datetime, description: The delivery time promised}
  express: {type: boolean}
  cancel_reason: {type: string, max_length: 200}
states:
  received: {initial: true}
  confirmed: {}
  delivered: {final: true, outcome: resolved}
  cancelled: {final: true, outcome: cancelled}
start:
  roles: [sales]
  requires: [customer_id, product, quantity]
transitions:
  - event: confirm
    from: received
    to: confirmed
    roles: [sales]
    requires: [promised_at, express]
    when: quantity <= 10
  - event: confirm
    from: received
    to: confirmed
    roles: [dispatcher]
    requires: [promised_at, express]
    description: Large orders are confirmed by dispatch
  - event: deliver
    from: confirmed
    to: delivered
    roles: [dispatcher]
    tags: [resolve]
    actions:
      - start_case: return_visit
        copy: [customer_id, product]
        link: order_id
  - event: cancel
    from: [received, confirmed]
    to: cancelled
    roles: [sales]
    requires: [cancel_reason]
deadlines:
  confirm_in_time:
    title: Confirm within four working hours
    scope: [received]
    after: 4h
    basis: working
    warn: {before: 1h, notify: [sales]}
  deliver_as_promised:
    title: Deliver by the promised time
    scope: [confirmed]
    at: promised_at
    warn: {before: 2h, notify: [dispatcher]}
"""

RETURN_VISIT = """\
workflow: return_visit
version: 1
title: Return visit (回访)
roles:
  sales: 销售 — takes orders
  dispatcher: 调度 — delivers
  cs_agent: 客服 — calls customers back
fields:
  customer_id: {type: string, max_length: 20}
  product: {type: enum, values: [kettle, heater, fan]}
  order_id: {type: string}
  satisfied: {type: boolean}
states:
  due: {initial: true}
  done: {final: true, outcome: resolved}
start:
  roles: [dispatcher, cs_agent]
  requires: [customer_id]
  optional: [product, order_id]
transitions:
  - event: call
    from: due
    to: done
    roles: [cs_agent]
    requires: [satisfied]
deadlines:
  call_within_a_week:
    scope: [due]
    after: 7d
    basis: wall
"""


@pytest.fixture
def sops(tmp_path: Path) -> Path:
    folder = tmp_path / "my_sops"
    folder.mkdir()
    (folder / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    (folder / "return_visit.yaml").write_text(RETURN_VISIT, encoding="utf-8")
    return folder


def cswork(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_new_sop_from_file_to_report(sops: Path, tmp_path: Path):
    # 1. Check the files.
    code, out = cswork("validate", str(sops))
    assert (code, out.strip()) == (0, "ok: 2 definition(s) valid")

    # 2. Draw them: both ways to confirm, told apart; the deadlines on their states.
    code, out = cswork("diagram", "orders", "--workflows", str(sops))
    assert code == 0, out
    assert "received --> confirmed : confirm [quantity <= 10] (sales)\n" in out
    assert "received --> confirmed : confirm (dispatcher)\n" in out
    assert "◷ deliver_as_promised: at promised_at" in out
    assert "◷ confirm_in_time: 4h working" in out
    code, out = cswork("diagram", str(sops / "orders.yaml"), "--format", "dot")
    assert code == 0, out
    assert 'fontname="Noto Sans CJK SC' in out
    assert "订单处理" in out
    if graphviz_available():
        code, out = cswork(
            "diagram", "orders", "--workflows", str(sops), "--format", "svg"
        )
        assert code == 0, out
        assert "<svg" in out

    # 3. Try them with traffic: a mix naming a workflow not there is refused.
    store = f"sqlite:///{tmp_path / 'trial.db'}"
    code, out = cswork("simulate", str(sops), "--mix", "orders=3,complaint=1")
    assert code == 2
    assert "'complaint'" in out
    assert "orders, return_visit" in out
    code, out = cswork(
        "simulate", str(sops), "--days", "5", "--cases-per-day", "20",
        "--seed", "2", "--mix", "orders=3,return_visit=1", "--store", store,
    )  # fmt: skip
    assert code == 0, out
    assert "traffic mix: orders 75%, return_visit 25%" in out
    (total,) = re.findall(r"^(\d+) cases over 5 days \(seed 2\)", out, re.MULTILINE)
    assert int(total) > 50

    # 4. Measure: the report reads the same store.
    code, out = cswork(
        "report", "--store", store, "--workflows", str(sops), "--format", "json"
    )
    assert code == 0, out
    report = json.loads(out)
    cases = report["cases"]
    assert set(cases) == {"orders", "return_visit"}
    assert sum(sum(by_outcome.values()) for by_outcome in cases.values()) == int(total)
    assert cases["orders"]["resolved"] > 0  # delivered
    assert cases["return_visit"]["resolved"] > 0  # called back
    deadlines = {
        d["deadline"]: d for d in report["deadlines"] if d["workflow"] == "orders"
    }
    assert set(deadlines) == {"confirm_in_time", "deliver_as_promised"}
    assert all(d["armed"] > 0 for d in deadlines.values())
    assert all(d["compliance"] is not None for d in deadlines.values())
    code, out = cswork("report", "--store", store, "--workflows", str(sops))
    assert code == 0, out
    assert "confirm_in_time" in out
    assert "deliver_as_promised" in out
