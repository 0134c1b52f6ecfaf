"""Acting from a case page: one POST fires one event, or says why it did not.

The order of checks: the person (``actor_of``), the mount (read-only mounts
refuse every POST), the request's origin and CSRF token, the case (visible
to the person), the inputs (typed by the form), and then the engine, which
decides the rest and whose refusal is shown as it is worded. The form
carries the case version the page showed, passed as ``expected_version``:
a step taken on a stale page is refused with a conflict instead of acting
on a case the person has not seen. Nothing is written unless every check
passes, and a success answers with a redirect (so a reload does not fire
again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cswork.console import csrf
from cswork.console.forms import EventForm, event_form, parse_submission
from cswork.console.http import part, redirect
from cswork.console.pages import visible_case
from cswork.console.timeline import zone_of
from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    InvalidArgumentError,
    InvalidDataError,
    RejectedError,
)
from cswork.records import Actor

if TYPE_CHECKING:
    from cswork.console.app import Console

#: Most inputs a form may send (the widest workflow step has far fewer).
MAX_FIELDS = 200


async def fire_from_form(console: Console, request: Request, case_id: str) -> Response:
    """Handle a POSTed event form for ``case_id``."""
    actor = await console.actor(request)
    if actor is None:
        return console.problem(request, None, 401, "You are not signed in.")
    if console.read_only:
        return console.problem(
            request, actor, 403, "This console is read-only: nothing was done."
        )
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    inputs = {k: v for k, v in form.items() if isinstance(v, str)}
    session = request.cookies.get(csrf.COOKIE)
    origin_ok = csrf.same_origin(
        request.headers.get("origin"), request.headers.get("host")
    )
    if not origin_ok or not csrf.valid(
        console.secret, session, actor.id, inputs.get(csrf.FIELD)
    ):
        return console.problem(
            request, actor, 403,
            "The form could not be checked (it expired, or it was not sent from "
            "this console). Nothing was done: reload the page and try again.",
        )  # fmt: skip
    event = inputs.get("_event", "")
    version_text = inputs.get("_version", "")
    if not version_text.isdigit():
        return console.problem(request, actor, 400, "The form has no case version.")
    try:
        outcome = await run_in_threadpool(
            _fire, console, actor, case_id, event, int(version_text), inputs
        )
    except CaseNotFoundError as exc:
        return console.problem(request, actor, 404, f"Not found: {exc}")
    if outcome is None:
        return redirect(request, f"/case/{part(case_id)}", {"done": event})
    status, context = outcome
    return console.render(request, "case.html", context, actor, status)


def _fire(
    console: Console,
    actor: Actor,
    case_id: str,
    event: str,
    version: int,
    inputs: dict[str, str],
) -> tuple[int, dict[str, Any]] | None:
    """Fire the event; None on success, else (status, the case page's values)."""
    engine = console.engine
    case = visible_case(engine, console.policy, actor, case_id)
    wf = engine.definition(case.workflow_id, case.workflow_version)
    tz = zone_of(engine, wf)
    # The same form the page offered (none if the person may not fire it:
    # then the engine refuses, in its words).
    form = event_form(wf, case.state, event, actor.roles, case.data, tz)
    form = form or EventForm(event, "", "", ())
    data, errors = parse_submission(form, inputs, tz)
    if errors:
        return _refused(console, actor, case_id, event, inputs, 422,
                        "Some inputs could not be read: nothing was done.", errors)  # fmt: skip
    try:
        engine.fire(case_id, event, actor, data, expected_version=version)
    except ConflictError:
        now = engine.get(case_id).version
        message = (
            f"The case changed since this page was opened (it showed version "
            f"{version}, the case is now at version {now}). Nothing was done: "
            "the page below shows the case as it is now."
        )
        return _refused(console, actor, case_id, event, inputs, 409, message, {})
    except InvalidDataError as exc:
        fields = {k: str(v) for k, v in exc.field_errors.items()}
        return _refused(console, actor, case_id, event, inputs, 422,
                        f"Refused: {exc}", fields)  # fmt: skip
    except (RejectedError, InvalidArgumentError) as exc:
        return _refused(console, actor, case_id, event, inputs, 422,
                        f"Refused: {exc}", {})  # fmt: skip
    return None


def _refused(
    console: Console,
    actor: Actor,
    case_id: str,
    event: str,
    inputs: dict[str, str],
    status: int,
    message: str,
    field_errors: dict[str, str],
) -> tuple[int, dict[str, Any]]:
    values = console.case_values(actor, case_id, submitted=(event, inputs))
    values.update(error=message, field_errors=field_errors, event=event)
    return status, values
