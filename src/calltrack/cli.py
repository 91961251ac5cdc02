"""The ``calltrack`` command.

Each group of subcommands lives in its own module with a ``register(subparsers)``
function; this module only gathers them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from calltrack import _cli_analytics, _cli_db, _cli_demo, _cli_pool, _cli_serve
from calltrack._version import __version__
from calltrack.errors import CalltrackError

__all__ = ["main"]

_GROUPS = (_cli_demo, _cli_pool, _cli_serve, _cli_db, _cli_analytics)


def build_parser() -> argparse.ArgumentParser:
    """Make the argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="calltrack", description="Call tracking: virtual numbers, calls, responses."
    )
    parser.add_argument("--version", action="version", version=f"calltrack {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        status: int = args.run(args)
    except CalltrackError as exc:
        print(f"calltrack: error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    return status
