"""A queue worked off by one background thread, started on demand.

The outbox's deliverer and the subscriptions' dispatcher both need the same
thing: hand work to a thread without waiting for it, let the thread end
when it has been idle a while (no thread lingers in a quiet process), wait
until everything handed over so far was handled, and on close finish what
is queued before stopping.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")

IDLE_EXIT = 5.0  # seconds the thread waits for work before it ends


class BackgroundQueue(Generic[T]):
    """Items handled in order by ``handle`` on a thread named ``name``.

    ``handle`` must not raise: whatever it does not catch ends the thread.
    """

    def __init__(self, handle: Callable[[T], None], name: str) -> None:
        self._handle = handle
        self._name = name
        self._queue: queue.SimpleQueue[T | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, items: Iterable[T]) -> None:
        """Queue ``items`` (nothing once closed) and start the thread if needed."""
        with self._lock:
            if self._closed:
                return
            for item in items:
                self._queue.put(item)
                self._pending += 1
            if self._pending and self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self._name, daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=IDLE_EXIT)
            except queue.Empty:
                item = None
            if item is not None:
                self._handle(item)
            with self._lock:
                if item is not None:
                    self._pending -= 1
                if self._pending == 0:
                    self._idle.notify_all()
                    if item is None or self._closed:
                        self._thread = None
                        return

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far was handled; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Handle what is queued, then stop the thread (waits for it)."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(None)  # wakes the thread, after what is queued
        if thread is not None and thread is not threading.current_thread():
            thread.join()
