"""Every backend passes the store contract."""

from __future__ import annotations

from cswork.testing.store_contract import StoreContract


class TestStoreContract(StoreContract):
    pass
