"""A FastAPI service over cswork: start, fire, get, history, timers.

Needs: ``pip install 'cswork[service]'`` (FastAPI; ``uvicorn`` to serve).

    python examples/service.py            # a short demonstration, in process
    python examples/service.py --serve    # serve on 127.0.0.1:8000 (needs uvicorn)

What it shows:

- one ``AsyncEngine`` for the process, shared by every request; the event
  loop never waits for the database;
- the deadline worker (``cswork.scheduler.Worker``) in the app's lifespan;
- errors mapped to HTTP: 404 unknown case or workflow, 403 missing role,
  409 a step not allowed now or a lost race (with the case's state, version
  and the events allowed now), 422 invalid data or an unmet condition, 503
  the database is unavailable (``Retry-After`` when retrying can help);
- ``ETag`` = the case's version; ``If-Match`` on a step becomes
  ``expected_version``, so a client never acts on a case that moved on.

People are named by the ``X-Actor`` and ``X-Roles`` headers here; a real
service takes them from its authentication.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse

from cswork import (
    Actor,
    Case,
    CaseNotFoundError,
    ConditionNotMetError,
    ConflictError,
    CsworkError,
    Engine,
    IllegalEventError,
    InvalidArgumentError,
    InvalidDataError,
    PermissionDeniedError,
    RejectedError,
    StorageError,
    SystemClock,
    UnknownWorkflowError,
)
from cswork.aio import AsyncEngine
from cswork.scheduler import Worker
from cswork.storage.url import open_store

STATUS: list[tuple[type[CsworkError], int]] = [
    (CaseNotFoundError, 404),
    (UnknownWorkflowError, 404),
    (PermissionDeniedError, 403),
    (IllegalEventError, 409),
    (ConflictError, 409),
    (InvalidDataError, 422),
    (ConditionNotMetError, 422),
    (RejectedError, 422),
    (StorageError, 503),
    (InvalidArgumentError, 400),
]


# (Module level: FastAPI resolves the annotations in the module's namespace.)
Who = Annotated[str, Header()]
Data = Annotated[dict[str, Any] | None, Body(embed=True)]
IfMatch = Annotated[str | None, Header()]


def status_of(error: CsworkError) -> int:
    """The HTTP status for a cswork error (500 for anything unexpected)."""
    return next((code for cls, code in STATUS if isinstance(error, cls)), 500)


def actor(x_actor: str, x_roles: str) -> Actor:
    """The person behind the request (from headers: demonstration only)."""
    return Actor(x_actor, [r.strip() for r in x_roles.split(",") if r.strip()])


def etag(version: int) -> str:
    """A case version as an ETag."""
    return f'"{version}"'


def expected(if_match: str | None) -> int | None:
    """``If-Match: "7"`` → 7; no header (or ``*``) → None (no check).

    Raises:
        InvalidArgumentError: not an ETag this service gave out (→ 400).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidArgumentError(f"If-Match {if_match!r} is not a case version")
    return int(tag)


def engine_of(request: Request) -> AsyncEngine:
    """The app's engine."""
    return request.app.state.cswork  # type: ignore[no-any-return]


async def error_response(request: Request, error: CsworkError) -> JSONResponse:
    """The JSON body and status of a cswork error."""
    body: dict[str, Any] = {
        "error": type(error).__name__,
        "message": str(error),
        "retryable": error.retryable,
    }
    headers = {}
    if isinstance(error, RejectedError):
        body |= {"state": error.state, "allowed": list(error.allowed)}
    if isinstance(error, InvalidDataError):
        body["fields"] = error.field_errors
    if isinstance(error, ConflictError):
        # Tell the loser where the case is now, so it can decide again.
        engine = engine_of(request)
        case = await engine.get(error.case_id)
        who = request.headers.get("x-actor")
        person = actor(who, request.headers.get("x-roles", "")) if who else None
        body |= {
            "state": case.state,
            "version": case.version,
            "allowed": await engine.allowed_events(case.id, person),
        }
        headers["ETag"] = etag(case.version)
    if isinstance(error, StorageError) and error.retryable:
        headers["Retry-After"] = "1"
    return JSONResponse(body, status_code=status_of(error), headers=headers)


async def case_body(
    engine: AsyncEngine, case: Case, person: Actor | None = None
) -> dict[str, Any]:
    """The case as JSON; ``allowed``: the events ``person`` (anyone) may fire."""
    return {
        "id": case.id,
        "workflow": case.workflow_id,
        "state": case.state,
        "version": case.version,
        "closed": case.closed,
        "data": dict(case.data),
        "allowed": await engine.allowed_events(case.id, person),
    }


