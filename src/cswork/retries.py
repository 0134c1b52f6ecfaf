"""Retrying a call that lost a race: ``retry``, ``retry_async`` and ``retrying``.

A ``ConflictError`` means another writer changed the case between the read
and the commit; nothing was written, and the same call made again decides on
the case as it is now. Retrying helps only when the call reads afresh: give
these helpers the whole call (``lambda: engine.fire(case_id, ...)``), never a
step computed from a case read once outside it. A call with
``expected_version`` (an HTTP ``If-Match``) should not be retried here: the
client saw an older version and must look again.

Which errors are retried is decided by ``CsworkError.retryable``: conflicts
and transient storage errors, never refusals.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar, overload

from cswork.errors import CsworkError, InvalidArgumentError
from cswork.records import check_count

log = logging.getLogger("cswork.retry")

T = TypeVar("T")
P = ParamSpec("P")

#: Decides whether an error is worth another attempt.
RetryWhen = Callable[[CsworkError], bool]


def _retryable(error: CsworkError) -> bool:
    return error.retryable


def _check(attempts: int, backoff: float, max_backoff: float) -> None:
    check_count("attempts", attempts, minimum=1)
    for name, value in (("backoff", backoff), ("max_backoff", max_backoff)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgumentError(f"{name} is a number of seconds")
        if not 0 <= value <= 3600:
            raise InvalidArgumentError(f"{name} must be 0 to 3600 seconds, not {value}")


def delay(attempt: int, backoff: float, max_backoff: float) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (full jitter, exponential).

    A random time up to ``backoff × 2^(attempt-1)``, capped at ``max_backoff``:
    writers that collided once do not collide again in lock step.
    """
    ceiling = min(max_backoff, backoff * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311 - spreading retries, not a secret


def retry(
    call: Callable[[], T],
    *,
    attempts: int = 3,
    backoff: float = 0.05,
    max_backoff: float = 1.0,
    when: RetryWhen = _retryable,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """Call ``call()``; on a retryable cswork error, wait and call it again.

    Args:
        call: the whole operation, reading what it needs afresh each time.
        attempts: calls at most (1: no retry).
        backoff: the first wait's upper bound in seconds; doubled each time.
        max_backoff: no wait is longer than this.
        when: which errors to retry (default: ``error.retryable``).
        sleep: how to wait (tests pass a fake).

    Returns:
        What ``call`` returned.

    Raises:
        CsworkError: the last error, when it is not retryable or the
            attempts are used up; any other exception at once.
        InvalidArgumentError: ``attempts`` below 1 or a bad backoff.

    Example:
        >>> from cswork import Actor, Engine
        >>> engine = Engine.shipped(delivery="inline")
        >>> agent = Actor("li.na", {"cs_agent"})
        >>> case = retry(lambda: engine.start("inquiry", agent, {
        ...     "customer_id": "C-1", "channel": "chat", "question": "?"}))
        >>> case.state
        'open'
    """
    _check(attempts, backoff, max_backoff)
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except CsworkError as exc:
            if attempt == attempts or not when(exc):
                raise
            wait = delay(attempt, backoff, max_backoff)
            log.debug("attempt %d failed (%s); retrying in %.3f s", attempt, exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


async def retry_async(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    backoff: float = 0.05,
    max_backoff: float = 1.0,
    when: RetryWhen = _retryable,
) -> T:
    """``retry`` for coroutines: awaits ``call()``, and waits with ``asyncio.sleep``.

    Raises:
        CsworkError: as ``retry``.
    """
    _check(attempts, backoff, max_backoff)
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except CsworkError as exc:
            if attempt == attempts or not when(exc):
                raise
            await asyncio.sleep(delay(attempt, backoff, max_backoff))
    raise AssertionError("unreachable")  # pragma: no cover


@overload
def retrying(
    fn: Callable[P, T], /
) -> Callable[P, T]: ...  # pragma: no cover - typing only
@overload
def retrying(
    *, attempts: int = 3, backoff: float = 0.05, max_backoff: float = 1.0
) -> Callable[[Callable[P, T]], Callable[P, T]]: ...  # pragma: no cover
def retrying(
    fn: Callable[P, T] | None = None,
    /,
    *,
    attempts: int = 3,
    backoff: float = 0.05,
    max_backoff: float = 1.0,
) -> Callable[P, T] | Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorator: the function is retried as ``retry`` (or ``retry_async``) does.

    Works on plain functions and on ``async def`` functions; use it bare
    (``@retrying``) or with arguments (``@retrying(attempts=5)``). The
    decorated function must read what it decides on, so that a new attempt
    decides on the case as it is now.
    """
    _check(attempts, backoff, max_backoff)

    def decorate(f: Callable[P, T]) -> Callable[P, T]:
        if inspect.iscoroutinefunction(f):

            @functools.wraps(f)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> object:
                return await retry_async(
                    lambda: f(*args, **kwargs),
                    attempts=attempts,
                    backoff=backoff,
                    max_backoff=max_backoff,
                )

            return run_async  # type: ignore[return-value]

        @functools.wraps(f)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            return retry(
                lambda: f(*args, **kwargs),
                attempts=attempts,
                backoff=backoff,
                max_backoff=max_backoff,
            )

        return run

    return decorate if fn is None else decorate(fn)
