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
from cswork.console.diagrams import Diagram, Diagrams
from cswork.console.http import base_of, link, part, secure_headers
from cswork.console.indicators import indicators_context, plotly_js
from cswork.console.pages import (
    case_context,
    customer_context,
    diagram_for,
    queues_context,
)
from cswork.console.policy import Policy
from cswork.console.queues import ConsoleInputError, NotShownError
from cswork.console.workflows import (
    SourceChecker,
    workflow_context,
    workflows_context,
)
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

    async def answer(
        self,
        request: Request,
        build: Callable[[Actor], Any],
        respond: Callable[[Actor, Any], Response],
    ) -> Response:
        """Resolve the person, build the values off the event loop, respond.

        A case or workflow not found (or not one the person may see) is a
        404, a page the policy does not show a 403, a bad link a 400.
        """
        actor = await self.actor(request)
        if actor is None:
            return self.problem(request, None, 401, "You are not signed in.")
        try:
            values = await run_in_threadpool(build, actor)
        except (CaseNotFoundError, UnknownWorkflowError) as exc:
            return self.problem(request, actor, 404, f"Not found: {exc}")
        except NotShownError as exc:
            return self.problem(request, actor, 403, str(exc))
        except ConsoleInputError as exc:
            return self.problem(request, actor, 400, str(exc))
        return respond(actor, values)

    async def page(
        self, request: Request, template: str, build: Callable[[Actor], dict[str, Any]]
    ) -> Response:
        """A page made from the values ``build`` returns for the person."""
        return await self.answer(
            request, build, lambda actor, c: self.render(request, template, c, actor)
        )

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
        return await self.page(
            request, "workflows.html",
            lambda a: workflows_context(self.engine, self.checker),
        )  # fmt: skip

    async def workflow(self, request: Request) -> Response:
        """One workflow: diagram, roles, deadlines, steps, files."""
        wid = request.path_params["workflow_id"]
        version = request.query_params.get("version")
        return await self.page(
            request, "workflow.html",
            lambda a: workflow_context(
                self.engine, self.diagrams, self.checker, wid, version
            ),
        )  # fmt: skip

    async def indicators(self, request: Request) -> Response:
        """The quality indicators of a month, for a scope."""
        args = dict(request.query_params)

        def build(actor: Actor) -> dict[str, Any]:
            values = indicators_context(
                self.engine, self.policy, actor, args, self.report_config
            )
            return {**values, "plotly": self.plotly is not None}

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

        def respond(actor: Actor, drawn: Diagram) -> Response:
            text = str(drawn.svg)  # plain text: Markup + str would escape the str
            svg = '<svg xmlns="http://www.w3.org/2000/svg"' + text[len("<svg") :]
            response = Response(svg, media_type="image/svg+xml")
            secure_headers(response)
            return response

        return await self.answer(
            request,
            lambda a: diagram_for(self.engine, self.policy, self.diagrams, a, args),
            respond,
        )

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
