"""The command line keeps its state in SQLite by default: ``db upgrade``, ``demo --db``."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from calltrack._cli_storage import ENV_DATABASE_URL, open_storage
from calltrack.cli import main
from calltrack.storage import _schema
from calltrack.storage.memory import MemoryStorage
from calltrack.storage.sql import SchemaOutOfDate, SqlStorage, upgrade


@pytest.fixture(autouse=True)
def _no_database_in_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


class TestDbCommand:
    """``calltrack db upgrade`` creates or migrates the schema; ``db current`` shows it."""

    def test_upgrade_then_current(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        url = f"sqlite:///{tmp_path / 'x.db'}"
        assert main(["db", "current", "--db", url]) == 0
        assert "(none" in capsys.readouterr().out
        assert main(["db", "upgrade", "--db", url]) == 0
        assert f"(none) -> {_schema.SCHEMA_REVISION}" in capsys.readouterr().out
        assert main(["db", "upgrade", "--db", url]) == 0
        assert "nothing to do" in capsys.readouterr().out
        assert SqlStorage(url).current_revision() == _schema.SCHEMA_REVISION

    def test_the_environment_names_the_database(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(ENV_DATABASE_URL, f"sqlite:///{tmp_path / 'env.db'}")
        assert main(["db", "upgrade"]) == 0
        assert (tmp_path / "env.db").exists()
        assert not (tmp_path / "calltrack.db").exists()

    def test_the_default_is_a_sqlite_file_here(self, tmp_path: Path) -> None:
        assert main(["db", "upgrade"]) == 0
        assert (tmp_path / "calltrack.db").exists()

    def test_an_unreachable_server_fails_cleanly(self, capsys: pytest.CaptureFixture[str]) -> None:
        url = "postgresql://me:hunter2@127.0.0.1:1/calltrack"
        assert main(["db", "upgrade", "--db", url]) == 2
        err = capsys.readouterr().err
        assert "cannot connect to the database postgresql://me:***@127.0.0.1:1/calltrack" in err
        assert "hunter2" not in err

    def test_a_wrong_url_fails_cleanly(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["db", "upgrade", "--db", "oracle://me:hunter2@db/x"]) == 2
        err = capsys.readouterr().err
        assert "SQLite or PostgreSQL" in err
        assert "hunter2" not in err


class TestOpenStorage:
    """open_storage migrates a new SQLite file and refuses a database at an old schema."""

    def test_a_new_sqlite_file_gets_the_schema(self, tmp_path: Path) -> None:
        storage = open_storage(f"sqlite:///{tmp_path / 'new.db'}")
        assert isinstance(storage, SqlStorage)
        assert storage.current_revision() == _schema.SCHEMA_REVISION
        storage.close()

    def test_memory(self) -> None:
        assert isinstance(open_storage("memory://"), MemoryStorage)

    def test_an_old_schema_is_refused_with_the_command(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, "0001")  # this code needs a later revision
        with pytest.raises(SchemaOutOfDate, match=re.escape(f"calltrack db upgrade --db '{url}'")):
            open_storage(url)

    def test_a_foreign_sqlite_database_is_not_migrated(self, tmp_path: Path) -> None:
        path = tmp_path / "other.db"
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE notes (x TEXT)")
        engine.dispose()
        with pytest.raises(SchemaOutOfDate, match="has no calltrack schema"):
            open_storage(f"sqlite:///{path}")


class TestDemo:
    """The demo plays in a new SQLite file each run and prints where it is."""

    def _file(self, out: str) -> Path:
        found = re.search(r"The demo's state is kept in (\S+)", out)
        assert found is not None, out
        return Path(found.group(1))

    def test_twice_on_the_default(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["demo"]) == 0
        first = self._file(capsys.readouterr().out)
        assert main(["demo"]) == 0
        out = capsys.readouterr().out
        second = self._file(out)
        assert first != second
        assert first.exists()
        assert second.exists()
        assert "Missed call" in out
        storage = SqlStorage(f"sqlite:///{second}")
        with storage.transaction() as tx:
            assert len(tx.list_numbers()) == 12
        storage.close()

    def test_a_given_database_must_be_empty(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        url = f"sqlite:///{tmp_path / 'demo.db'}"
        assert main(["demo", "--db", url]) == 0
        assert self._file(capsys.readouterr().out) == tmp_path / "demo.db"
        assert main(["demo", "--db", url]) == 2
        assert "needs an empty database" in capsys.readouterr().err

    def test_in_memory(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["demo", "--db", "memory://"]) == 0
        assert "memory (gone when the demo ends)" in capsys.readouterr().out
