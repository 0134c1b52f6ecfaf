"""Errors say whether retrying helps; the retry helpers retry exactly those."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from cswork import (
    CaseNotFoundError,
    ConflictError,
    CsworkError,
    IllegalEventError,
    InvalidDataError,
    RejectedError,
    StorageError,
    StoredFormatError,
    retry,
    retry_async,
    retrying,
)
from cswork.errors import (
    ClockError,
    DefinitionError,
    InvalidArgumentError,
    UnknownWorkflowError,
    transient,
)
from cswork.storage import SQLiteStore


def test_every_error_class_says_whether_retrying_helps():
    assert ConflictError.retryable is True
    assert StorageError.retryable is True
    for cls in (
        CsworkError,
        RejectedError,
        IllegalEventError,
        InvalidDataError,
        CaseNotFoundError,
        UnknownWorkflowError,
        DefinitionError,
        InvalidArgumentError,
        ClockError,
        StoredFormatError,
    ):
        assert cls.retryable is False, cls


def _storage_error_from(cause: BaseException) -> StorageError:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise StorageError(f"SQLite: {exc}") from exc
    except StorageError as err:
        return err


def test_a_locked_sqlite_file_is_transient_a_missing_one_is_not(tmp_path):
    path = tmp_path / "c.db"
    holder = SQLiteStore(path)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with holder.batch(), pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("BEGIN IMMEDIATE")
    other.close()
    holder.close()
    assert _storage_error_from(locked.value).retryable is True
    with pytest.raises(StorageError) as missing:
        SQLiteStore(tmp_path / "nope.db", create=False)
    assert missing.value.retryable is False
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    junk = sqlite3.connect(tmp_path / "junk.db")
    with pytest.raises(sqlite3.DatabaseError) as bad:
        junk.execute("SELECT * FROM x")
    junk.close()
    assert _storage_error_from(bad.value).retryable is False
    assert StorageError("x", retryable=True).retryable is True


def test_postgres_causes_by_sqlstate():
    class PgError(Exception):
        def __init__(self, sqlstate):
            self.sqlstate = sqlstate

    assert transient(PgError("40001"))  # serialization failure
    assert transient(PgError("08006"))  # connection failure
    assert transient(PgError("57P01"))  # admin shutdown
    assert not transient(PgError("23505"))  # unique violation
    assert not transient(PgError("42P01"))  # undefined table
    assert not transient(None)
    assert not transient(ValueError("x"))


def test_retry_retries_conflicts_and_nothing_else():
    calls = []

    def conflicted_twice():
        calls.append(1)
        if len(calls) < 3:
            raise ConflictError("c1")
        return "done"

    waits = []
    assert retry(conflicted_twice, attempts=3, sleep=waits.append) == "done"
    assert len(calls) == 3
    assert len(waits) == 2
    assert all(0 <= w <= 1.0 for w in waits)

    calls.clear()
    with pytest.raises(ConflictError):
        retry(conflicted_twice, attempts=2, sleep=waits.append)
    assert len(calls) == 2

    def refused():
        calls.append(1)
        raise IllegalEventError("no")

    calls.clear()
    with pytest.raises(IllegalEventError):
        retry(refused, sleep=waits.append)
    assert len(calls) == 1
    with pytest.raises(InvalidArgumentError):
        retry(refused, attempts=0)
    with pytest.raises(InvalidArgumentError):
        retry(refused, backoff=-1)


def test_the_decorator_and_the_async_helper():
    calls = []

    @retrying(attempts=3, backoff=0)
    def step() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ConflictError("c1")
        return len(calls)

    assert step() == 2

    @retrying
    async def astep() -> str:
        calls.append(1)
        if len(calls) == 3:
            raise ConflictError("c1")
        return "ok"

    assert asyncio.run(astep()) == "ok"
    assert len(calls) == 4

    async def never():
        raise ConflictError("c1")

    with pytest.raises(ConflictError):
        asyncio.run(retry_async(never, attempts=2, backoff=0))


def test_retry_makes_racing_writers_all_succeed(engine):
    import threading

    from .conftest import AGENT

    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "chat", "question": "?"}
    )
    # Concurrent writers on one case: each re-reads inside the retried call.
    errors = []

    def note(n: int) -> None:
        try:
            retry(
                lambda: (
                    engine.fire(case.id, "respond", AGENT, {"answer": f"a{n}"})
                    if engine.get(case.id).state == "open"
                    else None
                ),
                attempts=10,
                backoff=0.001,
            )
        except CsworkError as exc:  # pragma: no cover - would fail the test
            errors.append(exc)

    threads = [threading.Thread(target=note, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert engine.get(case.id).state != "open"
