"""A web console for the service desk: queues, cases, workflows, indicators.

``make_console(engine, actor_of=...)`` returns a Starlette app that an
embedding program mounts into its own Starlette or FastAPI app::

    app.mount("/console", make_console(engine, actor_of=current_actor))

The console authenticates nobody: ``actor_of`` turns a request into the
``Actor`` looking (the program's signed-in user, roles and units), and a
``Policy`` decides what that person may see (``DefaultPolicy``: managers
see every case, others their units' and their own). The events offered
are the ones the engine allows that person; forms are protected against
cross-site requests and carry the case version they were made from.

Needs the ``console`` extra: ``pip install 'cswork[console]'`` (Starlette,
Jinja2, python-multipart, uvicorn). See docs/console.md.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cswork.console.policy import MANAGER_ROLES, DefaultPolicy, Policy, Scope
from cswork.errors import CsworkError
from cswork.records import Actor

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from cswork.console.app import ActorOf
    from cswork.engine import Engine
    from cswork.report import ReportConfig

INSTALL = "pip install 'cswork[console]'"
NEEDS = ("starlette", "jinja2", "multipart")


def missing_dependencies() -> list[str]:
    """The packages of the ``console`` extra that are not installed."""
    return [name for name in NEEDS if importlib.util.find_spec(name) is None]


def make_console(
    engine: Engine,
    *,
    actor_of: ActorOf,
    read_only: bool = False,
    policy: Policy | None = None,
    secret: bytes | str | None = None,
    sources: Sequence[str | os.PathLike[str]] = (),
    report_config: ReportConfig | None = None,
    title: str = "cswork console",
    graphviz: bool | None = None,
) -> Starlette:
    """The console for ``engine``, as an ASGI app to mount or serve.

    Args:
        engine: the engine whose cases and workflows are shown.
        actor_of: request → the ``Actor`` looking, or None when nobody is
            signed in (the page then says so, with status 401). May be a
            coroutine function.
        read_only: show no forms and refuse every POST.
        policy: what each person may see; ``DefaultPolicy()`` if omitted.
        secret: the key that signs the forms' CSRF tokens; a random one if
            omitted (forms opened before a restart are then refused, and
            several processes behind one address need the same key).
        sources: the workflow files or directories the engine was loaded
            from, to show their validation status on the workflow pages.
        report_config: the indicators' targets and meanings (the defaults
            fit the shipped SOPs).
        title: the name shown on every page.
        graphviz: draw with Graphviz (None: when ``dot`` is on PATH).

    Raises:
        CsworkError: the ``console`` extra is not installed (the message
            says how to install it).
    """
    missing = missing_dependencies()
    if missing:
        raise CsworkError(f"the web console needs {', '.join(missing)}: {INSTALL}")
    from cswork.console import csrf
    from cswork.console.app import Console, build_app

    key = secret.encode() if isinstance(secret, str) else secret
    console = Console(
        engine,
        actor_of,
        read_only=read_only,
        policy=policy if policy is not None else DefaultPolicy(),
        secret=key or csrf.new_secret(),
        sources=sources,
        report_config=report_config,
        title=title,
        graphviz=graphviz,
    )
    return build_app(console)


def fixed_actor(actor: Actor) -> ActorOf:
    """An ``actor_of`` that always answers ``actor`` (for local, one-person use)."""
    return lambda request: actor


__all__ = [
    "INSTALL",
    "MANAGER_ROLES",
    "DefaultPolicy",
    "Policy",
    "Scope",
    "fixed_actor",
    "make_console",
    "missing_dependencies",
]
