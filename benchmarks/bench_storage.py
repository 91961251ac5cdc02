"""How SqlStorage performs: whole calls per second, and how track and the Calls folder scale.

Every figure is a ratio against a baseline measured in the same run:

* whole calls per second on SQLite and PostgreSQL, against MemoryStorage (each call played
  through the webhooks by CallSimulator: inbound, whisper, accept, dial result, recording);
* one ``track`` with 1,000,000 numbers in the pool, against the same with 10,000;
* the Calls folder's first page of 50 for a vacancy among 1,000,000 stored calls, against the
  same among 10,000.

Rows are bulk-loaded straight into the tables, not through the tracker. PostgreSQL runs when
``--postgres URL`` or ``$CALLTRACK_TEST_POSTGRES_URL`` names a server whose user may create
databases; the script makes (and drops) its own databases there.

Usage::

    python benchmarks/bench_storage.py            # the full sizes (several minutes)
    python benchmarks/bench_storage.py --quick    # small sizes, a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from calltrack.ports import Storage
from calltrack.storage import _schema as s
from calltrack.storage.memory import MemoryStorage
from calltrack.storage.sql import SqlStorage, upgrade
from calltrack.testing import CallOutcome, CallSimulator, FakeClock, FakeDirectory
from calltrack.tracker import CallTracker

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
BATCH = 20_000


def _median_seconds(work: Callable[[int], object], repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- databases -----------------------------------------------------------------------
class Databases:
    """Makes fresh, migrated databases of one kind and removes them afterwards."""

    def __init__(self, kind: str, postgres: str | None, folder: Path) -> None:
        self.kind = kind
        self.postgres = postgres
        self.folder = folder
        self.made: list[str] = []

    @contextmanager
    def fresh(self) -> Iterator[Storage]:
        """A new, empty storage of this kind."""
        if self.kind == "memory":
            yield MemoryStorage()
            return
        if self.kind == "sqlite":
            url = f"sqlite:///{self.folder / f'{uuid.uuid4().hex[:8]}.db'}"
        else:
            assert self.postgres is not None
            base = sa.make_url(self.postgres).set(drivername="postgresql+psycopg")
            name = f"calltrack_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            admin.dispose()
            self.made.append(name)
            url = base.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        storage = SqlStorage(url)
        try:
            yield storage
        finally:
            storage.close()

    def drop(self) -> None:
        """Drop the PostgreSQL databases made."""
        if not self.made or self.postgres is None:
            return
        base = sa.make_url(self.postgres).set(drivername="postgresql+psycopg")
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _bulk(storage: Storage, table: sa.Table, rows: Iterator[dict[str, Any]]) -> None:
    """Insert rows in large batches, then let the planner learn the table."""
    assert isinstance(storage, SqlStorage)
    batch: list[dict[str, Any]] = []
    with storage.engine.begin() as conn:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                conn.execute(sa.insert(table), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(table), batch)
    with storage.engine.begin() as conn:  # committed: on SQLite every connection BEGINs
        conn.exec_driver_sql("ANALYZE")


# --- whole calls per second ----------------------------------------------------------
def calls_per_second(storage: Storage, calls: int) -> float:
    """Play ``calls`` whole calls through the webhooks; return calls per second."""
    directory = FakeDirectory()
    tracker = CallTracker(storage, directory=directory, clock=FakeClock())
    tracker.add_numbers([f"+7495100{i:04d}" for i in range(20)], provider="fake")
    virtual = [
        a.virtual_number
        for v in range(10)
        for a in tracker.track(f"v{v}", [f"+749520000{v:02d}"], employer_id="e1", title="Job")
    ]
    outcomes = [CallOutcome.ANSWERED, CallOutcome.NO_ANSWER, CallOutcome.BUSY]
    for i in range(0, calls, 2):
        directory.add(f"+7903{i:07d}", f"Candidate {i}", resume_url=f"https://r/{i}")
    sim = CallSimulator(tracker)
    start = time.perf_counter()
    for i in range(calls):
        sim.call(f"+7903{i:07d}", virtual[i % len(virtual)], outcome=outcomes[i % 3])
    return calls / (time.perf_counter() - start)


# --- track against the pool's size ---------------------------------------------------
def _pool_rows(size: int) -> Iterator[dict[str, Any]]:
    for i in range(size):
        at = T0 + timedelta(seconds=i % 86_400)
        yield {
            "number": f"+7495{i:07d}",
            "provider": "fake",
            "country": "RU",
            "area": "495",
            "idle_since": at,
            "available_from": at,
            "assigned": False,
        }


def track_seconds(storage: Storage, pool: int, repeats: int) -> float:
    """The median time of one ``track`` of a new vacancy with ``pool`` numbers in the pool."""
    _bulk(storage, s.pool_numbers, _pool_rows(pool))
    tracker = CallTracker(storage, clock=FakeClock(T0 + timedelta(days=2)))

    def track(i: int) -> None:
        tracker.track(f"v{i}", [f"+74952{i:06d}"], employer_id="e1", title="Job")

    return _median_seconds(track, repeats)


# --- the Calls folder against the number of stored calls ------------------------------
def call_rows(total: int, vacancies: int) -> Iterator[dict[str, Any]]:
    """Stored calls: a quarter spam, a quarter missed with a resume, a quarter with one."""
    empty = {column.name: None for column in s.calls.c}
    for i in range(total):
        kind = (i // vacancies) % 4  # every vacancy gets calls of each kind
        yield {
            **empty,
            "call_id": f"fake:C{i:09d}",
            "provider": "fake",
            "provider_call_id": f"C{i:09d}",
            "virtual_number": "+74951000001",
            "caller": f"+7903{i % 9_999_991:07d}",
            "started_at": T0 + timedelta(seconds=i),
            "route": "spam" if kind == 3 else "forwarded",
            "vacancy_id": f"v{i % vacancies}",
            "employer_id": "e1",
            "talk_seconds": 0,
            "is_spam": kind == 3,
            "is_missed": kind == 1,
            "has_resume": kind in {0, 1},
        }


def folder_seconds(storage: Storage, total: int, per_vacancy: int, repeats: int) -> float:
    """The median time of the first page of 50 of one vacancy among ``total`` calls."""
    _bulk(storage, s.calls, call_rows(total, max(1, total // per_vacancy)))
    tracker = CallTracker(storage, clock=FakeClock())

    def page(i: int) -> None:
        shown = tracker.calls(f"v{i % 2}", limit=50)
        assert len(shown.calls) == 50

    return _median_seconds(page, repeats)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use")
    args = parser.parse_args(argv)
    postgres = args.postgres or os.environ.get("CALLTRACK_TEST_POSTGRES_URL")
    calls = 60 if args.quick else 400
    small_pool, big_pool = (2_000, 50_000) if args.quick else (10_000, 1_000_000)
    small_calls, big_calls = (2_000, 50_000) if args.quick else (10_000, 1_000_000)
    repeats = 30 if args.quick else 200
    kinds = ["sqlite"] + (["postgresql"] if postgres else [])
    if not postgres:
        print("PostgreSQL: skipped; pass --postgres URL or set CALLTRACK_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="calltrack-bench-") as folder:
        made = {k: Databases(k, postgres, Path(folder)) for k in ["memory", *kinds]}
        try:
            with made["memory"].fresh() as storage:
                baseline = calls_per_second(storage, calls)
            print(f"whole calls per second, MemoryStorage: {baseline:,.0f} (the baseline)")
            for kind in kinds:
                with made[kind].fresh() as storage:
                    rate = calls_per_second(storage, calls)
                print(
                    f"whole calls per second, {kind}: {rate:,.0f} = "
                    f"{rate / baseline:.2f} x MemoryStorage"
                )
            for kind in kinds:
                with made[kind].fresh() as storage:
                    small = track_seconds(storage, small_pool, repeats)
                with made[kind].fresh() as storage:
                    big = track_seconds(storage, big_pool, repeats)
                print(
                    f"track, {kind}: {big * 1000:.2f} ms at {big_pool:,} pool numbers vs "
                    f"{small * 1000:.2f} ms at {small_pool:,} = {big / small:.2f} x"
                )
            for kind in kinds:
                with made[kind].fresh() as storage:
                    small = folder_seconds(storage, small_calls, 1_000, repeats)
                with made[kind].fresh() as storage:
                    big = folder_seconds(storage, big_calls, 1_000, repeats)
                print(
                    f"Calls folder first page of 50, {kind}: {big * 1000:.2f} ms among "
                    f"{big_calls:,} calls vs {small * 1000:.2f} ms among {small_calls:,} "
                    f"= {big / small:.2f} x"
                )
        finally:
            for databases in made.values():
                databases.drop()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