def create_app(store_url: str, *, poll_interval: float = 30.0) -> FastAPI:
    """The service on the store at ``store_url``, with the shipped SOPs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(store_url)
        engine = AsyncEngine(Engine.shipped(store=store, clock=SystemClock()))
        worker = Worker(engine.engine, poll_interval=poll_interval)
        worker.start()
        app.state.cswork, app.state.worker = engine, worker
        try:
            yield
        finally:
            await asyncio.to_thread(worker.stop)
            await engine.close()
            store.close()

    app = FastAPI(title="cswork service", lifespan=lifespan)

    app.add_exception_handler(CsworkError, error_response)  # type: ignore[arg-type]

    @app.post("/cases/{workflow}", status_code=201)
    async def start(
        workflow: str, request: Request, response: Response,
        x_actor: Who, x_roles: Who, data: Data = None,
    ) -> dict[str, Any]:  # fmt: skip
        engine, person = engine_of(request), actor(x_actor, x_roles)
        case = await engine.start(workflow, person, data)
        response.headers["ETag"] = etag(case.version)
        response.headers["Location"] = f"/cases/{case.id}"
        return await case_body(engine, case, person)

    @app.post("/cases/{case_id}/events/{event}")
    async def fire(
        case_id: str, event: str, request: Request, response: Response,
        x_actor: Who, x_roles: Who, data: Data = None,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:  # fmt: skip
        engine, person = engine_of(request), actor(x_actor, x_roles)
        case = await engine.fire(
            case_id, event, person, data, expected_version=expected(if_match)
        )
        response.headers["ETag"] = etag(case.version)
        return await case_body(engine, case, person)

    @app.get("/cases/{case_id}")
    async def get(case_id: str, request: Request, response: Response) -> Any:
        engine = engine_of(request)
        body = await case_body(engine, await engine.get(case_id))
        tag = etag(body["version"])
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        response.headers["ETag"] = tag
        return body

    @app.get("/cases/{case_id}/history")
    async def history(case_id: str, request: Request) -> list[dict[str, Any]]:
        entries = await engine_of(request).history(case_id)
        if not entries:
            raise CaseNotFoundError(case_id)
        return [
            {
                "seq": h.seq,
                "at": h.at.isoformat(),
                "kind": h.kind,
                "event": h.event,
                "actor": h.actor,
                "from": h.from_state,
                "to": h.to_state,
                "changes": dict(h.changes),
            }
            for h in entries
        ]

    @app.get("/cases/{case_id}/timers")
    async def timers(case_id: str, request: Request) -> list[dict[str, Any]]:
        engine = engine_of(request)
        await engine.get(case_id)  # 404 for an unknown case
        return [
            {"deadline": t.deadline, "kind": t.kind, "due_at": t.due_at.isoformat()}
            for t in await engine.timers(case_id)
        ]

    return app


def demonstrate() -> None:
    """A few requests in process: a step, a stale If-Match, a refusal."""
    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'service.db'}"
        agent = {"X-Actor": "li.na", "X-Roles": "cs_agent"}
        with TestClient(create_app(url)) as client:
            r = client.post(
                "/cases/inquiry",
                json={
                    "data": {"customer_id": "C-1", "channel": "chat", "question": "?"}
                },
                headers=agent,
            )
            case, tag = r.json(), r.headers["ETag"]
            print("started", r.status_code, case["state"], "ETag", tag, case["allowed"])
            base = f"/cases/{case['id']}/events"
            r = client.post(f"{base}/respond", headers={**agent, "If-Match": tag})
            print(
                "responded", r.status_code, r.json()["state"], "ETag", r.headers["ETag"]
            )
            answer = {"data": {"answer": "Because.", "advice": "Restart it first."}}
            r = client.post(f"{base}/answer", json=answer,
                            headers={**agent, "If-Match": tag})  # fmt: skip
            print("stale If-Match", r.status_code, r.json())
            r = client.post(f"{base}/close", headers=agent)
            print("not allowed now", r.status_code, r.json()["allowed"])
            r = client.get(f"/cases/{case['id']}/timers")
            print("timers", r.status_code, r.json())
            r = client.get("/cases/nope")
            print("unknown case", r.status_code, r.json()["error"])


if __name__ == "__main__":
    if "--serve" in sys.argv:
        import uvicorn

        store = os.environ.get("CSWORK_STORE", "sqlite:///service.db")
        uvicorn.run(create_app(store), host="127.0.0.1", port=8000)
    else:
        demonstrate()
