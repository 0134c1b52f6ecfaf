"""The example service (examples/service.py) over HTTP, races included."""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from cswork import StorageError

from .conftest import ROOT

spec = importlib.util.spec_from_file_location(
    "service", ROOT / "examples" / "service.py"
)
assert spec is not None
assert spec.loader is not None
service = importlib.util.module_from_spec(spec)
spec.loader.exec_module(service)

AGENT = {"X-Actor": "li.na", "X-Roles": "cs_agent"}
LEAD = {"X-Actor": "wang.fang", "X-Roles": "cs_lead"}
INQUIRY = {"data": {"customer_id": "C-1", "channel": "chat", "question": "Why?"}}
ANSWER = {"data": {"answer": "Because.", "advice": "Restart it first."}}


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(service.create_app(f"sqlite:///{tmp_path / 's.db'}")) as c:
        yield c


def started(client) -> tuple[str, str]:
    r = client.post("/cases/inquiry", json=INQUIRY, headers=AGENT)
    assert r.status_code == 201
    return r.json()["id"], r.headers["ETag"]


def test_start_get_history_timers_with_etags(client):
    cid, tag = started(client)
    assert tag == '"1"'
    r = client.get(f"/cases/{cid}")
    assert r.status_code == 200
    assert r.headers["ETag"] == tag
    assert r.json()["allowed"] == ["convert", "respond"]
    assert (
        client.get(f"/cases/{cid}", headers={"If-None-Match": tag}).status_code == 304
    )
    r = client.post(f"/cases/{cid}/events/respond", headers={**AGENT, "If-Match": tag})
    assert r.status_code == 200
    assert r.headers["ETag"] == '"2"'
    assert r.json()["state"] == "in_progress"
    history = client.get(f"/cases/{cid}/history").json()
    assert [h["event"] for h in history] == ["start", "respond"]
    assert client.get(f"/cases/{cid}/timers").status_code == 200
    assert client.app.state.worker.next_wakeup is not None  # the worker runs


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "error"),
    [
        ("get", "/cases/nope", None, {}, 404, "CaseNotFoundError"),
        ("get", "/cases/nope/history", None, {}, 404, "CaseNotFoundError"),
        ("get", "/cases/nope/timers", None, {}, 404, "CaseNotFoundError"),
        ("post", "/cases/complain", INQUIRY, AGENT, 404, "UnknownWorkflowError"),
        ("post", "/cases/inquiry", INQUIRY, LEAD, 403, "PermissionDeniedError"),
        (
            "post",
            "/cases/inquiry",
            {"data": {"channel": "x"}},
            AGENT,
            422,
            "InvalidDataError",
        ),
        ("post", "/cases/nope/events/respond", None, AGENT, 404, "CaseNotFoundError"),
    ],
)
def test_errors_map_to_http(client, method, path, body, headers, status, error):
    r = (
        getattr(client, method)(path, json=body, headers=headers)
        if body
        else getattr(client, method)(path, headers=headers)
    )
    assert r.status_code == status, r.text
    assert r.json()["error"] == error


def test_refusals_say_the_state_and_what_is_allowed(client):
    cid, _tag = started(client)
    r = client.post(f"/cases/{cid}/events/close", headers=AGENT)
    assert r.status_code == 409
    assert r.json()["state"] == "received"
    assert r.json()["allowed"] == ["convert", "respond"]
    client.post(f"/cases/{cid}/events/respond", headers=AGENT)
    r = client.post(f"/cases/{cid}/events/answer", json={"data": {}}, headers=AGENT)
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"answer", "advice"}
    r = client.post(f"/cases/{cid}/events/answer", json=ANSWER, headers=LEAD)
    assert r.status_code == 403
    r = client.post(f"/cases/{cid}/events/answer", headers={**AGENT, "If-Match": "x"})
    assert r.status_code == 400


def test_a_stale_if_match_is_a_conflict_with_the_current_version(client):
    cid, tag = started(client)
    client.post(f"/cases/{cid}/events/respond", headers=AGENT)
    r = client.post(
        f"/cases/{cid}/events/answer", json=ANSWER, headers={**AGENT, "If-Match": tag}
    )
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "ConflictError"
    assert (body["state"], body["version"]) == ("in_progress", 2)
    assert body["allowed"] == ["answer", "convert", "transfer"]
    assert r.headers["ETag"] == '"2"'
    assert client.get(f"/cases/{cid}").json()["version"] == 2  # nothing written


def test_storage_errors_are_503_with_retry_after_when_retrying_helps(client):
    cid, _ = started(client)
    engine = client.app.state.cswork

    async def locked(case_id):
        raise StorageError("SQLite: database is locked", retryable=True)

    engine.get = locked
    r = client.get(f"/cases/{cid}")
    assert r.status_code == 503
    assert r.json()["retryable"] is True
    assert r.headers["Retry-After"] == "1"
    del engine.get
    engine.engine.store.close()
    r = client.get(f"/cases/{cid}/history")  # a new thread: the store is closed
    assert r.status_code == 503
    assert "Retry-After" not in r.headers


@pytest.mark.parametrize("if_match", [True, False], ids=["if-match", "plain"])
def test_same_case_race_exactly_one_wins(client, if_match):
    cid, tag = started(client)
    client.post(f"/cases/{cid}/events/respond", headers=AGENT)
    tag = '"2"'
    racers = 12
    barrier = threading.Barrier(racers)
    results: list = [None] * racers

    def race(n: int) -> None:
        headers = {**AGENT, "If-Match": tag} if if_match else AGENT
        barrier.wait()
        results[n] = client.post(
            f"/cases/{cid}/events/answer", json=ANSWER, headers=headers
        )

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = Counter(r.status_code for r in results)
    assert codes == {200: 1, 409: racers - 1}, codes
    for r in results:
        if r.status_code == 409:
            body = r.json()
            assert body["state"] == "answered"
            assert body["allowed"] == ["close"]  # what li.na may do now
    history = client.get(f"/cases/{cid}/history").json()
    assert [h["event"] for h in history] == ["start", "respond", "answer"]
