"""Work run in separate processes by test_processes.py (so they can be killed)."""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cswork import Actor, ConflictError, Engine, RejectedError, VirtualClock
from cswork.storage.url import open_store

from .conftest import WORKFLOWS

QUIET = type("Quiet", (), {"notify": lambda self, n: None})()


class WorkdayClock:
    """Real time, shifted to read a working Tuesday morning.

    Notices wait for working hours, so a test on the real clock would
    depend on the hour it runs at. Every process of one test reads the same
    time: the test passes the real moment (``CSWORK_TEST_EPOCH``, Unix
    seconds) at which this clock reads Tuesday 2026-03-03 10:00 in Shanghai.
    """

    START = datetime.fromisoformat("2026-03-03T10:00:00+08:00")

    def __init__(self) -> None:
        self.epoch = float(os.environ.get("CSWORK_TEST_EPOCH") or time.time())

    is_virtual = False

    def now(self) -> datetime:
        moment = self.START + timedelta(seconds=time.time() - self.epoch)
        return moment.astimezone(UTC)


def engine(url: str, now: datetime, worker: str) -> Engine:
    counter = itertools.count()
    return Engine.from_directory(
        WORKFLOWS,
        store=open_store(url),
        clock=VirtualClock(now),
        notifier=QUIET,
        worker_id=worker,
        id_factory=lambda: f"{worker}-{next(counter)}",
    )


def fire_timers(url: str, now: str, worker: str) -> None:
    """Fire every due timer, in small batches, printing a line per batch."""
    e = engine(url, datetime.fromisoformat(now), worker)
    while True:
        n = e.run_due(limit=25)
        print(n, flush=True)
        if n == 0:
            return


def stream(url: str, now: str, worker: str, seed: int) -> None:
    """Start inquiries and push them along, for ever (until killed)."""
    e = engine(url, datetime.fromisoformat(now), worker)
    rng = random.Random(int(seed))
    agent = Actor("a", {"cs_agent"})
    support = Actor("t", {"tech_support"})
    ids: list[str] = []
    steps = [
        ("respond", agent, {}),
        ("transfer", agent, {"question_detail": "d"}),
        ("provide_answer", support, {"support_answer": "x"}),
        ("tell_customer", agent, {"answer": "a", "advice": "b"}),
        ("close", agent, {}),
    ]
    for n in itertools.count():
        if not ids or rng.random() < 0.3:
            ids.append(
                e.start(
                    "inquiry",
                    agent,
                    {"customer_id": f"C{n}", "channel": "email", "question": "q"},
                ).id
            )
        cid = rng.choice(ids)
        case = e.get(cid)
        done = {
            "received": 0,
            "in_progress": 1,
            "with_tech_support": 2,
            "answer_ready": 3,
            "answered": 4,
        }.get(case.state)
        if done is None:
            continue
        event, actor, data = steps[done]
        with contextlib.suppress(RejectedError, ConflictError):
            e.fire(cid, event, actor, data)
        if n % 20 == 0:
            print(n, flush=True)
            e.advance(timedelta(minutes=7))


class LineNotifier:
    """Appends ``<who> <notice id>`` to a file for every notice (O_APPEND: atomic)."""

    def __init__(self, path: str, who: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.who = who

    def notify(self, notice: Any) -> None:
        os.write(self.fd, f"{self.who} {notice.id}\n".encode())


def notice_app(url: str, log: str, bursts: str, per_burst: str, quiet: str,
               lease: str) -> None:  # fmt: skip
    """A service on the real clock: bursts of steps that notify, quiet between."""
    e = Engine.from_directory(
        WORKFLOWS, store=open_store(url), notifier=LineNotifier(log, "app"),
        worker_id="app", lease=timedelta(seconds=float(lease)), clock=WorkdayClock(),
    )  # fmt: skip
    agent = Actor("a", {"cs_agent"})
    for b in range(int(bursts)):
        for n in range(int(per_burst)):
            case = e.start("inquiry", agent,
                           {"customer_id": f"C{b}-{n}", "channel": "email", "question": "q"})  # fmt: skip
            e.fire(case.id, "respond", agent)
            e.fire(case.id, "transfer", agent, {"question_detail": "d"})
        print(b, flush=True)
        time.sleep(float(quiet))
    e.close()
    print("done", flush=True)


def notice_worker(url: str, log: str, seconds: str, lease: str) -> None:
    """A worker delivering what others left behind, for a while."""
    e = Engine.from_directory(
        WORKFLOWS, store=open_store(url), notifier=LineNotifier(log, "worker"),
        worker_id="worker", lease=timedelta(seconds=float(lease)), clock=WorkdayClock(),
    )  # fmt: skip
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        e.deliver()
        time.sleep(0.05)
    e.close()
    print("done", flush=True)


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
