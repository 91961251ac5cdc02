"""SqlStorage passes the storage contract on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from calltrack.storage.sql import SqlStorage
from calltrack.testing.storage_contract import MakeStorage, StorageContract


class TestSqliteStorage(StorageContract):
    """SqlStorage on a SQLite file keeps the storage contract."""

    @pytest.fixture
    def make_storage(self, make_sqlite_url: Callable[[], str]) -> MakeStorage:
        return lambda: SqlStorage(make_sqlite_url())


@pytest.mark.postgres
class TestPostgresStorage(StorageContract):
    """SqlStorage on PostgreSQL keeps the storage contract."""

    @pytest.fixture
    def make_storage(self, make_postgres_url: Callable[[], str]) -> MakeStorage:
        return lambda: SqlStorage(make_postgres_url())
