"""Which storage the command line uses: a URL from ``--db``, the environment, or the default."""

from __future__ import annotations

import os

from calltrack.errors import ConfigurationError
from calltrack.ports import Storage

__all__ = ["DEFAULT_DATABASE_URL", "ENV_DATABASE_URL", "database_url", "open_storage"]

ENV_DATABASE_URL = "CALLTRACK_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///calltrack.db"
MEMORY_URL = "memory://"


def database_url(given: str | None) -> str:
    """The URL to use: ``given``, else ``$CALLTRACK_DATABASE_URL``, else a SQLite file here."""
    return given or os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL


def open_storage(url: str | None) -> Storage:
    """Open the storage a URL names (``memory://`` keeps everything in this process).

    A new, empty SQLite file is given the current schema at once; any other database must
    be at the current schema already (``calltrack db upgrade`` brings it there).

    Raises:
        ConfigurationError: If the URL needs SQL storage and it is not available, or is
            not a database URL calltrack supports.
        SchemaOutOfDate: If the database's schema is older (or newer) than this code's.
        StorageUnavailable: If the database cannot be reached.
    """
    chosen = database_url(url)
    if chosen == MEMORY_URL:
        from calltrack.storage.memory import MemoryStorage  # noqa: PLC0415 - chosen at run time

        return MemoryStorage()
    try:
        from calltrack.storage.sql import SqlStorage  # noqa: PLC0415 - needs the sql extra
    except ImportError as exc:
        raise ConfigurationError(
            f"the database URL needs SQL storage, which is not available ({exc}); "
            "install it with `pip install 'calltrack[sql]'` or use --db memory://"
        ) from None
    storage = SqlStorage(chosen)
    try:
        if storage.dialect == "sqlite" and storage.is_new():
            storage.upgrade()
        storage.check_schema()
    except BaseException:
        storage.close()
        raise
    return storage
