"""The migrations build exactly the schema SqlStorage declares, and old schemas are refused."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from calltrack.errors import ConfigurationError, StorageUnavailable
from calltrack.storage._schema import SCHEMA_REVISION, metadata
from calltrack.storage.sql import (
    SchemaOutOfDate,
    SqlStorage,
    _alembic_config,
    _revisions,
    mask_url,
    upgrade,
)


def _differences(url: str) -> list[object]:
    engine = sa.create_engine(
        sa.make_url(url).set(drivername=SqlStorage(url).engine.url.drivername)
    )
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs: list[object] = compare_metadata(context, metadata)
            return diffs
    finally:
        engine.dispose()


def _predicate(options: Mapping[str, Any], dialect: str) -> str | None:
    """An index's WHERE clause on ``dialect``, without the parentheses PostgreSQL adds."""
    where = options.get(f"{dialect}_where")
    if where is None:
        return None
    return str(where).strip("()").lower()


def _indexes(url: str) -> dict[str, dict[str, object]]:
    """The indexes of a database (not those that back a unique constraint)."""
    storage = SqlStorage(url, check_schema=False)
    try:
        with storage.engine.connect() as conn:
            inspector = sa.inspect(conn)
            found: dict[str, dict[str, object]] = {}
            for table in inspector.get_table_names():
                constraints = {u["name"] for u in inspector.get_unique_constraints(table)}
                for ix in inspector.get_indexes(table):
                    if ix["name"] is None or ix["name"] in constraints:
                        continue
                    found[ix["name"]] = {
                        "columns": ix["column_names"],
                        "unique": bool(ix["unique"]),
                        "where": _predicate(ix.get("dialect_options", {}), conn.dialect.name),
                    }
            return found
    finally:
        storage.close()


def _declared_indexes(dialect: str) -> dict[str, dict[str, object]]:
    return {
        str(ix.name): {
            "columns": [c.name for c in ix.columns],
            "unique": bool(ix.unique),
            "where": _predicate(ix.dialect_kwargs, dialect),
        }
        for table in metadata.sorted_tables
        for ix in table.indexes
    }


class TestMigrationsMatchTheCode:
    """Migrating an empty database gives the tables, columns and indexes the code declares."""

    def test_sqlite(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        upgrade(url)
        assert _differences(url) == []
        assert _indexes(url) == _declared_indexes("sqlite")
        assert SqlStorage(url).current_revision() == SCHEMA_REVISION

    @pytest.mark.postgres
    def test_postgres(self, make_postgres_url: Callable[[], str]) -> None:
        url = make_postgres_url()  # copied from a template made by upgrade()
        assert _differences(url) == []
        assert _indexes(url) == _declared_indexes("postgresql")

    def test_the_comparison_notices_a_missing_index(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        upgrade(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_calls_caller_started_at")
        engine.dispose()
        assert [d[0] for d in _differences(url)] == ["add_index"]  # type: ignore[index]

    @pytest.mark.parametrize(
        "where",
        [
            "",  # no longer partial
            "WHERE is_missed",  # partial, but not in the form the folder query uses
        ],
    )
    def test_the_comparison_notices_a_changed_predicate(self, tmp_path: Path, where: str) -> None:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        upgrade(url)
        name = "ix_calls_missed_vacancy_id_started_at_call_id"
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX {name}")
            conn.exec_driver_sql(
                f"CREATE INDEX {name} ON calls (vacancy_id, started_at, call_id) {where}"
            )
        engine.dispose()
        found, declared = _indexes(url), _declared_indexes("sqlite")
        assert found[name]["columns"] == declared[name]["columns"]
        assert found[name]["where"] != declared[name]["where"] == "is_missed = 1"


class TestSchemaVersions:
    """A database whose schema is not current is refused with the command that fixes it."""

    def test_an_empty_database_is_refused(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        storage = SqlStorage(url)
        with pytest.raises(SchemaOutOfDate, match="calltrack db upgrade --db") as caught:  # noqa: SIM117 - the transaction is what raises
            with storage.transaction():
                pass
        assert caught.value.found is None
        assert storage.is_new()

    def test_an_older_revision_is_refused_with_the_upgrade_command(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, "0002")  # this code needs 0003
        storage = SqlStorage(url)
        with pytest.raises(SchemaOutOfDate) as caught, storage.transaction():
            pass
        assert (caught.value.found, caught.value.needed) == ("0002", "0003")
        command = f"`calltrack db upgrade --db '{url}'`"
        assert f"older than the 0003 this calltrack needs; upgrade it with {command}" in str(
            caught.value
        )
        storage.close()

    def test_an_unknown_revision_is_refused(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'new.db'}"
        upgrade(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:  # a revision a later calltrack made
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
        engine.dispose()
        storage = SqlStorage(url)
        with (
            pytest.raises(SchemaOutOfDate, match="a newer calltrack upgraded it"),
            storage.transaction(),
        ):
            pass
        storage.close()

    def test_the_code_revision_is_the_migrations_head(self) -> None:
        assert SCHEMA_REVISION in _revisions()
        assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == SCHEMA_REVISION

    def test_a_current_schema_is_accepted(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'db.db'}"
        upgrade(url)
        storage = SqlStorage(url)
        with storage.transaction() as tx:
            assert tx.get_vacancy("v1") is None
        upgrade(url)  # upgrading a current database changes nothing
        assert storage.current_revision() == SCHEMA_REVISION
        storage.close()


class TestBadUrls:
    """A wrong or unreachable database fails with a clear error naming the masked URL."""

    @pytest.mark.parametrize(
        ("url", "words"),
        [
            ("not a url", "is not a database URL"),
            ("mysql://u:secret@host/db", "SQLite or PostgreSQL"),
            ("sqlite://", "names no file"),
            ("sqlite:///:memory:", "names no file"),
            ("postgresql+asyncpg://u:secret@host/db", "psycopg 3"),
        ],
    )
    def test_unsupported_urls(self, url: str, words: str) -> None:
        with pytest.raises(ConfigurationError, match=words) as caught:
            SqlStorage(url)
        assert "secret" not in str(caught.value)

    def test_an_unreachable_server_names_the_url_without_the_password(self) -> None:
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"postgresql://calltrack:s3cret@127.0.0.1:{port}/calltrack"
        storage = SqlStorage(url, connect_timeout=2)
        with pytest.raises(StorageUnavailable) as caught, storage.transaction():
            pass
        message = str(caught.value)
        assert "s3cret" not in message
        assert mask_url(url) in message
        assert "***" in message

    def test_a_sqlite_file_in_a_missing_directory(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
        with pytest.raises(StorageUnavailable, match=re.escape(url.removeprefix("sqlite:///"))):
            upgrade(url)


class TestNothingOpensEarly:
    """Making a SqlStorage opens nothing; the first transaction connects."""

    def test_no_file_until_the_first_transaction(self, tmp_path: Path) -> None:
        path = tmp_path / "later.db"
        storage = SqlStorage(f"sqlite:///{path}")
        assert not path.exists()
        assert storage.path == path
        assert repr(storage) == f"<SqlStorage sqlite:///{path}>"
        storage.upgrade()
        assert path.exists()
        storage.close()

    def test_an_unreachable_server_is_not_contacted_when_made(self) -> None:
        storage = SqlStorage("postgresql://me:hunter2@127.0.0.1:1/calltrack")
        assert storage.dialect == "postgresql"
        assert storage.path is None
        assert "hunter2" not in repr(storage)
