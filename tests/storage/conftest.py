from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cswork.storage import MemoryStore, SQLiteStore, Store

from . import pg


@pytest.fixture
def memory_store() -> Store:
    return MemoryStore()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = SQLiteStore(tmp_path / "contract.db")
    yield store
    store.close()


# ------------------------------------------------------------- PostgreSQL
@pytest.fixture
def pg_server() -> pg.PgServer:
    """The run's server (skips, or fails under CSWORK_REQUIRE_PG=1, without one)."""
    return pg.server()


@pytest.fixture(scope="session")
def own_cluster_or_reason() -> Iterator[pg.Cluster | str]:
    yield from pg.own_cluster(pg.server_or_reason())


@pytest.fixture
def own_cluster(own_cluster_or_reason: pg.Cluster | str) -> pg.Cluster:
    """A cluster started by the tests, which they may stop and restart."""
    if isinstance(own_cluster_or_reason, str):
        pg.unavailable(own_cluster_or_reason)
    return own_cluster_or_reason


@pytest.fixture
def pg_stores(pg_server: pg.PgServer) -> Iterator[pg.StoreFactory]:
    """``make(schema=None, **kw)``: a PostgresStore on a fresh schema (dropped after)."""
    make, cleanup = pg.store_factory(pg_server.dsn)
    yield make
    cleanup()


@pytest.fixture
def postgres_store(pg_stores: pg.StoreFactory) -> Store:
    return pg_stores()  # type: ignore[no-any-return]


# ------------------------------------------------------------- every backend
@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


@pytest.fixture
def second_store(request: pytest.FixtureRequest, store: Store) -> Iterator[Store]:
    if isinstance(store, SQLiteStore):
        other = SQLiteStore(store.path)
        yield other
        other.close()
    elif type(store).__name__ == "PostgresStore":
        make: pg.StoreFactory = request.getfixturevalue("pg_stores")
        yield make(schema=store.schema)  # type: ignore[attr-defined]
    else:
        yield store
