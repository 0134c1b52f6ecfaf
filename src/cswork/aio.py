"""``AsyncEngine``: the engine for asyncio programs (FastAPI, Starlette, aiohttp).

Every call runs the ordinary ``Engine`` in a thread pool of its own, so the
event loop never waits for SQLite, PostgreSQL or a calendar computation; one
``Engine`` underneath is shared by the pool's threads (which it allows).
Notices are delivered by the engine's background deliverer, never inside
the awaited call; an ``async def notify(notice)`` notifier (``AsyncNotifier``)
runs there too, on a private event loop that cswork owns — never on the
program's loop.

Cancelling an awaited step does not cancel the step: the thread finishes it,
and it may commit. Read the case again to know.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, Self, TypedDict, TypeVar

from cswork._loop import LoopThread
from cswork.engine import Engine, Notice, Notifier
from cswork.errors import InvalidArgumentError
from cswork.records import Actor, Case, CaseOrder, HistoryEntry, Timer, check_count

if TYPE_CHECKING:
    from typing import Unpack

    from cswork.engine.bus import Handler, Subscription
    from cswork.engine.events import CaseEvent
    from cswork.engine.explain import Explanation
    from cswork.records import HistoryKind

T = TypeVar("T")
P = ParamSpec("P")

#: Threads of an ``AsyncEngine``'s pool by default.
MAX_WORKERS = 16


class AsyncNotifier(Protocol):
    """Delivers notices with a coroutine; may be called more than once per notice."""

    async def notify(self, notice: Notice) -> None:
        """Deliver one notice; raise to have it retried later."""
        ...


class QueryFilters(TypedDict, total=False):
    """The keyword arguments of ``Engine.query`` and ``Engine.count``."""

    workflow: str | None
    state: str | None
    customer: str | None
    owner: str | None
    unit: str | None
    assigned: bool | None
    closed: bool | None
    breached: bool | None
    due_before: datetime | None
    created_from: datetime | None
    created_before: datetime | None
    data: Mapping[str, str] | None
    order: CaseOrder
    descending: bool
    offset: int
    limit: int | None


class BlockingNotifier:
    """An ``AsyncNotifier`` made a ``Notifier``: each call waits for the coroutine.

    The coroutine runs on a private event loop in a thread of its own (one
    loop for the notifier's life, so sessions it keeps stay usable); the
    calling thread — the engine's deliverer — waits for it.

    Args:
        notifier: the async notifier.
        timeout: seconds one notice may take; a slower one is cancelled and
            counts as failed (it is delivered again later).
    """

    def __init__(self, notifier: AsyncNotifier, *, timeout: float | None = 60.0):
        self.notifier = notifier
        self.timeout = timeout
        self._loop = LoopThread("cswork-notify-loop")

    def notify(self, notice: Notice) -> None:
        """Run ``notifier.notify(notice)`` to its end."""
        self._loop.run(self.notifier.notify(notice), self.timeout)

    def close(self) -> None:
        """Stop the private loop."""
        self._loop.close()


def is_async_notifier(notifier: object) -> bool:
    """Is ``notifier.notify`` a coroutine function?"""
    return inspect.iscoroutinefunction(getattr(notifier, "notify", None))


def blocking(notifier: Notifier | AsyncNotifier) -> Notifier:
    """A notifier an ``Engine`` can call: async ones wrapped in ``BlockingNotifier``."""
    if is_async_notifier(notifier):
        return BlockingNotifier(notifier)  # type: ignore[arg-type]
    return notifier  # type: ignore[return-value]


class AsyncEngine:
    """An ``Engine`` for asyncio: the same methods, awaitable, run in a thread pool.

    Args:
        engine: the engine to run (its notifier must not be async: build it
            with ``blocking(notifier)``, or use ``from_directory``/``shipped``).
        max_workers: threads in the pool: how many calls run at once.

    Raises:
        InvalidArgumentError: the engine's notifier is async, or ``max_workers``
            is below 1.
    """

    def __init__(self, engine: Engine, *, max_workers: int = MAX_WORKERS) -> None:
        if not isinstance(engine, Engine):
            raise InvalidArgumentError(
                f"AsyncEngine runs an Engine, not {type(engine).__name__}"
            )
        check_count("max_workers", max_workers, minimum=1)
        if is_async_notifier(engine.notifier):
            raise InvalidArgumentError(
                "the engine's notifier is async: build the Engine with "
                "notifier=cswork.aio.blocking(notifier), or use "
                "AsyncEngine.from_directory(..., notifier=notifier)"
            )
        self.engine = engine
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="cswork-async")
        self._closed = False

    @classmethod
    def from_directory(
        cls,
        path: str | os.PathLike[str],
        *,
        notifier: Notifier | AsyncNotifier | None = None,
        max_workers: int = MAX_WORKERS,
        **kwargs: Any,
    ) -> AsyncEngine:
        """``Engine.from_directory`` (same arguments), wrapped; ``notifier`` may be async.

        Loading is blocking work: call it before the event loop starts (or
        in ``asyncio.to_thread``).
        """
        if notifier is not None:
            kwargs["notifier"] = blocking(notifier)
        return cls(Engine.from_directory(path, **kwargs), max_workers=max_workers)

    @classmethod
    def shipped(
        cls,
        *,
        notifier: Notifier | AsyncNotifier | None = None,
        max_workers: int = MAX_WORKERS,
        **kwargs: Any,
    ) -> AsyncEngine:
        """``Engine.shipped`` (the SOPs shipped with cswork), wrapped."""
        from cswork.shipped import shipped_workflows

        return cls.from_directory(
            shipped_workflows(), notifier=notifier, max_workers=max_workers, **kwargs
        )

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._closed:
            raise InvalidArgumentError("the AsyncEngine is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, functools.partial(fn, *args, **kwargs)
        )

    # ---------------------------------------------------------------- cases
    async def start(
        self,
        workflow_id: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        *,
        case_id: str | None = None,
        version: int | None = None,
    ) -> Case:
        """``Engine.start``, awaited."""
        return await self._run(
            self.engine.start,
            workflow_id,
            actor,
            data,
            case_id=case_id,
            version=version,
        )

    async def fire(
        self,
        case_id: str,
        event: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        *,
        expected_version: int | None = None,
    ) -> Case:
        """``Engine.fire``, awaited (``expected_version``: an HTTP ``If-Match``)."""
        return await self._run(
            self.engine.fire,
            case_id,
            event,
            actor,
            data,
            expected_version=expected_version,
        )

    async def get(self, case_id: str) -> Case:
        """``Engine.get``, awaited."""
        return await self._run(self.engine.get, case_id)

    async def history(self, case_id: str) -> list[HistoryEntry]:
        """``Engine.history``, awaited."""
        return await self._run(self.engine.history, case_id)

    async def timers(self, case_id: str, *, pending_only: bool = True) -> list[Timer]:
        """``Engine.timers``, awaited."""
        return await self._run(self.engine.timers, case_id, pending_only=pending_only)

    async def query(self, **filters: Unpack[QueryFilters]) -> list[Case]:
        """``Engine.query``, awaited."""
        return await self._run(self.engine.query, **filters)

    async def count(self, **filters: Unpack[QueryFilters]) -> int:
        """``Engine.count``, awaited."""
        return await self._run(self.engine.count, **filters)

    async def allowed_events(
        self, case_id: str, actor: Actor | None = None
    ) -> list[str]:
        """``Engine.allowed_events``, awaited."""
        return await self._run(self.engine.allowed_events, case_id, actor)

    async def explain(self, case_id: str, timer: str) -> Explanation:
        """``Engine.explain``, awaited."""
        return await self._run(self.engine.explain, case_id, timer)

    # ------------------------------------------------------------ deadlines
    async def run_due(self, *, limit: int = 200) -> int:
        """``Engine.run_due``, awaited."""
        return await self._run(self.engine.run_due, limit=limit)

    async def advance(self, delta: timedelta) -> int:
        """``Engine.advance`` (virtual clocks only), awaited."""
        return await self._run(self.engine.advance, delta)

    async def deliver(self, *, case_id: str | None = None, limit: int = 100) -> int:
        """``Engine.deliver``, awaited."""
        return await self._run(self.engine.deliver, case_id=case_id, limit=limit)

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait for notices and subscribers to have everything committed so far."""
        delivered = await self._run(self.engine.flush, timeout)
        told = await self._run(self.engine.events.flush, timeout)
        return delivered and told

    # -------------------------------------------------------- subscriptions
    def subscribe(
        self,
        handler: Handler,
        *,
        kinds: Iterable[HistoryKind] | None = None,
        workflow: str | None = None,
    ) -> Subscription:
        """``Engine.subscribe``: ``handler`` may be an ``async def`` function.

        Handlers run off the program's loop (a coroutine handler on cswork's
        private loop): to touch the program's loop from one, use
        ``loop.call_soon_threadsafe``.
        """
        return self.engine.subscribe(handler, kinds=kinds, workflow=workflow)

    def on_enter(self, workflow: str, state: str, handler: Handler) -> Subscription:
        """``Engine.on_enter``."""
        return self.engine.on_enter(workflow, state, handler)

    def on_exit(self, workflow: str, state: str, handler: Handler) -> Subscription:
        """``Engine.on_exit``."""
        return self.engine.on_exit(workflow, state, handler)

    async def events_since(
        self,
        since: datetime,
        *,
        until: datetime | None = None,
        workflow: str | None = None,
    ) -> list[CaseEvent]:
        """``Engine.events_since``, awaited."""
        return await self._run(
            self.engine.events_since, since, until=until, workflow=workflow
        )

    # ------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        """Deliver what is pending, stop the threads; the store stays open."""
        if self._closed:
            return
        await self._run(self._close_engine)
        self._closed = True
        self._pool.shutdown(wait=True)

    def _close_engine(self) -> None:
        self.engine.close()
        self.engine.events.close()
        notifier = self.engine.notifier
        if isinstance(notifier, BlockingNotifier):
            notifier.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
