"""The console as a Starlette app: routes, the person looking, CSRF, headers.

Every page handler does the same three things: find out who is looking (the
embedding program's ``actor_of``), build the page's values in a worker
thread (the engine's calls block), render the template. Pages carry a
Content-Security-Policy that allows only the console's own scripts and
styles, so even markup that slipped through escaping could not run.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from cswork.console import csrf
from cswork.console.actions import fire_from_form
from cswork.console.diagrams import Diagrams
from cswork.console.http import base_of, link, part, secure_headers
from cswork.console.indicators import indicators_view, plotly_js
from cswork.console.pages import (
    case_context,
    choose_scope,
    customer_context,
    queues_context,
    visible_case,
)
from cswork.console.policy import DefaultPolicy, Policy
from cswork.console.queues import ConsoleInputError, NotShownError
from cswork.console.workflows import SourceChecker, deadline_rows, transition_rows
from cswork.diagram import case_path
from cswork.engine import Engine
from cswork.errors import CaseNotFoundError, UnknownWorkflowError
from cswork.records import Actor
from cswork.report import ReportConfig

ActorOf = Callable[[Request], "Actor | Awaitable[Actor | None] | None"]
STATIC = ("console.css", "console.js")


class Console:
    """The state one mounted console shares between requests."""

    def __init__(
        self,
        engine: Engine,
        actor_of: ActorOf,
        *,
        read_only: bool,
        policy: Policy,
        secret: bytes,
        sources: Sequence[str | os.PathLike[str]],
        report_config: ReportConfig | None,
        title: str,
        graphviz: bool | None,
    ) -> None:
        self.engine = engine
        self.actor_of = actor_of
        self.read_only = read_only
        self.policy = policy
        self.secret = secret
        self.checker = SourceChecker(sources)
        self.report_config = report_config
        self.title = title
        self.diagrams = Diagrams(graphviz)
        self.plotly = plotly_js()
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("cswork.console", "templates"),
            autoescape=True,  # every template, every value
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # ---------------------------------------------------------- plumbing
    async def actor(self, request: Request) -> Actor | None:
        """The person looking, as the embedding program says."""
        found = self.actor_of(request)
        if inspect.isawaitable(found):
            found = await found
        if found is not None and not isinstance(found, Actor):
            raise TypeError(f"actor_of returned {type(found).__name__}, not an Actor")
        return found

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        actor: Actor | None,
        status: int = 200,
    ) -> HTMLResponse:
        """A page, with the session cookie and the security headers."""
        base = base_of(request)
        session = request.cookies.get(csrf.COOKIE) or ""
        fresh = not session
        session = session or csrf.new_session()

        def url(path: str, query: dict[str, str] | None = None) -> str:
            return link(base, path, query)

        html = self.templates.get_template(template).render(
            **context,
            url=url,
            part=part,
            actor=actor,
            title=self.title,
            read_only=self.read_only,
            indicators=actor is not None and self.policy.can_see_indicators(actor),
            csrf_token=csrf.token(self.secret, session, actor.id) if actor else "",
            csrf_field=csrf.FIELD,
        )
        response = HTMLResponse(html, status_code=status)
        secure_headers(response)
        if fresh:
            response.set_cookie(
                csrf.COOKIE, session, httponly=True, samesite="strict",
                path=base or "/", secure=request.url.scheme == "https",
            )  # fmt: skip
        return response

    def problem(
        self, request: Request, actor: Actor | None, status: int, message: str
    ) -> HTMLResponse:
        """An error page saying what went wrong (and that nothing changed)."""
        return self.render(
            request,
            "problem.html",
            {"status": status, "message": message},
            actor,
            status,
        )

    async def page(
        self,
        request: Request,
        template: str,
        build: Callable[[Actor], dict[str, Any]],
    ) -> Response:
        """Resolve the person, build the page off the event loop, render it."""
        actor = await self.actor(request)
        if actor is None:
            return self.problem(request, None, 401, "You are not signed in.")
        try:
            context = await run_in_threadpool(build, actor)
        except (CaseNotFoundError, UnknownWorkflowError) as exc:
            return self.problem(request, actor, 404, f"Not found: {exc}")
        except NotShownError as exc:
            return self.problem(request, actor, 403, str(exc))
        except ConsoleInputError as exc:
            return self.problem(request, actor, 400, str(exc))
        return self.render(request, template, context, actor)

    # ------------------------------------------------------------- pages
    async def queues(self, request: Request) -> Response:
        """The queue page."""
        args = dict(request.query_params)
        return await self.page(
            request, "queues.html",
            lambda a: queues_context(self.engine, self.policy, a, args),
        )  # fmt: skip

    async def case(self, request: Request) -> Response:
        """The case page (GET), or an event fired from it (POST)."""
        case_id = request.path_params["case_id"]
        if request.method == "POST":
            return await fire_from_form(self, request, case_id)
        done = request.query_params.get("done", "")
        return await self.page(
            request, "case.html",
            lambda a: {**self.case_values(a, case_id), "done": done},
        )  # fmt: skip

    def case_values(self, actor: Actor, case_id: str, **kw: Any) -> dict[str, Any]:
        """The case page's values (shared by the page and refused forms)."""
        values = case_context(
            self.engine, self.policy, self.diagrams, actor, case_id,
            acting=not self.read_only, **kw,
        )  # fmt: skip
        return {"done": "", "error": "", "field_errors": {}, "event": "", **values}

    async def workflows(self, request: Request) -> Response:
        """The list of workflows and the state of their files."""

        def build(actor: Actor) -> dict[str, Any]:
            loaded = self.engine.workflows
            defs = [self.engine.definition(w) for w in sorted(loaded)]
            return {"defs": defs, "files": self.checker.status(loaded)}

        return await self.page(request, "workflows.html", build)

    async def workflow(self, request: Request) -> Response:
        """One workflow: diagram, roles, deadlines, steps, files."""
        wid = request.path_params["workflow_id"]
        version = request.query_params.get("version")

        def build(actor: Actor) -> dict[str, Any]:
            if version is not None and not version.isdigit():
                raise ConsoleInputError(f"version {version!r:.20} is not a number")
            wf = self.engine.definition(wid, int(version) if version else None)
            return {
                "wf": wf,
                "diagram": self.diagrams.draw(wf),
                "deadlines": deadline_rows(wf),
                "transitions": transition_rows(wf),
                "files": [
                    f
                    for f in self.checker.status(self.engine.workflows)
                    if f.workflow == wid
                ],
            }

        return await self.page(request, "workflow.html", build)

    async def indicators(self, request: Request) -> Response:
        """The quality indicators of a month, for a scope."""
        args = dict(request.query_params)

        def build(actor: Actor) -> dict[str, Any]:
            if not self.policy.can_see_indicators(actor):
                raise NotShownError("The indicators are not shown to you.")
            scope, scopes = choose_scope(self.policy, actor, args.get("scope"))
            view = indicators_view(
                self.engine, scope, args.get("month"), self.report_config
            )
            return {"view": view, "scope": scope, "scopes": scopes,
                    "plotly": self.plotly is not None}  # fmt: skip

        return await self.page(request, "indicators.html", build)

    async def customer(self, request: Request) -> Response:
        """All cases of one customer, newest first."""
        args = dict(request.query_params)
        return await self.page(
            request, "customer.html",
            lambda a: customer_context(self.engine, self.policy, a, args),
        )  # fmt: skip

    async def diagram(self, request: Request) -> Response:
        """A workflow's (or a case's) diagram alone, as an SVG document."""
        args = dict(request.query_params)

        def build(actor: Actor) -> dict[str, Any]:
            if args.get("case"):
                case = visible_case(self.engine, self.policy, actor, args["case"])
                wf = self.engine.definition(case.workflow_id, case.workflow_version)
                path = case_path(self.engine.history(case.id))
                return {"d": self.diagrams.draw(wf, current=case.state, path=path)}
            version = args.get("version") or ""
            if version and not version.isdigit():
                raise ConsoleInputError(f"version {version!r:.20} is not a number")
            wf = self.engine.definition(
                args.get("workflow", ""), int(version or 0) or None
            )
            return {"d": self.diagrams.draw(wf)}

        actor = await self.actor(request)
        if actor is None:
            return self.problem(request, None, 401, "You are not signed in.")
        try:
            drawn = (await run_in_threadpool(build, actor))["d"]
        except (CaseNotFoundError, UnknownWorkflowError) as exc:
            return self.problem(request, actor, 404, f"Not found: {exc}")
        except ConsoleInputError as exc:
            return self.problem(request, actor, 400, str(exc))
        text = str(drawn.svg)  # plain text: Markup + str would escape the str
        svg = '<svg xmlns="http://www.w3.org/2000/svg"' + text[len("<svg") :]
        response = Response(svg, media_type="image/svg+xml")
        secure_headers(response)
        return response

    async def static(self, request: Request) -> Response:
        """The console's own files, and plotly.js from the plotly package."""
        name = request.path_params["name"]
        if name == "plotly.min.js" and self.plotly is not None:
            path: Path = self.plotly
        elif name in STATIC:
            path = Path(str(resources.files("cswork.console") / "static" / name))
        else:
            return Response("not found", status_code=404, media_type="text/plain")
        response = FileResponse(path, headers={"Cache-Control": "max-age=3600"})
        secure_headers(response)
        return response


def build_app(console: Console) -> Starlette:
    """The Starlette app serving one console."""
    routes = [
        Route("/", console.queues, name="queues"),
        Route("/case/{case_id:path}", console.case, methods=["GET", "POST"]),
        Route("/workflows", console.workflows),
        Route("/workflows/{workflow_id}", console.workflow),
        Route("/indicators", console.indicators),
        Route("/customer", console.customer),
        Route("/diagram", console.diagram),
        Route("/static/{name}", console.static),
    ]
    app = Starlette(routes=routes)
    app.state.console = console
    return app


def default_policy() -> Policy:
    """The policy used when the embedding program gives none."""
    return DefaultPolicy()
