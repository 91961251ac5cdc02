"""``calltrack demo``: the seed's story, played end to end on the fake provider."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    """Add the ``demo`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo", help="play a job board's day of calls and print the results"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Play the demo."""
    from calltrack.demo import play  # noqa: PLC0415 - only this command needs it

    del args
    play()
    return 0
