"""Stores: one interface, one module per backend.

``PostgresStore`` is imported on first use, so ``import cswork`` never needs
psycopg (install it with ``pip install 'cswork[postgres]'``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from cswork.storage.base import FORMAT_VERSION, DueBatch, Store
from cswork.storage.memory import MemoryStore

if TYPE_CHECKING:
    from cswork.storage.sqlite import SQLiteStore

__all__ = [
    "FORMAT_VERSION",
    "DueBatch",
    "MemoryStore",
    "SQLiteStore",
    "Store",
]


def __getattr__(name: str) -> Any:
    if name == "SQLiteStore":
        from cswork.storage.sqlite import SQLiteStore

        return SQLiteStore
    if name == "PostgresStore":
        return import_module("cswork.storage.postgres").PostgresStore
    raise AttributeError(name)
