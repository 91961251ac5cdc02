"""The partial "missed" and "with resume" folder indexes against the full ones they replaced.

Two databases of each kind hold the same calls: one at schema revision 0002, with the full
indexes ``(vacancy_id, is_missed, started_at, call_id)`` and ``(vacancy_id, has_resume,
started_at, call_id)``, and one at the current revision, with the partial
``(vacancy_id, started_at, call_id) WHERE is_missed`` / ``WHERE has_resume``. Every figure is
the current schema against 0002, measured in the same run, in alternating rounds:

* storing a new inbound call, one committed transaction each (``add_call``, as the inbound
  webhook does);
* on SQLite, the same insert and commit on the driver alone, without calltrack's Python;
* the Calls folder's first page of 50 with the "missed" and the "with resume" filters;
* the two indexes' size on disk.

SQLite runs without ANALYZE's statistics (most SQLite databases never get them); PostgreSQL
is analyzed, as autovacuum would. PostgreSQL runs when ``--postgres URL`` or
``$CALLTRACK_TEST_POSTGRES_URL`` names a server whose user may create databases; the script
makes (and drops) its own databases there.

Usage::

    python benchmarks/bench_folder_indexes.py            # 200,000 stored calls
    python benchmarks/bench_folder_indexes.py --quick    # 20,000, a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from bench_storage import call_rows  # the same stored calls as the storage benchmark

from calltrack.domain.model import Call, CallRoute
from calltrack.storage import _schema as s
from calltrack.storage.sql import SqlStorage, upgrade
from calltrack.testing import FakeClock
from calltrack.tracker import CallTracker

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
BATCH = 20_000
PER_VACANCY = 1_000
OLD = "0002"
OLD_INDEXES = (
    "ix_calls_vacancy_id_is_missed_started_at_call_id",
    "ix_calls_vacancy_id_has_resume_started_at_call_id",
)
NEW_INDEXES = (s.FOLDER_MISSED, s.FOLDER_RESUME)


@dataclass
class Variant:
    """One database: its schema revision, the indexes compared, and the timings taken."""

    name: str
    url: str
    indexes: tuple[str, ...]
    storage: SqlStorage
    seconds: dict[str, list[float]] = field(default_factory=dict)

    def record(self, figure: str, seconds: float) -> None:
        """Keep one round's time for ``figure``."""
        self.seconds.setdefault(figure, []).append(seconds)

    def median(self, figure: str) -> float:
        """The median over the rounds."""
        return statistics.median(self.seconds[figure])


