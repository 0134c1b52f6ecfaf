"""A service-desk program with its own JSON API and the cswork console mounted beside it.

The program owns the engine and the sign-in: a reverse proxy in front of it
authenticates people and passes the login in ``X-Remote-User``; the program
knows each person's roles and units (here a dict) and tells the console who
is looking with ``actor_of``. The console is mounted at ``/console``; the
program's own API at ``/api``. With FastAPI the mount is the same line:
``app.mount("/console", make_console(...))``.

Needs: ``pip install 'cswork[console]'``. Run ``python examples/console_app.py``
to see it work (it serves on a free local port for a moment, starts a
complaint through the API, lists the queue, fires an event through the
console's form, and stops), or ``python examples/console_app.py --serve``
to keep it running on http://127.0.0.1:8000/console/ as ``lead.wang``.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import socket
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from cswork import Actor, CsworkError, Engine, RejectedError, VirtualClock
from cswork.console import make_console
from cswork.shipped import shipped_workflows

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The program's directory of people: login → roles and units.
PEOPLE = {
    "li.na": Actor("li.na", {"cs_agent"}, {"customer_service"}),
    "lead.wang": Actor("lead.wang", {"cs_lead", "cs_manager"}, {"customer_service"}),
}


def build_app(engine: Engine, default_user: str | None = None) -> Starlette:
    """The program's app: its JSON API, and the console beside it."""

    def person(request: Request) -> Actor | None:
        login = request.headers.get("x-remote-user") or default_user
        return PEOPLE.get(login or "")

    async def start_complaint(request: Request) -> JSONResponse:
        who = person(request)
        if who is None:
            return JSONResponse({"error": "not signed in"}, status_code=401)
        body = await request.json()
        try:
            case = engine.start("complaint", who, body)
        except RejectedError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse({"id": case.id, "state": case.state}, status_code=201)

    async def show_case(request: Request) -> JSONResponse:
        try:
            case = engine.get(request.path_params["case_id"])
        except CsworkError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return JSONResponse(
            {"id": case.id, "state": case.state, "data": dict(case.data)}
        )

    console = make_console(engine, actor_of=person, sources=[shipped_workflows()])
    return Starlette(
        routes=[
            Route("/api/complaints", start_complaint, methods=["POST"]),
            Route("/api/cases/{case_id}", show_case),
            Mount("/console", console),
        ]
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo(engine: Engine) -> None:
    """Serve for a moment and use the API and the console as a browser would."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def call(path: str, user: str, data: bytes | None = None, kind: str = "") -> str:
        request = urllib.request.Request(base + path, data=data)
        request.add_header("X-Remote-User", user)
        if kind:
            request.add_header("Content-Type", kind)
        with web.open(request, timeout=30) as answer:
            return str(answer.read().decode("utf-8"))

    try:
        body = {"customer_id": "C-042", "channel": "phone", "summary": "Line drops"}
        made = json.loads(
            call(
                "/api/complaints",
                "li.na",
                json.dumps(body).encode(),
                "application/json",
            )
        )
        print(f"API: started complaint {made['id'][:8]} in state {made['state']}")
        queue = call("/console/?queue=unassigned", "lead.wang")
        listed = re.findall(r'class="case-link" href="[^"]+"><bdi>([^<]+)</bdi>', queue)
        print(f"console: lead.wang's unassigned queue lists {len(listed)} case(s)")
        page = call(f"/console/case/{made['id']}", "lead.wang")
        events = re.findall(r'id="form-(\w+)"', page)
        print(f"console: events offered to lead.wang: {', '.join(events)}")
        token = re.search(r'name="_csrf" value="([0-9a-f]+)"', page)
        version = re.search(r'name="_version" value="(\d+)"', page)
        if token is None or version is None:
            raise SystemExit("the case page has no form")
        form = {
            "_csrf": token.group(1), "_event": "record", "_version": version.group(1),
            "organisation": "Acme", "contact_person": "Ms Chen", "request": "fix it",
            "expectation": "a stable line", "apologised": "true", "phone": "138",
            "current_situation": "the line drops every hour",
        }  # fmt: skip
        after = call(
            f"/console/case/{made['id']}", "lead.wang",
            urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded",
        )  # fmt: skip
        state = re.search(r'<strong id="state">(\w+)</strong>', after)
        print(
            f"console: fired 'record' from the form; the case is now {state and state.group(1)}"
        )
        shown = json.loads(call(f"/api/cases/{made['id']}", "lead.wang"))
        print(
            f"API: the case says {shown['state']}, organisation {shown['data']['organisation']}"
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--serve", action="store_true", help="keep serving on port 8000"
    )
    args = parser.parse_args()
    clock = VirtualClock(datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI))
    with Engine.shipped(clock=clock) as engine:
        if args.serve:
            print("serving http://127.0.0.1:8000/console/ as lead.wang (Ctrl-C stops)")
            uvicorn.run(build_app(engine, "lead.wang"), host="127.0.0.1", port=8000)
        else:
            demo(engine)


if __name__ == "__main__":
    main()
