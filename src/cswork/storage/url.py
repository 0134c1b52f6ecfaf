"""Choose a store by URL: ``memory://``, ``sqlite:///cases.db``, ``postgresql://…``."""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qs, urlencode, urlsplit, urlunsplit

from cswork.errors import CsworkError
from cswork.storage.base import Store

#: The URL of the embedded default store.
DEFAULT_URL = "sqlite:///cases.db"


class StoreURLError(CsworkError, ValueError):
    """A store URL that cswork cannot open."""


class NoStoreError(StoreURLError):
    """The URL names a SQLite file that does not exist (and creating it was not asked)."""


def open_store(url: str, *, create: bool = True) -> Store:
    """Open the store a URL names.

    With ``create=False`` (read-only tools) a SQLite file that does not
    exist is an error instead of a new empty database: a mistyped path never
    leaves a file behind.

    - ``memory://`` — a new ``MemoryStore``;
    - ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` —
      a ``SQLiteStore``; ``?synchronous=NORMAL`` relaxes durability;
    - ``postgresql://user@host:port/db`` (or ``postgres://``) — a
      ``PostgresStore`` (needs ``pip install 'cswork[postgres]'``);
      ``?schema=name`` keeps cswork's tables in that schema.

    Raises:
        StoreURLError: the URL is malformed or names no known backend.
        NoStoreError: ``create=False`` and the SQLite file does not exist.
        StorageError: the backend could not be opened.
    """
    if not url.strip():
        raise StoreURLError("empty store URL; try sqlite:///cases.db")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise StoreURLError(f"malformed store URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "memory":
        from cswork.storage.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite":
        return _sqlite(url, parts.netloc, parts.path, parts.query, create)
    if scheme in ("postgresql", "postgres"):
        return _postgres(url, parts)
    raise StoreURLError(
        f"unknown store URL {url!r}; use memory://, sqlite:///FILE or postgresql://…"
    )


def _postgres(url: str, parts: SplitResult) -> Store:
    from cswork.storage import PostgresStore

    query = parse_qs(parts.query, keep_blank_values=True)
    schema = query.pop("schema", [None])[-1]
    dsn = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    store: Store = PostgresStore(dsn, schema=schema)
    return store


def _sqlite(url: str, netloc: str, path: str, query: str, create: bool) -> Store:
    import os

    from cswork.storage.sqlite import SQLiteStore

    if netloc:
        raise StoreURLError(f"{url!r}: write sqlite:///{netloc}{path} (three slashes)")
    file = path.removeprefix("/")
    if not file:
        raise StoreURLError(f"{url!r} names no file; try sqlite:///cases.db")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    sync = options.pop("synchronous", "FULL").upper()
    if options:
        raise StoreURLError(f"unknown option(s) {', '.join(options)} in {url!r}")
    if sync not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise StoreURLError(f"synchronous={sync} in {url!r}: use NORMAL or FULL")
    if not create and file != ":memory:" and not os.path.exists(file):
        raise NoStoreError(f"no store file {file!r} (from {url!r})")
    return SQLiteStore(file, synchronous=sync, create=create)  # type: ignore[arg-type]
