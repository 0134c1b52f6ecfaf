"""A PostgreSQL server for the tests, and ``PostgresStore``s on throw-away schemas.

Where the server comes from, in order:

1. ``CSWORK_TEST_PG_DSN`` (e.g. ``postgresql://postgres@127.0.0.1:54329/postgres``);
2. a throw-away cluster started here, when PostgreSQL's server binaries are on
   ``PATH`` or in ``/usr/lib/postgresql/*/bin`` (as root through
   ``su postgres``, since ``initdb`` refuses to run as root);
3. none: the PostgreSQL tests are skipped — or fail, when ``CSWORK_REQUIRE_PG=1``
   (``.ci/run`` sets it, so CI never skips them silently).

One server serves the whole run (``server()``: started on first use, stopped
when Python exits). Tests get stores through ``store_factory`` (the
``pg_stores`` fixture of ``tests/storage``) or URLs through ``schema_url()``,
each on a fresh schema that is dropped afterwards.
"""

from __future__ import annotations

import atexit
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import pytest

DSN_VAR = "CSWORK_TEST_PG_DSN"
REQUIRE_VAR = "CSWORK_REQUIRE_PG"


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when PostgreSQL is required."""
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{REQUIRE_VAR}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def find_bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``, if PostgreSQL is installed."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "pg_ctl").exists() and Path(candidate, "initdb").exists():
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1, trust auth, that we own."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="cswork-pg-"))
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", f"{self.dir}/data", "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["su", "postgres", "-c", shlex.join(cmd)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.dir / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{shlex.join(cmd)} failed:\n{done.stderr}\n{tail}")

    def start(self) -> None:
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}"
                " -c fsync=off -c max_connections=200")  # fmt: skip
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-o", opts,
                  "-l", f"{self.dir}/log", "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PgServer:
    """The server the tests use: ``cluster`` is set when we started it."""

    def __init__(self, dsn: str, cluster: Cluster | None = None) -> None:
        self.dsn = dsn
        self.cluster = cluster


def _start() -> Generator[PgServer | str, None, None]:
    """Yield the server, or why there is none (a generator: cleans up after)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield "psycopg is not installed (pip install -e '.[dev]')"
        return
    if dsn := os.environ.get(DSN_VAR):
        yield PgServer(dsn)
        return
    bindir = find_bindir()
    if bindir is None:
        yield f"no PostgreSQL: set {DSN_VAR} or install PostgreSQL's server binaries"
        return
    cluster = Cluster(bindir)
    try:
        yield PgServer(cluster.dsn, cluster)
    finally:
        cluster.destroy()


_shared: list[PgServer | str] = []


def server_or_reason() -> PgServer | str:
    """The run's server, started on first use and stopped when Python exits."""
    if not _shared:
        started = _start()
        _shared.append(next(started))
        atexit.register(started.close)
    return _shared[0]


def server() -> PgServer:
    """The run's server; skips the test without one (fails if it is required)."""
    found = server_or_reason()
    if isinstance(found, str):
        unavailable(found)
    return found


def new_schema() -> str:
    return f"cswork_test_{uuid.uuid4().hex[:12]}"


def drop_schemas(dsn: str, schemas: list[str]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in schemas:
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
            conn.execute(drop.format(sql.Identifier(schema)))


def url_with(dsn: str, **params: str) -> str:
    """``dsn`` (a URL or ``key=value`` string) as a ``postgresql://`` URL + params."""
    from psycopg.conninfo import conninfo_to_dict

    info = {k: str(v) for k, v in conninfo_to_dict(dsn).items()}
    auth = quote(info.pop("user", ""), safe="")
    if password := info.pop("password", ""):
        auth += ":" + quote(password, safe="")
    host = quote(info.pop("host", "localhost"), safe="")
    port = info.pop("port", "5432")
    db = quote(info.pop("dbname", "postgres"), safe="")
    query = urlencode({**info, **params})
    return f"postgresql://{auth}{'@' if auth else ''}{host}:{port}/{db}?{query}"


@contextmanager
def schema_url() -> Iterator[str]:
    """A ``postgresql://…?schema=…`` URL of a fresh schema, dropped afterwards."""
    dsn = server().dsn
    schema = new_schema()
    try:
        yield url_with(dsn, schema=schema)
    finally:
        drop_schemas(dsn, [schema])


def own_cluster(server: PgServer | str) -> Iterator[Cluster | str]:
    """A cluster the tests may stop and restart (the session's, if we started it)."""
    if isinstance(server, PgServer) and server.cluster:
        yield server.cluster
        return
    bindir = find_bindir()
    if bindir is None:
        yield "no PostgreSQL server binaries to start a cluster of our own"
        return
    cluster = Cluster(bindir)
    try:
        yield cluster
    finally:
        cluster.destroy()


StoreFactory = Callable[..., Any]


def store_factory(dsn: str) -> tuple[StoreFactory, Callable[[], None]]:
    """``make(schema=None, **kw)`` → a ``PostgresStore``, and a cleanup function.

    Each new schema is unique and dropped (with its tables) by the cleanup.
    """
    from cswork.storage.postgres import PostgresStore

    stores: list[PostgresStore] = []
    schemas: list[str] = []

    def make(schema: str | None = None, **kw: Any) -> PostgresStore:
        if schema is None:
            schema = new_schema()
            schemas.append(schema)
        store = PostgresStore(dsn, schema=schema, **kw)
        stores.append(store)
        return store

    def cleanup() -> None:
        for store in stores:
            store.close()
        drop_schemas(dsn, schemas)

    return make, cleanup
