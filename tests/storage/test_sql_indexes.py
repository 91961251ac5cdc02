"""The hot queries use their indexes: EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.

The queries explained are the ones SqlStorage really sends (captured as they run). On
PostgreSQL the tables are filled with enough rows (and ANALYZEd) that the planner prefers
the indexes on its own; sequential scans are not switched off, since a test that forces
the index would pass even if the planner would never choose it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from calltrack.domain.folder import CallFilter, Cursor
from calltrack.storage import _schema as s
from calltrack.storage.sql import SqlStorage, upgrade

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
NUMBERS = 20_000
HELD = 10_000
VACANCIES = 20
CALLS_EACH = 1_000
LATER = T0 + timedelta(days=1)


def _fill(storage: SqlStorage, *, analyze: bool = True) -> None:
    """Bulk-load numbers, assignments, their vacancies and calls straight into the tables."""
    numbers = [
        {
            "number": f"+7495{i:07d}",
            "provider": "fake",
            "country": "RU",
            "area": "495" if i % 2 else "812",
            "idle_since": T0 + timedelta(seconds=i),
            "available_from": T0 + timedelta(seconds=i),
            "assigned": i < HELD,
        }
        for i in range(NUMBERS)
    ]
    held = [
        {
            "vacancy_id": f"v{i}",
            "employer_id": f"e{i % 20}",
            "real_number": f"+74952{i:06d}",
            "virtual_number": f"+7495{i:07d}",
            "assigned_at": T0,
            "released_at": None,
        }
        for i in range(HELD)
    ]
    calls = []
    for v in range(VACANCIES):
        for c in range(CALLS_EACH):
            kind = c % 4
            calls.append(
                {
                    "call_id": f"fake:{v}-{c}",
                    "provider": "fake",
                    "provider_call_id": f"{v}-{c}",
                    "virtual_number": f"+7495{v:07d}",
                    "caller": f"+7903{(v * CALLS_EACH + c) % 7919:07d}",
                    "started_at": T0 + timedelta(minutes=c, seconds=v),
                    "route": "spam" if kind == 3 else "forwarded",
                    "vacancy_id": f"v{v}",
                    "employer_id": f"e{v % 20}",
                    "talk_seconds": 0,
                    "is_spam": kind == 3,
                    "is_missed": kind == 1,
                    "has_resume": kind in {0, 1},
                }
            )
    with storage.engine.begin() as conn:
        conn.execute(sa.insert(s.pool_numbers), numbers)
        conn.execute(sa.insert(s.assignments), held)
        vacancies = [
            {"vacancy_id": a["vacancy_id"], "employer_id": a["employer_id"], "title": "Job"}
            for a in held
        ]
        conn.execute(sa.insert(s.vacancies), [{**v, "tracked": True} for v in vacancies])
        conn.execute(sa.insert(s.calls), [{**_empty_call(), **c} for c in calls])
    if analyze:  # what autovacuum or PRAGMA optimize would do
        with storage.engine.begin() as conn:  # committed: SQLite's ANALYZE is transactional
            conn.exec_driver_sql("ANALYZE")


def _empty_call() -> dict[str, Any]:
    return {column.name: None for column in s.calls.c}


@contextmanager
def _captured(storage: SqlStorage) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, *rest: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append((sql, params))

    event.listen(storage.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(storage.engine, "before_cursor_execute", record)


def _plan(storage: SqlStorage, work: Callable[[Any], object]) -> str:
    """Run ``work`` in a transaction and return the plans of the SELECTs it sent."""
    with storage.transaction():  # the first one checks the schema; leave that out
        pass
    with _captured(storage) as seen, storage.transaction() as tx:
        work(tx)
    prefix = "EXPLAIN " if storage.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    plans = []
    with storage.engine.connect() as conn:
        for sql, params in seen:
            rows = conn.exec_driver_sql(prefix + sql, params).all()
            plans.append("\n".join(str(row[-1]) for row in rows))
        conn.rollback()
    return "\n".join(plans)


@pytest.fixture(scope="module")
def filled_postgres(postgres_server: str, postgres_template: str) -> Iterator[SqlStorage]:
    """A PostgreSQL database filled once for the whole module."""
    base = sa.make_url(postgres_server).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"calltrack_plans_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    storage = SqlStorage(base.set(database=name).render_as_string(hide_password=False))
    _fill(storage)
    yield storage
    storage.close()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="module", params=["analyzed", "never analyzed"])
def filled_sqlite(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[SqlStorage]:
    """A SQLite file filled once for the whole module, with and without ANALYZE's figures.

    Most SQLite databases are never analyzed, so the plans must hold without statistics.
    """
    url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.db'}"
    upgrade(url)
    storage = SqlStorage(url)
    _fill(storage, analyze=request.param == "analyzed")
    with storage.engine.connect() as conn:
        analyzed = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'"
        ).scalar()
        conn.rollback()
    assert bool(analyzed) == (request.param == "analyzed")
    yield storage
    storage.close()


CURSOR = Cursor(T0 + timedelta(minutes=900, seconds=7), "fake:7-900")
MISSED_OR_RESUME = (s.FOLDER_MISSED, s.FOLDER_RESUME)
FolderCase = tuple[CallFilter, Cursor | None, tuple[str, ...]]
FOLDER_CASES: list[FolderCase] = [
    (CallFilter(), None, (s.FOLDER_NO_SPAM,)),
    (CallFilter(), CURSOR, (s.FOLDER_NO_SPAM,)),
    (CallFilter(include_spam=True), None, (s.FOLDER_ALL,)),
    (CallFilter(include_spam=True), CURSOR, (s.FOLDER_ALL,)),
    (CallFilter(missed=True), None, (s.FOLDER_MISSED,)),
    (CallFilter(missed=True), CURSOR, (s.FOLDER_MISSED,)),
    (CallFilter(missed=True, include_spam=True), None, (s.FOLDER_MISSED,)),
    (CallFilter(missed=True, include_spam=True), CURSOR, (s.FOLDER_MISSED,)),
    (CallFilter(with_resume=True), None, (s.FOLDER_RESUME,)),
    (CallFilter(with_resume=True), CURSOR, (s.FOLDER_RESUME,)),
    (CallFilter(with_resume=True, include_spam=True), None, (s.FOLDER_RESUME,)),
    (CallFilter(with_resume=True, include_spam=True), CURSOR, (s.FOLDER_RESUME,)),
]
# Both filters at once: either partial index serves it. PostgreSQL reckons the two flags
# independent, expects few rows and sorts what the missed index finds (as it did before the
# indexes were partial), so only SQLite is held to reading them in order.
BOTH_CASES: list[FolderCase] = [
    (CallFilter(missed=True, with_resume=True), None, MISSED_OR_RESUME),
    (CallFilter(missed=True, with_resume=True), CURSOR, MISSED_OR_RESUME),
]


def _check_folder(
    storage: SqlStorage, where: CallFilter, after: Cursor | None, indexes: tuple[str, ...]
) -> str:
    plan = _plan(storage, lambda tx: tx.call_page("v7", where, 50, after))
    used = set(re.findall(r"\bix_calls_\w+", plan))
    assert len(used) == 1, plan  # one index scan, no combination of indexes
    assert used <= set(indexes), plan
    return plan


def _check_routing(storage: SqlStorage) -> str:
    plan = _plan(storage, lambda tx: tx.assignment_by_virtual("+74950000007"))
    assert "ix_assignments_virtual_number_released_at" in plan, plan
    # What an inbound call reads: the assignment, its vacancy, the caller's recent calls.
    inbound = _plan(storage, lambda tx: tx.routing_for("+74950000007", "+79030000001", T0))
    assert "ix_assignments_virtual_number_released_at" in inbound, inbound
    assert "ix_calls_caller_started_at" in inbound, inbound
    assert "Seq Scan on calls" not in inbound, inbound
    assert "SCAN h" not in inbound, inbound  # SQLite: the calls are searched, not scanned
    return plan + "\n" + inbound


@pytest.mark.postgres
class TestPostgresUsesTheIndexes:
    """With 20,000 calls and numbers, 10,000 assignments, the planner picks the indexes."""

    @pytest.mark.parametrize(("where", "after", "indexes"), FOLDER_CASES)
    def test_calls_folder(
        self,
        filled_postgres: SqlStorage,
        where: CallFilter,
        after: Cursor | None,
        indexes: tuple[str, ...],
    ) -> None:
        plan = _check_folder(filled_postgres, where, after, indexes)
        assert "Seq Scan" not in plan
        assert "Sort" not in plan  # the index gives the newest-first order

    @pytest.mark.parametrize(("where", "after", "indexes"), BOTH_CASES)
    def test_calls_folder_missed_with_resume(
        self,
        filled_postgres: SqlStorage,
        where: CallFilter,
        after: Cursor | None,
        indexes: tuple[str, ...],
    ) -> None:
        assert "Seq Scan" not in _check_folder(filled_postgres, where, after, indexes)

    def test_routing(self, filled_postgres: SqlStorage) -> None:
        assert "Seq Scan" not in _check_routing(filled_postgres)

    def test_claim_calls_from_and_stats(self, filled_postgres: SqlStorage) -> None:
        claim = _plan(filled_postgres, lambda tx: tx.claim_number("RU", "495", LATER))
        assert "ix_pool_numbers_country_area_idle_since_number" in claim, claim
        history = _plan(filled_postgres, lambda tx: tx.calls_from("+79030000001", T0))
        assert "ix_calls_caller_started_at" in history, history
        stats = _plan(filled_postgres, lambda tx: tx.stats(vacancy_id="v7"))
        assert "ix_calls_vacancy_id" in stats, stats
        for plan in (claim, history):
            assert "Seq Scan on calls" not in plan
            assert "Seq Scan on pool_numbers" not in plan


class TestSqliteUsesTheIndexes:
    """SQLite's planner reads the Calls folder and routes by index too."""

    @pytest.mark.parametrize(("where", "after", "indexes"), FOLDER_CASES + BOTH_CASES)
    def test_calls_folder(
        self,
        filled_sqlite: SqlStorage,
        where: CallFilter,
        after: Cursor | None,
        indexes: tuple[str, ...],
    ) -> None:
        plan = _check_folder(filled_sqlite, where, after, indexes)
        assert "TEMP B-TREE" not in plan  # no sort: the index gives the order

    def test_routing(self, filled_sqlite: SqlStorage) -> None:
        _check_routing(filled_sqlite)

    def test_claim_and_calls_from(self, filled_sqlite: SqlStorage) -> None:
        claim = _plan(filled_sqlite, lambda tx: tx.claim_number("RU", "495", LATER))
        assert "ix_pool_numbers_country_area_idle_since_number" in claim, claim
        history = _plan(filled_sqlite, lambda tx: tx.calls_from("+79030000001", T0))
        assert "ix_calls_caller_started_at" in history, history
