"""Who sees what: the default policy, and a policy of the embedding program's own."""

from __future__ import annotations

import re

import pytest

from cswork import Actor, Case, Engine
from cswork.console import DefaultPolicy, Policy, Scope

from .conftest import AGENT, LEAD, MANAGER, STRANGER, MakeClient


def test_default_scopes():
    policy = DefaultPolicy()
    assert [s.key for s in policy.scopes(MANAGER)] == ["all", "mine"]
    assert [s.key for s in policy.scopes(LEAD)] == ["unit:technical", "mine"]
    assert policy.scopes(LEAD)[0].filters == {"unit": "technical"}
    assert policy.scopes(STRANGER)[-1].filters == {"owner": "visitor"}
    boss = Actor("boss", {"cs_manager"}, {"technical", "billing"})
    assert [s.key for s in policy.scopes(boss)] == [
        "all", "unit:billing", "unit:technical", "mine",
    ]  # fmt: skip


def test_default_visibility_follows_the_scopes(seeded: dict[str, Case]):
    policy = DefaultPolicy()
    assert all(policy.can_see(MANAGER, c) for c in seeded.values())
    assert {k for k, c in seeded.items() if policy.can_see(LEAD, c)} == {"mine", "tech"}
    assert {k for k, c in seeded.items() if policy.can_see(AGENT, c)} == {"billing"}
    assert not any(policy.can_see(STRANGER, c) for c in seeded.values())
    assert policy.can_see_indicators(MANAGER)
    assert policy.can_see_indicators(LEAD)
    assert not policy.can_see_indicators(STRANGER)
    assert DefaultPolicy(managers={"lead"}).can_see(LEAD, seeded["billing"])


def test_a_scope_filters_only_on_what_queries_index():
    with pytest.raises(ValueError, match="may filter on"):
        Scope("x", "x", {"state": "new"})


class WorkflowPolicy:
    """An embedding program's own rule: agents see the desk workflow only."""

    def scopes(self, actor: Actor) -> list[Scope]:
        return [Scope("desk", "desk tickets", {"workflow": "desk"})]

    def can_see(self, actor: Actor, case: Case) -> bool:
        return case.workflow_id == "desk"

    def can_see_indicators(self, actor: Actor) -> bool:
        return True


def test_a_policy_of_ones_own(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    policy = WorkflowPolicy()
    assert isinstance(policy, Policy)
    other = engine.start(
        "inquiry", AGENT, {"customer_id": "C-9", "channel": "phone", "question": "?"}
    )
    client = make_client("visitor", policy=policy)
    ids = set(re.findall(r'href="/console/case/([^"]+)"', client.get("/console/").text))
    assert ids == {c.id for c in seeded.values()}
    assert client.get(f"/console/case/{other.id}").status_code == 404
    page = client.get("/console/indicators?month=2026-04")
    assert "desk tickets: 4 cases started" in page.text
