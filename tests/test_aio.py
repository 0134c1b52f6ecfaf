"""AsyncEngine: the engine for asyncio programs, never blocking the event loop."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from cswork import Actor, ConflictError, Engine, IllegalEventError
from cswork.aio import AsyncEngine, BlockingNotifier, blocking
from cswork.errors import InvalidArgumentError
from cswork.storage import SQLiteStore
from tests.procs import WorkdayClock

from .conftest import AGENT, LEAD, WORKFLOWS

START = {"customer_id": "C-001", "channel": "phone", "summary": "scanner broken"}
EMERGENCY = {
    "description": "flood",
    "emergency_type": "natural_disaster",
    "drill": False,
}


class AsyncRecorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def notify(self, notice) -> None:
        await asyncio.sleep(0)
        self.seen.append((notice.case_id, threading.current_thread().name))


def test_every_call_is_awaitable_and_runs_in_the_pool(make_engine, clock):
    async def main():
        async with AsyncEngine(make_engine(), max_workers=2) as ae:
            loop_thread = threading.current_thread()
            case = await ae.start("complaint", AGENT, START)
            assert (await ae.get(case.id)).state == "received"
            assert await ae.allowed_events(case.id) == ["record", "withdraw"]
            assert [h.seq for h in await ae.history(case.id)] == [1]
            assert await ae.timers(case.id) == ae.engine.timers(case.id)
            assert [c.id for c in await ae.query(workflow="complaint")] == [case.id]
            assert await ae.count(workflow="complaint", closed=False) == 1
            # only record_and_route (2 working hours, default) watches 'received'
            assert await ae.advance(timedelta(days=30)) == 1
            assert await ae.run_due() == 0
            assert await ae.deliver() == 0
            with pytest.raises(IllegalEventError):
                await ae.fire(case.id, "resolve", LEAD, {})
            v = (await ae.get(case.id)).version
            with pytest.raises(ConflictError):
                await ae.fire(case.id, "withdraw", AGENT, {}, expected_version=v + 1)
            threads = set()
            ae.subscribe(lambda e: threads.add(threading.current_thread()))
            await ae.start("complaint", AGENT, START)
            assert threads
            assert loop_thread not in threads
            assert await ae.flush(5)

    asyncio.run(main())


def test_the_event_loop_keeps_running_while_a_step_waits(make_engine, tmp_path):
    """A step that waits (here on a locked SQLite file) never stalls the loop."""
    store = SQLiteStore(tmp_path / "c.db", busy_timeout=5)
    engine = make_engine(store)

    async def main():
        ae = AsyncEngine(engine)
        blocker = SQLiteStore(tmp_path / "c.db")
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick = asyncio.create_task(ticker())
        with blocker.batch():  # holds the write lock
            step = asyncio.create_task(ae.start("complaint", AGENT, START))
            await asyncio.sleep(0.3)
            assert not step.done()
            assert ticks >= 5
        case = await step
        tick.cancel()
        blocker.close()
        await ae.close()
        return case

    assert asyncio.run(main()).state == "received"
    store.close()


def test_async_notifiers_run_on_a_private_loop_off_the_request(tmp_path):
    recorder = AsyncRecorder()

    async def main():
        store = SQLiteStore(tmp_path / "c.db")
        ae = AsyncEngine.from_directory(
            WORKFLOWS, store=store, clock=WorkdayClock(), notifier=recorder
        )
        assert isinstance(ae.engine.notifier, BlockingNotifier)
        case = await ae.start("emergency", Actor("m", {"cs_manager"}), EMERGENCY)
        assert await ae.flush(10)
        await ae.close()
        store.close()
        return case

    case = asyncio.run(main())
    assert recorder.seen == [(case.id, "cswork-notify-loop")]


def test_an_engine_with_an_async_notifier_must_be_wrapped_first():
    with pytest.raises(InvalidArgumentError, match="blocking"):
        AsyncEngine(Engine.from_directory(WORKFLOWS, notifier=AsyncRecorder()))  # type: ignore[arg-type]
    engine = Engine.from_directory(WORKFLOWS, notifier=blocking(AsyncRecorder()))
    AsyncEngine(engine)
    with pytest.raises(InvalidArgumentError):
        AsyncEngine(engine, max_workers=0)
    with pytest.raises(InvalidArgumentError):
        AsyncEngine("engine")  # type: ignore[arg-type]
    engine.notifier.close()  # type: ignore[attr-defined]


def test_a_closed_async_engine_refuses_calls(engine):
    async def main():
        ae = AsyncEngine(engine)
        await ae.close()
        await ae.close()  # twice is fine
        with pytest.raises(InvalidArgumentError, match="closed"):
            await ae.get("x")

    asyncio.run(main())
