"""Every backend passes the store contract."""

from __future__ import annotations

from cswork.testing.store_contract import StoreContract


class TestStoreContract(StoreContract):
    pass


def test_sqlite_refuses_a_newer_format_and_migrates_an_older_one(tmp_path, monkeypatch):
    import sqlite3

    import pytest

    from cswork.errors import StoredFormatError
    from cswork.storage import SQLiteStore
    from cswork.storage import sqlite as backend

    path = tmp_path / "f.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    db.commit()
    db.close()
    with pytest.raises(StoredFormatError, match="newer cswork"):
        SQLiteStore(path)
    # An older store is upgraded on opening: pretend this cswork writes format 2.
    old = tmp_path / "old.db"
    SQLiteStore(old).close()
    monkeypatch.setattr(backend, "FORMAT_VERSION", 2)
    monkeypatch.setitem(backend.MIGRATIONS, 2, "ALTER TABLE cases ADD COLUMN note TEXT")
    store = SQLiteStore(old)
    assert store.format_version == 2
    columns = [r[1] for r in store._db.execute("PRAGMA table_info(cases)")]
    assert "note" in columns
    store.close()
