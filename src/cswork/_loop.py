"""A private event loop in a thread of its own, for running coroutines from threads.

Async notifiers and async subscribers are called by cswork's own threads
(the outbox deliverer, the event dispatcher, a thread of ``AsyncEngine``'s
pool), never on the program's event loop. They run on one long-lived loop
that cswork owns, so that what a coroutine keeps between calls (an HTTP
client session, a connection pool) stays bound to the same loop.
"""

from __future__ import annotations

import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")


class LoopThread:
    """An event loop running in a daemon thread, started on first use.

    ``run(coro)`` may be called from any thread but the loop's own; it
    blocks that thread until the coroutine is done. ``close`` stops the loop
    and closes it (a closed ``LoopThread`` starts a new loop on the next
    ``run``).
    """

    def __init__(self, name: str = "cswork-loop") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                import asyncio  # on first use: a command line never pays for it

                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=serve, name=self._name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and return its result (or raise its error).

        Raises:
            RuntimeError: called from the loop's own thread (it would wait for
                itself).
            TimeoutError: not done within ``timeout`` seconds (it is cancelled).
        """
        import asyncio

        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("LoopThread.run called from its own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._started())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Stop the loop after what it is running, and close it."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
