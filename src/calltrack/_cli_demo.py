"""``calltrack demo``: the seed's story, played end to end on the fake provider."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from calltrack._cli_storage import ENV_DATABASE_URL, MEMORY_URL, database_url, open_storage
from calltrack.errors import ConfigurationError


def register(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    """Add the ``demo`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo", help="play a job board's day of calls and print the results"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=(
            f"an empty database to play in (default: ${ENV_DATABASE_URL} if set, else a new "
            "SQLite file in a temporary directory each run)"
        ),
    )
    parser.set_defaults(run=run)


def _demo_url(given: str | None) -> str:
    """The database to play in: the one given, or a new SQLite file."""
    if given or os.environ.get(ENV_DATABASE_URL):
        return database_url(given)
    folder = Path(tempfile.mkdtemp(prefix="calltrack-demo-"))
    return f"sqlite:///{folder / 'calltrack.db'}"


def run(args: argparse.Namespace) -> int:
    """Play the demo in a database and say where it is."""
    from calltrack.demo import play  # noqa: PLC0415 - only this command needs it

    url = _demo_url(args.db)
    storage = open_storage(url)
    try:
        with storage.transaction() as tx:
            if tx.list_numbers(limit=1):
                raise ConfigurationError(
                    f"the demo needs an empty database, and {_shown(storage, url)} already "
                    "has a pool; give --db a new file (or delete this one)"
                )
        print(f"Playing the demo in {_shown(storage, url)}")  # noqa: T201
        play(storage=storage)
        print(f"\nThe demo's state is kept in {_shown(storage, url)}")  # noqa: T201
    finally:
        storage.close()
    sys.stdout.flush()
    return 0


def _shown(storage: object, url: str) -> str:
    """The database as a user finds it: a SQLite file's path, else the masked URL."""
    if url == MEMORY_URL:
        return "memory (gone when the demo ends)"
    path = getattr(storage, "path", None)
    if path is not None:
        return str(path)
    return str(getattr(storage, "url", url))
