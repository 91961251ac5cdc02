"""``calltrack db``: the database's schema (``upgrade``, ``current``)."""

from __future__ import annotations

import argparse
from typing import Any

from calltrack._cli_storage import ENV_DATABASE_URL, database_url


def register(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    """Add the ``db`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "db", help="create or upgrade the database's schema"
    )
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, run, text in (
        ("upgrade", run_upgrade, "create the schema, or migrate it to this version's"),
        ("current", run_current, "show the schema revision the database is at"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument(
            "--db",
            metavar="URL",
            help=f"database URL (default: ${ENV_DATABASE_URL}, else sqlite:///calltrack.db)",
        )
        action.set_defaults(run=run)


def run_upgrade(args: argparse.Namespace) -> int:
    """Migrate the database to the newest schema and say where it is."""
    from calltrack.storage.sql import SqlStorage  # noqa: PLC0415 - needs the sql extra

    storage = SqlStorage(database_url(args.db), check_schema=False)
    try:
        before = storage.current_revision()
        storage.upgrade()
        after = storage.current_revision()
    finally:
        storage.close()
    if before == after:
        print(f"{storage.url} is at schema revision {after}, the newest; nothing to do")  # noqa: T201
    else:
        print(f"{storage.url}: schema revision {before or '(none)'} -> {after}")  # noqa: T201
    return 0


def run_current(args: argparse.Namespace) -> int:
    """Print the database's schema revision."""
    from calltrack.storage.sql import SqlStorage  # noqa: PLC0415 - needs the sql extra

    storage = SqlStorage(database_url(args.db), check_schema=False)
    try:
        found = storage.current_revision()
    finally:
        storage.close()
    print(f"{storage.url}: schema revision {found or '(none: run `calltrack db upgrade`)'}")  # noqa: T201
    return 0
