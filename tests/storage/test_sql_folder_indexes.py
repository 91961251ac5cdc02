"""The missed and with-resume folder indexes are partial: an inbound call is not written to them.

A call is stored neither missed nor with a resume when it arrives; it enters those two
indexes when its dial result makes it so. Entries are counted in the index b-trees
themselves: on SQLite from the ``dbstat`` table, on PostgreSQL from the index's size (a
b-tree that never received an entry is its metapage alone, one page).
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltrack import CallTracker, DialResult, DialStatus, InboundCall
from calltrack.domain.folder import CallFilter, Cursor
from calltrack.domain.model import Call
from calltrack.ports import Storage
from calltrack.storage import _schema as s
from calltrack.storage import sql as sql_module
from calltrack.storage.memory import MemoryStorage
from calltrack.storage.sql import SqlStorage, upgrade
from calltrack.testing import CallOutcome, CallSimulator, FakeClock, FakeDirectory

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
VIRTUAL = "+74951000001"
ANNA = "+79030000001"  # a candidate with a resume
OLEG = "+79030000002"  # a candidate with a resume
NINA = "+79030000003"  # a candidate without one
STRANGER = "+79035550000"  # nobody the directory knows
PARTIAL = (s.FOLDER_MISSED, s.FOLDER_RESUME)
FLAG = {s.FOLDER_MISSED: "is_missed", s.FOLDER_RESUME: "has_resume"}
OLD_INDEXES = {
    "ix_calls_vacancy_id_is_missed_started_at_call_id": ["vacancy_id", "is_missed"],
    "ix_calls_vacancy_id_has_resume_started_at_call_id": ["vacancy_id", "has_resume"],
}
EVERY_FILTER = [
    CallFilter(missed=m, with_resume=r, include_spam=sp)
    for m, r, sp in itertools.product([False, True], repeat=3)
]


def _tracker(storage: Storage) -> CallTracker:
    directory = FakeDirectory()
    directory.add(ANNA, "Anna Petrova", resume_url="https://r/anna")
    directory.add(OLEG, "Oleg Ivanov", resume_url="https://r/oleg")
    directory.add(NINA, "Nina Sokolova")
    tracker = CallTracker(storage, directory=directory, clock=FakeClock(T0))
    tracker.add_numbers([VIRTUAL], provider="fake")
    tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")
    return tracker


def _sqlite_entries(storage: SqlStorage, index: str) -> int:
    """The entries of an index, counted in its b-tree (an index keeps keys on every page)."""
    assert storage.path is not None
    with contextlib.closing(sqlite3.connect(storage.path)) as db:
        try:
            (count,) = db.execute(
                "SELECT coalesce(sum(ncell), 0) FROM dbstat WHERE name = ?", (index,)
            ).fetchone()
        except sqlite3.OperationalError as exc:  # SQLite built without the dbstat table
            pytest.skip(f"cannot count index entries: {exc}")
    return int(count)


def _postgres_pages(storage: SqlStorage, index: str) -> int:
    """The pages of an index: 1 (the metapage) for a b-tree that never held an entry."""
    with storage.engine.connect() as conn:
        pages = conn.execute(
            sa.text(
                "SELECT pg_relation_size(CAST(:index AS regclass)) "
                "/ current_setting('block_size')::int"
            ),
            {"index": index},
        ).scalar_one()
        conn.rollback()
    return int(pages)


def _sqlite_indexed_ids(storage: SqlStorage, index: str) -> set[str]:
    """The calls SQLite finds through ``index``, which it must be able to use."""
    assert storage.path is not None
    with contextlib.closing(sqlite3.connect(storage.path)) as db:
        rows = db.execute(
            f"SELECT call_id FROM calls INDEXED BY {index} WHERE {FLAG[index]} = 1"  # noqa: S608 - names from the schema
        ).fetchall()
    return {row[0] for row in rows}


def _assert_partial_indexes_hold_exactly(storage: SqlStorage, calls: Sequence[Call]) -> None:
    """SQLite: the missed and with-resume indexes hold those of ``calls``, and nothing else."""
    missed = {c.call_id for c in calls if c.missed}
    resume = {c.call_id for c in calls if c.has_resume}
    assert _sqlite_entries(storage, s.FOLDER_MISSED) == len(missed)
    assert _sqlite_entries(storage, s.FOLDER_RESUME) == len(resume)
    assert _sqlite_indexed_ids(storage, s.FOLDER_MISSED) == missed
    assert _sqlite_indexed_ids(storage, s.FOLDER_RESUME) == resume


def _folder_ids(tracker: CallTracker, *, missed: bool = False, resume: bool = False) -> set[str]:
    page = tracker.calls("v1", missed=missed, with_resume=resume, include_spam=True, limit=1000)
    return {c.call_id for c in page.calls}


def _inbound(tracker: CallTracker, call_id: str, caller: str) -> None:
    tracker.handle(InboundCall("fake", call_id, caller, VIRTUAL))


def _ended(tracker: CallTracker, call_id: str, status: DialStatus) -> None:
    tracker.handle(DialResult("fake", call_id, status, talk_seconds=30 if status.answered else 0))


# Four calls; missed: Anna's, Nina's, the stranger's; with a resume: Anna's and Oleg's.
STORY = [
    ("CA1", ANNA, DialStatus.NO_ANSWER),
    ("CA2", OLEG, DialStatus.ANSWERED),
    ("CA3", NINA, DialStatus.BUSY),
    ("CA4", STRANGER, DialStatus.NO_ANSWER),
]
MISSED_IDS = {"fake:CA1", "fake:CA3", "fake:CA4"}
RESUME_IDS = {"fake:CA1", "fake:CA2"}


class TestSqliteInboundSkipsThePartialIndexes:
    """On SQLite an inbound call adds no entry to the partial indexes; its dial result does."""

    def test_inbound_calls_enter_only_the_other_folder_indexes(
        self, sqlite_storage: SqlStorage
    ) -> None:
        tracker = _tracker(sqlite_storage)
        for call_id, caller, _ in STORY:
            _inbound(tracker, call_id, caller)
        assert _sqlite_entries(sqlite_storage, s.FOLDER_ALL) == len(STORY)
        assert _sqlite_entries(sqlite_storage, s.FOLDER_NO_SPAM) == len(STORY)
        assert [_sqlite_entries(sqlite_storage, ix) for ix in PARTIAL] == [0, 0]

    def test_dial_results_enter_missed_and_resume_calls(self, sqlite_storage: SqlStorage) -> None:
        tracker = _tracker(sqlite_storage)
        for call_id, caller, status in STORY:
            _inbound(tracker, call_id, caller)
            _ended(tracker, call_id, status)
        assert _sqlite_entries(sqlite_storage, s.FOLDER_MISSED) == len(MISSED_IDS)
        assert _sqlite_entries(sqlite_storage, s.FOLDER_RESUME) == len(RESUME_IDS)
        assert _sqlite_indexed_ids(sqlite_storage, s.FOLDER_MISSED) == MISSED_IDS
        assert _sqlite_indexed_ids(sqlite_storage, s.FOLDER_RESUME) == RESUME_IDS
        assert _folder_ids(tracker, missed=True) == MISSED_IDS
        assert _folder_ids(tracker, resume=True) == RESUME_IDS
        assert _folder_ids(tracker, missed=True, resume=True) == {"fake:CA1"}
        assert _sqlite_entries(sqlite_storage, s.FOLDER_ALL) == len(STORY)


@pytest.mark.postgres
class TestPostgresInboundSkipsThePartialIndexes:
    """On PostgreSQL inbound calls leave the partial indexes empty; dial results fill them."""

    def test_inbound_calls_then_dial_results(self, postgres_storage: SqlStorage) -> None:
        tracker = _tracker(postgres_storage)
        for call_id, caller, _ in STORY:
            _inbound(tracker, call_id, caller)
        assert [_postgres_pages(postgres_storage, ix) for ix in PARTIAL] == [1, 1]
        assert _postgres_pages(postgres_storage, s.FOLDER_ALL) == 2  # it has entries
        for call_id, _, status in STORY:
            _ended(tracker, call_id, status)
        assert [_postgres_pages(postgres_storage, ix) for ix in PARTIAL] == [2, 2]
        assert _folder_ids(tracker, missed=True) == MISSED_IDS
        assert _folder_ids(tracker, resume=True) == RESUME_IDS


WHO = st.sampled_from([ANNA, OLEG, NINA, None])  # None: a new stranger each time
ENDING = st.one_of(st.none(), st.sampled_from(list(DialStatus)))  # None: still ringing
FEW = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class TestPartialIndexesHoldExactlyTheirCalls:
    """Whatever calls come and however they end, each partial index holds exactly its calls."""

    @FEW
    @given(calls=st.lists(st.tuples(WHO, ENDING), max_size=12))
    def test_entries_match_the_flags(
        self,
        make_sqlite_url: Callable[[], str],
        calls: list[tuple[str | None, DialStatus | None]],
    ) -> None:
        storage = SqlStorage(make_sqlite_url())
        try:
            tracker = _tracker(storage)
            for n, (who, ending) in enumerate(calls):
                before = [_sqlite_entries(storage, ix) for ix in PARTIAL]
                _inbound(tracker, f"CA{n}", who or f"+7903777{n:04d}")
                assert [_sqlite_entries(storage, ix) for ix in PARTIAL] == before
                if ending is not None and tracker.call("fake", f"CA{n}").real_number:
                    _ended(tracker, f"CA{n}", ending)
            stored = tracker.calls("v1", include_spam=True, limit=1000).calls
            _assert_partial_indexes_hold_exactly(storage, stored)
        finally:
            storage.close()


# --- the migration -------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    base = sa.make_url(server).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"calltrack_old_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _engine(url: str) -> sa.Engine:
    storage = SqlStorage(url, check_schema=False)
    driver = storage.engine.url.drivername
    storage.close()
    return sa.create_engine(sa.make_url(url).set(drivername=driver))


def _calls_indexes(url: str) -> dict[str, list[str]]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            found = sa.inspect(conn).get_indexes("calls")
    finally:
        engine.dispose()
    return {str(ix["name"]): [str(c) for c in ix["column_names"]] for ix in found}


def _downgrade(url: str, revision: str) -> None:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            config = sql_module._alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
            conn.commit()
    finally:
        engine.dispose()


def _story() -> list[Call]:
    """Calls of every kind, played on MemoryStorage: the folders to expect."""
    storage = MemoryStorage()
    tracker = _tracker(storage)
    sim = CallSimulator(tracker)
    outcomes = [CallOutcome.ANSWERED, CallOutcome.NO_ANSWER, CallOutcome.BUSY]
    for i in range(12):
        caller = [ANNA, OLEG, NINA, f"+7903555{i:04d}"][i % 4]
        sim.call(caller, VIRTUAL, outcome=outcomes[i % 3])
    sim.call("anonymous", VIRTUAL)  # spam
    return list(tracker.calls("v1", include_spam=True, limit=1000).calls)


def _pages(storage: SqlStorage, where: CallFilter) -> list[list[str]]:
    """The folder in pages of three, as call ids."""
    pages: list[list[str]] = []
    after: Cursor | None = None
    while True:
        with storage.transaction() as tx:
            page = tx.call_page("v1", where, 3, after)
        pages.append([c.call_id for c in page.calls])
        if page.next_cursor is None:
            return pages
        after = page.next_cursor


def _expected_pages(calls: list[Call], where: CallFilter) -> list[list[str]]:
    shown = sorted((c for c in calls if where.matches(c)), key=lambda c: (c.started_at, c.call_id))
    ids = [c.call_id for c in reversed(shown)]
    return [ids[i : i + 3] for i in range(0, len(ids), 3)] or [[]]


class TestUpgradeFrom0002:
    """A 0002 database holding calls upgrades to the partial indexes and shows the same folders."""

    def test_folders_after_the_upgrade(self, empty_url: str) -> None:
        calls = _story()
        assert any(c.missed for c in calls)
        assert any(c.has_resume for c in calls)
        assert any(c.missed and c.has_resume for c in calls)
        upgrade(empty_url, "0002")
        assert set(OLD_INDEXES) <= set(_calls_indexes(empty_url))
        engine = _engine(empty_url)
        with engine.begin() as conn:
            conn.execute(sa.insert(s.calls), [sql_module._values(c) for c in calls])
        engine.dispose()
        upgrade(empty_url)
        indexes = _calls_indexes(empty_url)
        assert not set(OLD_INDEXES) & set(indexes)
        keys = ["vacancy_id", "started_at", "call_id"]
        assert indexes[s.FOLDER_MISSED] == indexes[s.FOLDER_RESUME] == keys
        storage = SqlStorage(empty_url)
        try:
            for where in EVERY_FILTER:
                assert _pages(storage, where) == _expected_pages(calls, where), where
            if storage.dialect == "sqlite":
                _assert_partial_indexes_hold_exactly(storage, calls)
        finally:
            storage.close()

    def test_downgrade_restores_the_full_indexes(self, empty_url: str) -> None:
        upgrade(empty_url, "0002")
        at_0002 = _calls_indexes(empty_url)
        upgrade(empty_url)
        _downgrade(empty_url, "0002")
        assert _calls_indexes(empty_url) == at_0002
        for name, leading in OLD_INDEXES.items():
            assert at_0002[name] == [*leading, "started_at", "call_id"]
        upgrade(empty_url)  # and up again
        assert SqlStorage(empty_url).current_revision() == s.SCHEMA_REVISION
