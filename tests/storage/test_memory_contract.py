"""MemoryStorage passes the storage contract."""

from __future__ import annotations

import pytest

from calltrack.storage.memory import MemoryStorage
from calltrack.testing.storage_contract import MakeStorage, StorageContract


class TestMemoryStorage(StorageContract):
    """MemoryStorage keeps the storage contract."""

    @pytest.fixture
    def make_storage(self) -> MakeStorage:
        return MemoryStorage
