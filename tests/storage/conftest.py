"""Databases for the SQL storage tests: SQLite files, and a PostgreSQL server.

PostgreSQL comes from ``CALLTRACK_TEST_POSTGRES_URL`` if it is set; otherwise a throwaway
server is started from the installed binaries (Debian's ``postgresql`` package) in a
temporary directory and stopped at the end of the session. Without either, PostgreSQL tests
skip with a reason saying how to enable them; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from calltrack.storage.sql import SqlStorage, upgrade

ENV_URL = "CALLTRACK_TEST_POSTGRES_URL"
HOW = (
    f"set {ENV_URL}=postgresql://user:password@host/dbname, or install PostgreSQL "
    "(apt-get install postgresql) so the tests can start a throwaway server"
)


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return versions[0].parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server:
    """A PostgreSQL server in a temporary directory, run as ``postgres`` when we are root."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        # As root the server runs as `postgres`, which must reach the folder: use /tmp,
        # not a TMPDIR that may sit in root's home.
        self.root = Path(
            tempfile.mkdtemp(prefix="calltrack-pg-", dir="/tmp" if self.as_root else None)  # noqa: S108 - mkdtemp makes a private, unique folder
        )
        self.data = self.root / "data"
        self.port = _free_port()
        if self.as_root:
            shutil.chown(self.root, user="postgres")

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run(  # noqa: S603 - fixed binaries, arguments built here
            [*prefix, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> str:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "calltrack",
            "--auth=trust", "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        return f"postgresql://calltrack@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"{reason}; to run the PostgreSQL tests, {HOW}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL database the tests may fill and empty (session-wide)."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    bindir = _pg_bin()
    if bindir is None:
        _unavailable(f"{ENV_URL} is not set and no PostgreSQL binaries are installed")
    assert bindir is not None
    server = _Server(bindir)
    try:
        url = server.start()
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        server.stop()
        _unavailable(f"could not start a throwaway PostgreSQL server: {detail.strip()}")
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> str:
    """The name of a database migrated to the current schema, to copy fresh ones from."""
    admin = sa.create_engine(
        sa.make_url(postgres_server).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    name = f"calltrack_template_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    upgrade(str(sa.make_url(postgres_server).set(database=name)))
    return name


@pytest.fixture
def make_postgres_url(postgres_server: str, postgres_template: str) -> Iterator[Callable[[], str]]:
    """Make fresh, migrated PostgreSQL databases; drop them after the test."""
    base = sa.make_url(postgres_server)
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    made: list[str] = []

    def make() -> str:
        name = f"calltrack_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
        made.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def make_sqlite_url(tmp_path: Path) -> Callable[[], str]:
    """Make URLs of fresh, migrated SQLite files in the test's temporary directory."""
    template = tmp_path / "template.db"
    upgrade(f"sqlite:///{template}")

    def make() -> str:
        path = tmp_path / f"{uuid.uuid4().hex[:12]}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    return make


@pytest.fixture
def sqlite_storage(make_sqlite_url: Callable[[], str]) -> Iterator[SqlStorage]:
    """A fresh SqlStorage on a SQLite file."""
    storage = SqlStorage(make_sqlite_url())
    yield storage
    storage.close()


@pytest.fixture
def postgres_storage(make_postgres_url: Callable[[], str]) -> Iterator[SqlStorage]:
    """A fresh SqlStorage on a PostgreSQL database."""
    storage = SqlStorage(make_postgres_url())
    yield storage
    storage.close()