def _fill(storage: SqlStorage, total: int, *, analyze: bool) -> None:
    batch: list[dict[str, Any]] = []
    with storage.engine.begin() as conn:
        for row in call_rows(total, max(1, total // PER_VACANCY)):
            batch.append(row)
            if len(batch) == BATCH:
                conn.execute(sa.insert(s.calls), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(s.calls), batch)
    if analyze:
        with storage.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def _new_call(n: int, total: int) -> Call:
    """A call as the inbound webhook stores it: forwarded, not ended, nobody known yet."""
    return Call(
        call_id=f"fake:N{n:09d}",
        provider="fake",
        provider_call_id=f"N{n:09d}",
        virtual_number="+74951000001",
        caller=f"+7916{n:07d}",
        started_at=T0 + timedelta(seconds=total + n),
        route=CallRoute.FORWARDED,
        vacancy_id=f"v{n % max(1, total // PER_VACANCY)}",
        employer_id="e1",
        real_number="+74952000001",
    )


def _index_bytes(variant: Variant) -> int:
    storage = variant.storage
    if storage.path is not None:
        with contextlib.closing(sqlite3.connect(storage.path)) as db:
            marks = ",".join("?" * len(variant.indexes))
            (size,) = db.execute(
                f"SELECT sum(pgsize) FROM dbstat WHERE name IN ({marks})",  # noqa: S608 - placeholders only
                variant.indexes,
            ).fetchone()
        return int(size)
    with storage.engine.connect() as conn:
        total = 0
        for index in variant.indexes:
            total += conn.execute(
                sa.text("SELECT pg_relation_size(CAST(:index AS regclass))"), {"index": index}
            ).scalar_one()
        conn.rollback()
    return total


@contextlib.contextmanager
def _databases(
    kind: str, postgres: str | None, folder: Path, total: int
) -> Iterator[list[Variant]]:
    """The 0002 and the current database of one kind, filled with the same calls."""
    made: list[str] = []
    variants: list[Variant] = []
    admin = None
    if kind == "postgresql":
        assert postgres is not None
        base = sa.make_url(postgres).set(drivername="postgresql+psycopg")
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        for name, revision, indexes in [
            ("0002", OLD, OLD_INDEXES),
            ("current", "head", NEW_INDEXES),
        ]:
            if admin is None:
                url = f"sqlite:///{folder / f'{name}.db'}"
            else:
                database = f"calltrack_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
                made.append(database)
                url = admin.url.set(database=database).render_as_string(hide_password=False)
            upgrade(url, revision)
            storage = SqlStorage(url, check_schema=False)
            _fill(storage, total, analyze=admin is not None)
            variants.append(Variant(name, url, indexes, storage))
        yield variants
    finally:
        for variant in variants:
            variant.storage.close()
        if admin is not None:
            with admin.connect() as conn:
                for database in made:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.dispose()


def _time_inserts(variant: Variant, first: int, count: int, total: int) -> float:
    """Seconds per stored inbound call, each in its own transaction."""
    calls = [_new_call(first + i, total) for i in range(count)]
    start = time.perf_counter()
    for call in calls:
        with variant.storage.transaction() as tx:
            tx.add_call(call)
    return (time.perf_counter() - start) / count


def _time_raw_inserts(variant: Variant, first: int, count: int, total: int) -> float:
    """Seconds per INSERT and COMMIT on the sqlite3 driver alone, with the storage's pragmas."""
    assert variant.storage.path is not None
    columns = [c.name for c in s.calls.c]
    sql = (
        f"INSERT INTO calls ({', '.join(columns)}) "  # noqa: S608 - the schema's own names
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    rows = []
    for i in range(count):
        call = _new_call(first + i, total)
        values: dict[str, object] = dict.fromkeys(columns)
        values.update(
            call_id=call.call_id,
            provider=call.provider,
            provider_call_id=call.provider_call_id,
            virtual_number=call.virtual_number,
            caller=call.caller,
            started_at=call.started_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            route=call.route.value,
            vacancy_id=call.vacancy_id,
            employer_id=call.employer_id,
            real_number=call.real_number,
            talk_seconds=0,
            is_spam=0,
            is_missed=0,
            has_resume=0,
        )
        rows.append(tuple(values[c] for c in columns))
    with contextlib.closing(sqlite3.connect(variant.storage.path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        start = time.perf_counter()
        for row in rows:
            db.execute("BEGIN IMMEDIATE")
            db.execute(sql, row)
            db.execute("COMMIT")
        return (time.perf_counter() - start) / count


def _time_pages(variant: Variant, figure: str, repeats: int, total: int) -> float:
    """The median seconds of the first page of 50 with one filter, over several vacancies."""
    tracker = CallTracker(variant.storage, clock=FakeClock())
    vacancies = max(1, total // PER_VACANCY)
    missed, resume = figure == "missed", figure == "resume"
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        page = tracker.calls(f"v{i % vacancies}", missed=missed, with_resume=resume, limit=50)
        times.append(time.perf_counter() - start)
        assert len(page.calls) == 50
    return statistics.median(times)


def _ratio(figure: str, old: Variant, new: Variant, unit: Callable[[float], str]) -> str:
    before, after = old.median(figure), new.median(figure)
    return f"{unit(after)} vs {unit(before)} = {after / before:.2f} x"


def _micros(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def _millis(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def run(kind: str, postgres: str | None, total: int, rounds: int, per_round: int) -> None:
    """Measure one kind of database and print its figures."""
    with (
        tempfile.TemporaryDirectory(prefix="calltrack-bench-") as folder,
        _databases(kind, postgres, Path(folder), total) as (old, new),
    ):
        sizes = {v.name: _index_bytes(v) for v in (old, new)}
        for r in range(rounds):
            order = (old, new) if r % 2 == 0 else (new, old)
            for variant in order:
                first = r * per_round
                variant.record("insert", _time_inserts(variant, first, per_round, total))
                if kind == "sqlite":
                    raw_first = (rounds + r) * per_round
                    raw = _time_raw_inserts(variant, raw_first, per_round, total)
                    variant.record("raw insert", raw)
                for figure in ("missed", "resume"):
                    variant.record(figure, _time_pages(variant, figure, per_round // 4, total))
        print(f"{kind}, {total:,} stored calls, the current schema against {OLD}:")
        insert = _ratio("insert", old, new, _micros)
        print(f"  store an inbound call (add_call, committed): {insert}")
        if kind == "sqlite":
            alone = _ratio("raw insert", old, new, _micros)
            print(f"  the same on the sqlite3 driver alone: {alone}")
        print(f"  first page of 50, only missed: {_ratio('missed', old, new, _millis)}")
        print(f"  first page of 50, only with a resume: {_ratio('resume', old, new, _millis)}")
        before, after = sizes["0002"], sizes["current"]
        print(
            f"  the two indexes on disk: {after / 1e6:.1f} MB vs {before / 1e6:.1f} MB "
            f"= {after / before:.2f} x"
        )
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use")
    args = parser.parse_args(argv)
    postgres = args.postgres or os.environ.get("CALLTRACK_TEST_POSTGRES_URL")
    total = 20_000 if args.quick else 200_000
    rounds, per_round = (4, 100) if args.quick else (12, 400)
    run("sqlite", None, total, rounds, per_round)
    if postgres:
        run("postgresql", postgres, total, rounds, per_round)
    else:
        print("PostgreSQL: skipped; pass --postgres URL or set CALLTRACK_TEST_POSTGRES_URL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
