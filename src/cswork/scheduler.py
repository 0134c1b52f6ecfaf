"""``Worker``: wakes the engine when a deadline falls due, on the real clock.

This is the only module that imports APScheduler (3.11). APScheduler is used
as an alarm clock only: one in-memory wake-up job set to the earliest pending
due time in the store, re-armed after every run and whenever this process
arms an earlier timer, plus a periodic safety poll that notices timers armed
by other processes. The deadlines themselves live in the store, written in
the same transaction as the step that arms them; APScheduler's persistent job
stores are not used (they cannot join that transaction, pickle their jobs and
drop missed runs by default — see research/deps.md §1).

A deadline that fell due while no worker ran fires once when one starts: the
first wake-up runs at start.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from cswork.engine import Engine
from cswork.errors import ClockError, CsworkError, InvalidArgumentError
from cswork.records import check_count

log = logging.getLogger("cswork.worker")

WAKEUP_JOB = "cswork-wakeup"
POLL_JOB = "cswork-poll"


class Worker:
    """Runs an engine's deadlines (and its outbox) on the real clock.

    Several workers may run against one store (on PostgreSQL, on many hosts):
    the store makes sure each timer fires exactly once.

    Args:
        engine: the engine to drive; its clock must be the real clock.
        poll_interval: seconds between safety polls of the store.
        batch: timers claimed per transaction (at least 1).

    Raises:
        InvalidArgumentError: a batch below 1 or a poll interval not in (0, 1 day).
        ClockError: the engine's clock is virtual.
    """

    def __init__(
        self, engine: Engine, *, poll_interval: float = 30.0, batch: int = 200
    ):
        check_count("batch", batch, minimum=1)
        if isinstance(poll_interval, bool) or not isinstance(
            poll_interval, int | float
        ):
            raise InvalidArgumentError("poll_interval is a number of seconds")
        if not 0 < poll_interval < 86400:
            raise InvalidArgumentError(
                f"poll_interval must be between 0 and 86400 seconds, not {poll_interval}"
            )
        if engine.clock.is_virtual:
            raise ClockError(
                "a Worker needs the real clock; use Engine.advance() "
                "with a VirtualClock"
            )
        self.engine = engine
        self.poll_interval = poll_interval
        self.batch = batch
        self.fired = 0
        self.errors = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._next: datetime | None = None
        self._stop_listening: Callable[[], None] | None = None
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=UTC,
        )

    # ------------------------------------------------------------------ jobs
    def tick(self) -> int:
        """Fire what is due, deliver the outbox, re-arm the wake-up. Never raises."""
        with self._lock:
            fired = 0
            try:
                fired = self.engine.run_due(limit=self.batch)
                self.engine.deliver()
            except CsworkError:
                self.errors += 1
                log.exception("running due timers failed; retrying at the next poll")
            self.fired += fired
            self._rearm()
            return fired

    def _rearm(self) -> None:
        try:
            nxt = self.engine.store.next_due_at()
        except CsworkError:
            log.exception("could not read the next due time")
            return
        self._set_wakeup(nxt)

    def _set_wakeup(self, when: datetime | None) -> None:
        self._next = when
        if when is None or not self._scheduler.running:
            return
        self._scheduler.add_job(
            self.tick, "date", run_date=when, id=WAKEUP_JOB, replace_existing=True
        )

    def _on_armed(self, due: datetime) -> None:
        """Called by the engine after a commit that armed timers."""
        if self._next is None or due < self._next:
            self._set_wakeup(due)

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start in the background; the first wake-up runs at once."""
        self.engine.due_listeners.append(self._on_armed)
        # A store that can tell us when another process arms a timer (PostgreSQL
        # LISTEN/NOTIFY) wakes us at once instead of at the next poll.
        listen = getattr(self.engine.store, "listen", None)
        self._stop_listening = listen(self._on_armed) if callable(listen) else None
        self._scheduler.start()
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.poll_interval,
            id=POLL_JOB,
            replace_existing=True,
        )
        self._set_wakeup(self.engine.clock.now())
        log.info("worker %s started", self.engine.worker_id)

    def stop(self) -> None:
        """Stop waking up; waits for a running tick to finish."""
        if self._on_armed in self.engine.due_listeners:
            self.engine.due_listeners.remove(self._on_armed)
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._stopped.set()
        log.info(
            "worker %s stopped after firing %d timers",
            self.engine.worker_id,
            self.fired,
        )

    def run_forever(self, duration: timedelta | None = None) -> None:
        """Start, and block until SIGINT/SIGTERM (or ``duration`` passes)."""

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self._stopped.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_signal)
            signal.signal(signal.SIGTERM, on_signal)
        self.start()
        try:
            self._stopped.wait(duration.total_seconds() if duration else None)
        finally:
            self.stop()

    @property
    def next_wakeup(self) -> datetime | None:
        """When the wake-up job will next run (None: nothing pending)."""
        job = self._scheduler.get_job(WAKEUP_JOB) if self._scheduler.running else None
        when = job.next_run_time if job is not None else None
        return when if isinstance(when, datetime) else None
