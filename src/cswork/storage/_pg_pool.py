"""A small pool of PostgreSQL connections that an interrupt cannot break.

A general-purpose pool hands a returned connection to a waiting caller; if
that caller was interrupted while it waited (``KeyboardInterrupt``, a
signal-based request timeout), the connection goes to nobody and the pool
slowly runs dry. Here waiters hold no state: a returned connection goes back
on the idle list and every waiter looks there itself, so an exception at any
point leaves at most one connection closed — never one lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

#: Makes a new, configured connection (raises the driver's error).
Connect = Callable[[], Any]


class PoolTimeoutError(Exception):
    """No connection could be had in time (all in use, or the server is down)."""


class Pool:
    """Connections for many threads: at most ``max_size`` open at once.

    Args:
        connect: makes a new configured connection.
        max_size: the most connections open at once.
        timeout: seconds ``take`` waits for a connection before giving up.
        check: called on a connection taken from the idle list (a ping);
            raising discards it and another is tried or made.
    """

    def __init__(
        self,
        connect: Connect,
        *,
        max_size: int,
        timeout: float,
        check: Callable[[Any], None] | None = None,
    ) -> None:
        self._connect = connect
        self._max = max_size
        self._timeout = timeout
        self._check = check
        self._idle: list[Any] = []
        self._open = 0
        self._closed = False
        # An RLock: its Condition waits and restores in C, leaving an interrupt
        # no Python frame to land in while the lock is half-released.
        self._cond = threading.Condition(threading.RLock())

    def take(self) -> Any:
        """A connection for this caller alone, until ``give_back``.

        Raises:
            PoolTimeoutError: none could be had within the timeout.
            Exception: the driver's error when a new connection fails.
        """
        deadline = time.monotonic() + self._timeout
        while True:
            with self._cond:
                if self._closed:
                    raise PoolTimeoutError("the pool is closed")
                conn = self._idle.pop() if self._idle else None
                if conn is None and self._open < self._max:
                    self._open += 1  # reserved: made below, outside the lock
                    make = True
                else:
                    make = False
                if conn is None and not make:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise PoolTimeoutError(
                            f"no PostgreSQL connection within {self._timeout:g} s"
                        )
                    self._cond.wait(min(left, 0.5))
                    continue
            if make:
                return self._make()
            if self._usable(conn):
                return conn

    def _make(self) -> Any:
        conn = None
        try:
            conn = self._connect()
            return conn
        except BaseException:
            if conn is not None:
                conn.close()
            self._forget()
            raise

    def _usable(self, conn: Any) -> bool:
        if self._check is None:
            return True
        try:
            self._check(conn)
        except psycopg.Error:
            self.discard(conn)
            return False
        return True

    def give_back(self, conn: Any) -> None:
        """Return a connection; one not idle and healthy is closed instead."""
        if self._closed or conn.closed or not _idle_and_clean(conn):
            self.discard(conn)
            return
        with self._cond:
            self._idle.append(conn)
            self._cond.notify()

    def discard(self, conn: Any) -> None:
        """Close a connection and free its place."""
        try:
            conn.close()
        finally:
            self._forget()

    def _forget(self) -> None:
        with self._cond:
            self._open -= 1
            self._cond.notify()

    def close(self) -> None:
        """Close every idle connection; ones in use are closed when given back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for conn in idle:
            self.discard(conn)


def _idle_and_clean(conn: Any) -> bool:
    """Roll back what a caller left open; False if the connection is unusable."""
    status = conn.info.transaction_status
    if status == TransactionStatus.IDLE:
        return True
    if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        try:
            conn.rollback()
        except psycopg.Error:
            return False
        return bool(conn.info.transaction_status == TransactionStatus.IDLE)
    return False  # ACTIVE (a query in flight) or UNKNOWN (broken)
