"""``calltrack pool``: buy numbers from a provider into the pool, list the pool, release numbers.

The provider's number inventory is found by name with
:func:`calltrack.providers.load_inventory_class` and made with its ``from_env(base_url)``
classmethod, which reads the provider's credentials from ``CALLTRACK_{PROVIDER}_...``
environment variables. The pool lives in the storage that ``--db`` (or
``CALLTRACK_DATABASE_URL``) names.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from calltrack._cli_storage import open_storage
from calltrack.domain.model import PoolNumber
from calltrack.domain.phones import parse_phone
from calltrack.errors import CalltrackError, ConfigurationError, StorageError
from calltrack.ports import NumberInventory, Storage
from calltrack.providers import load_inventory_class
from calltrack.tracker import CallTracker

ENV_BASE_URL = "CALLTRACK_BASE_URL"
"""The environment variable with the public URL the webhooks live under."""

_PAGE = 500
_BAR = 30


def register(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    """Add the ``pool`` subcommand and its ``buy``, ``list`` and ``release`` actions."""
    pool: argparse.ArgumentParser = commands.add_parser(
        "pool", help="the pool of virtual numbers: buy, list, release"
    )
    actions = pool.add_subparsers(dest="action", required=True, metavar="ACTION")

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--db", metavar="URL", help="storage URL (default: $CALLTRACK_DATABASE_URL)"
        )

    buy = actions.add_parser("buy", help="buy numbers from a provider and add them to the pool")
    buy.add_argument("--provider", required=True, help="provider name: twilio, plivo, vonage")
    buy.add_argument("--country", required=True, help="ISO 3166 country code (RU)")
    buy.add_argument("--count", type=int, required=True, help="how many numbers to buy")
    buy.add_argument("--area", help="area code (495)")
    buy.add_argument(
        "--type",
        dest="kind",
        default="local",
        choices=("local", "mobile", "tollfree"),
        help="number type (default: local)",
    )
    buy.add_argument("--base-url", help=f"public URL of the webhooks (default: ${ENV_BASE_URL})")
    common(buy)
    buy.set_defaults(run=run_buy)

    listing = actions.add_parser("list", help="list the pool's numbers and their states")
    listing.add_argument("--country", help="only numbers of this country")
    common(listing)
    listing.set_defaults(run=run_list)

    release = actions.add_parser(
        "release", help="take free numbers out of the pool and release them at the provider"
    )
    release.add_argument("numbers", nargs="+", metavar="NUMBER")
    release.add_argument(
        "--base-url", help=f"public URL of the webhooks (default: ${ENV_BASE_URL})"
    )
    common(release)
    release.set_defaults(run=run_release)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(f"calltrack: {line}\n")


def _base_url(given: str | None, *, required: bool) -> str:
    url = given or os.environ.get(ENV_BASE_URL, "")
    if required and not url:
        raise ConfigurationError(
            f"set --base-url or {ENV_BASE_URL} to the public URL the webhooks live under"
        )
    return url


def _inventory(provider: str, base_url: str) -> NumberInventory:
    inventory: NumberInventory = load_inventory_class(provider).from_env(base_url)
    return inventory


def _progress(stream: TextIO, done: int, total: int) -> None:
    filled = _BAR * done // total if total else _BAR
    bar = "#" * filled + "-" * (_BAR - filled)
    stream.write(f"\rbuying [{bar}] {done}/{total}")
    if done == total:
        stream.write("\n")
    stream.flush()


def run_buy(args: argparse.Namespace) -> int:
    """Search, buy each number with the webhooks configured, and add it to the pool."""
    if args.count < 1:
        raise ConfigurationError(f"--count must be at least 1, not {args.count}")
    inventory = _inventory(args.provider, _base_url(args.base_url, required=True))
    tracker = CallTracker(open_storage(args.db))
    found = inventory.search(args.country, area=args.area, kind=args.kind, limit=args.count)
    wanted = found[: args.count]
    if not wanted:
        where = f"{args.country} {args.area}" if args.area else args.country
        _err(f"{args.provider} has no {args.kind} numbers of {where} for sale")
        return 1
    _progress(sys.stderr, 0, len(wanted))
    for done, offer in enumerate(wanted, 1):
        number = inventory.buy(offer.number)
        tracker.add_numbers([number], provider=args.provider)
        _out(number)
        _progress(sys.stderr, done, len(wanted))
    if len(wanted) < args.count:
        _err(f"only {len(wanted)} of {args.count} numbers were for sale")
        return 1
    return 0


def _pool(tracker: CallTracker, country: str | None) -> Iterator[PoolNumber]:
    after: str | None = None
    while True:
        page = tracker.pool_numbers(country=country, after=after, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].number


def run_list(args: argparse.Namespace) -> int:
    """Print each pool number with its provider, country, area and state."""
    tracker = CallTracker(open_storage(args.db))
    country = args.country.upper() if args.country else None
    now = tracker.clock.now()
    for number in _pool(tracker, country):
        if number.assigned:
            state = "assigned"
        elif number.is_quarantined(now):
            state = f"quarantined until {number.available_from:%Y-%m-%d}"
        else:
            state = "free"
        area = number.area or "-"
        _out(f"{number.number:<16} {number.provider:<8} {number.country:<3} {area:<6} {state}")
    counts = tracker.pool_counts(country)
    _out(
        f"{counts.total} numbers: {counts.assigned} assigned, "
        f"{counts.quarantined} quarantined, {counts.free} free"
    )
    return 0


def _get(storage: Storage, number: str) -> PoolNumber | None:
    with storage.transaction() as tx:
        return tx.get_number(number)


def _restore(storage: Storage, number: PoolNumber) -> None:
    with storage.transaction() as tx:
        tx.add_numbers([number])


def run_release(args: argparse.Namespace) -> int:
    """Take each free number out of the pool, then release it at its provider.

    A number the provider refuses to release is put back into the pool as it was.
    """
    storage = open_storage(args.db)
    tracker = CallTracker(storage)
    region = tracker.settings.default_region
    numbers = [parse_phone(n, region) for n in args.numbers]
    base_url = _base_url(args.base_url, required=False)
    inventories: dict[str, NumberInventory] = {}
    status = 0
    for number in numbers:
        found = _get(storage, number)
        if found is None:
            _err(f"{number} is not in the pool")
            status = 1
            continue
        if found.assigned:
            _err(f"{number} is assigned to a vacancy; untrack it first")
            status = 1
            continue
        try:
            inventory = inventories.get(found.provider) or _inventory(found.provider, base_url)
            inventories[found.provider] = inventory
            if not tracker.remove_number(number):
                continue
        except StorageError as exc:
            _err(f"{number}: {exc}")
            status = 1
            continue
        try:
            inventory.release(number)
        except CalltrackError as exc:
            _restore(storage, found)
            _err(f"{number} stays in the pool: {exc}")
            status = 1
            continue
        _out(f"released {number}")
    return status
