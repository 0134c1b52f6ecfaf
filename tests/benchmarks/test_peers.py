"""The W1 peers take the complaint path and refuse what cswork refuses."""

from __future__ import annotations

from typing import Any

import pytest

from cswork import Actor
from cswork.errors import RejectedError
from cswork.storage import MemoryStore
from tests.benchmarks import peers
from tests.benchmarks.common import AGENT, PATH, START, STEPS_PER_CASE, engine_on

pytestmark = pytest.mark.benchmark
needs_peers = pytest.mark.skipif(
    bool(peers.missing()), reason="the bench extra is not installed"
)


def test_dict_floor_reaches_the_end():
    assert peers.dict_floor(3).steps == 3 * len(PATH)


@needs_peers
def test_psm_and_spiff_take_the_whole_path():
    assert peers.psm_run(2).steps == 2 * STEPS_PER_CASE
    assert peers.spiff_run(2).steps == 2 * STEPS_PER_CASE
    assert peers.spiff_run(1, durable=True).steps == STEPS_PER_CASE


def _spoiled(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Payloads cswork refuses: each field dropped (all are needed), a stranger added."""
    out = [("stranger", {**data, "stranger": "x"})]
    out += [(f"without {k}", {x: v for x, v in data.items() if x != k}) for k in data]
    return out


@needs_peers
def test_peers_refuse_what_cswork_refuses():
    engine = engine_on(MemoryStore())
    case = engine.start("complaint", AGENT, START)
    model = peers._Case(peers.rules()[("start", "")].check(AGENT, START, {}))
    machine = peers._psm_machine()(model=model)
    flow = peers.spiff_start(AGENT, START)
    stranger = Actor("x", {"leadership"})
    for event, actor, data in PATH:
        attempts = [("wrong role", stranger, data)]
        attempts += [(why, actor, bad) for why, bad in _spoiled(data)]
        for why, who, payload in attempts:
            with pytest.raises(RejectedError):
                engine.fire(case.id, event, who, payload)
            with pytest.raises(peers.Refused):
                machine.send(event, actor=who, data=payload)
            with pytest.raises(peers.Refused):
                peers.spiff_step(flow, event, who, payload)
            assert model.state == engine.get(case.id).state, (event, why)
        engine.fire(case.id, event, actor, data)
        machine.send(event, actor=actor, data=data)
        peers.spiff_step(flow, event, actor, data)
        assert model.state == engine.get(case.id).state
    assert flow.is_completed()


@needs_peers
def test_record_needs_a_way_to_reach_the_customer():
    rule = peers.rules()[("record", "received")]
    data = {k: v for k, v in PATH[0][2].items() if k != "phone"}
    with pytest.raises(peers.Refused, match="condition"):
        rule.check(PATH[0][1], data, {})
    assert rule.check(PATH[0][1], {**data, "email": "a@b.c"}, {})["email"] == "a@b.c"
