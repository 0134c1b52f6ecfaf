"""A thread that turns PostgreSQL notifications of armed timers into calls."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg

from cswork.storage import codec

logger = logging.getLogger("cswork.storage.postgres")


class Listener:
    """Listens on an open connection; reconnects with ``connect`` after errors."""

    def __init__(
        self,
        conn: Any,
        connect: Callable[[], Any],
        callback: Callable[[datetime], None],
    ) -> None:
        self._conn = conn
        self._connect = connect
        self._callback = callback
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="cswork-listen", daemon=True
        )

    def start(self) -> Callable[[], None]:
        """Start the thread; returns the function that stops it."""
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        """Stop the thread and wait for it (unless called from it)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        conn = self._conn
        while not self._stop.is_set():
            try:
                conn = conn or self._connect()
                for note in conn.notifies(timeout=0.2):
                    try:
                        self._callback(codec.from_us(int(note.payload)))
                    except Exception:
                        logger.exception("cswork timer listener callback failed")
            except psycopg.Error as exc:
                logger.warning("cswork timer listener: %s; reconnecting", exc)
                if conn is not None:
                    conn.close()
                conn = None
                self._stop.wait(1.0)
        if conn is not None:
            conn.close()
