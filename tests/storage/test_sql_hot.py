"""The webhooks' statements: compiled once, run on the driver's cursor, and still correct.

The statements a webhook runs skip SQLAlchemy's per-call statement building; these tests
hold what that must not change: the contract (also when SQLAlchemy's cursor events are
watched), the stored form of values (rows written this way read back the same through
SQLAlchemy Core), and the translation of the driver's errors.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from calltrack import CallTracker, InboundCall
from calltrack.domain.folder import CallFilter
from calltrack.domain.model import Call, CallRoute, Candidate, DialStatus, Mark, SpamReason
from calltrack.errors import StorageConflict, StorageError
from calltrack.storage import _schema
from calltrack.storage import sql as sql_module
from calltrack.storage.sql import SqlStorage
from calltrack.testing import FakeClock
from calltrack.testing.storage_contract import MakeStorage, StorageContract

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
VIRTUAL = "+74951234567"
CALLER = "+79031234567"
FEW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _watched(url: str) -> SqlStorage:
    """A storage whose engine has a cursor listener, as tracing instrumentation adds."""
    storage = SqlStorage(url)

    def watch(*args: object) -> None:
        del args

    event.listen(storage.engine, "before_cursor_execute", watch)
    return storage


class TestWatchedSqliteStorage(StorageContract):
    """With SQLAlchemy's cursor events listened to, SqlStorage keeps the contract too."""

    @pytest.fixture
    def make_storage(self, make_sqlite_url: Callable[[], str]) -> MakeStorage:
        return lambda: _watched(make_sqlite_url())


class TestListenersSeeEveryStatement:
    """A cursor listener sees the webhooks' statements (nothing bypasses tracing)."""

    def test_inbound_call_is_seen(self, make_sqlite_url: Callable[[], str]) -> None:
        storage = SqlStorage(make_sqlite_url())
        tracker = CallTracker(storage, clock=FakeClock(T0))
        tracker.add_numbers([VIRTUAL], provider="fake")
        tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")
        seen: list[str] = []
        event.listen(storage.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        tracker.handle(InboundCall("fake", "CA1", CALLER, VIRTUAL))
        assert any(sql.startswith("INSERT INTO calls") for sql in seen)
        assert any(sql.startswith("SELECT") and "FROM assignments" in sql for sql in seen)
        storage.close()


class TestHotPathSkipsStatementBuilding:
    """Webhooks run no SQLAlchemy Core statement, and their statements compile once."""

    def test_no_core_execution_per_webhook(
        self, make_sqlite_url: Callable[[], str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        storage = SqlStorage(make_sqlite_url())
        tracker = CallTracker(storage, clock=FakeClock(T0))
        tracker.add_numbers([VIRTUAL], provider="fake")
        tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")
        executed: list[object] = []
        compiled: list[object] = []
        real_execute = sa.engine.Connection.execute
        real_compile = sql_module._Hot.compile

        def execute(self: sa.engine.Connection, statement: Any, *args: Any, **kw: Any) -> Any:
            executed.append(statement)
            return real_execute(self, statement, *args, **kw)

        def compile_(dialect: Any) -> sql_module._Hot:
            compiled.append(dialect)
            return real_compile(dialect)

        monkeypatch.setattr(sa.engine.Connection, "execute", execute)
        monkeypatch.setattr(sql_module._Hot, "compile", compile_)
        for i in range(5):
            decision = tracker.handle(InboundCall("fake", f"CA{i}", f"+7903123456{i}", VIRTUAL))
            assert type(decision).__name__ == "Forward"
        assert executed == []
        assert compiled == []  # compiled by the first transaction, before the patch
        storage.close()


calls = st.builds(
    lambda n, started, answered_after, zone, route, status, mark, who, talk: Call(
        call_id=f"fake:CA{n}",
        provider="fake",
        provider_call_id=f"CA{n}",
        virtual_number=VIRTUAL,
        caller=None if n % 5 == 0 else f"+7903{n:07d}",
        started_at=started.astimezone(zone),
        route=route,
        vacancy_id="v1",
        employer_id="e1",
        real_number="+74952000001" if route is CallRoute.FORWARDED else None,
        spam_reason=SpamReason.TOO_MANY_CALLS if route is CallRoute.SPAM else None,
        dial_status=status,
        mark=mark,
        talk_seconds=talk,
        answered_at=started + answered_after if answered_after is not None else None,
        ended_at=started + timedelta(minutes=5) if status is not None else None,
        recording_url=f"https://rec.example/{n}" if talk else None,
        candidate=Candidate(f"c{n}", f"Name {n}", None) if who else None,
        response_id=f"r{n}" if who else None,
    ),
    st.integers(0, 10**6),
    st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(timezone.utc),
    ),
    st.none() | st.timedeltas(timedelta(0), timedelta(minutes=2)),
    st.sampled_from([timezone.utc, timezone(timedelta(hours=3)), timezone(timedelta(hours=-7))]),
    st.sampled_from(CallRoute),
    st.none() | st.sampled_from(DialStatus),
    st.none() | st.sampled_from(Mark),
    st.booleans(),
    st.integers(0, 3600),
)


class TestHotWritesReadBackThroughCore:
    """A call written by the hot path reads back equal through Core and through the hot path."""

    @FEW
    @given(call=calls)
    def test_round_trip(self, make_sqlite_url: Callable[[], str], call: Call) -> None:
        storage = SqlStorage(make_sqlite_url())
        try:
            with storage.transaction() as tx:
                assert tx.add_call(call)
            with storage.transaction() as tx:
                page = tx.call_page("v1", CallFilter(include_spam=True), 10, None)
                fetched = tx.get_call(call.call_id)
            assert page.calls == [call]
            assert fetched == call
            assert fetched is not None
            assert fetched.started_at.tzinfo is timezone.utc
            # Stored exactly as SQLAlchemy Core stores it, so both sort and compare alike.
            by_core = sql_module._values(call) | {"call_id": "core"}
            with storage.engine.begin() as conn:
                conn.execute(sa.insert(_schema.calls).values(by_core))
                raw = "SELECT * FROM calls WHERE call_id = ?"
                hot_row = conn.exec_driver_sql(raw, (call.call_id,)).one()
                core_row = conn.exec_driver_sql(raw, ("core",)).one()
            assert hot_row[1:] == core_row[1:]
        finally:
            storage.close()


@pytest.fixture
def failing_responses_sqlite(make_sqlite_url: Callable[[], str]) -> str:
    """A SQLite database whose responses table refuses every insert."""
    url = make_sqlite_url()
    path = Path(sa.make_url(url).database or "")
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON responses "
            "BEGIN SELECT RAISE(ABORT, 'injected refusal'); END"
        )
    return url


def _call(n: int) -> Call:
    return Call(f"fake:CA{n}", "fake", f"CA{n}", VIRTUAL, CALLER, T0, CallRoute.UNKNOWN_NUMBER)


class TestDriverErrors:
    """A driver's error on a hot statement is calltrack's error, and the unit keeps nothing."""

    def test_sqlite_error_rolls_back(self, failing_responses_sqlite: str) -> None:
        from calltrack.domain.model import Folder, Response, ResponseStatus  # noqa: PLC0415

        storage = SqlStorage(failing_responses_sqlite)
        response = Response(
            "r1", "v1", "e1", Candidate("c1", "Ann", None), CALLER,
            Mark.RESPONSE_BY_CALL, ResponseStatus.PENDING, T0, T0, 1, Folder.UNSORTED, "call",
        )  # fmt: skip

        def work() -> None:
            with storage.transaction() as tx:
                assert tx.add_call(_call(1))
                tx.add_response(response)

        with pytest.raises(StorageError, match="injected refusal"):
            work()
        with storage.transaction() as tx:
            assert tx.get_call("fake:CA1") is None
        storage.close()

    def test_sqlite_busy_is_a_conflict(self, make_sqlite_url: Callable[[], str]) -> None:
        url = make_sqlite_url()
        storage = SqlStorage(url, busy_timeout=0.05)
        with storage.transaction() as tx:  # connect and check the schema first
            assert tx.get_call("fake:CA1") is None
        other = sqlite3.connect(sa.make_url(url).database or "", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageConflict, match=r"busy|locked"), storage.transaction() as tx:
                tx.add_call(_call(1))
        finally:
            other.execute("ROLLBACK")
            other.close()
        with storage.transaction() as tx:  # the storage works again once the lock is gone
            assert tx.add_call(_call(1))
        storage.close()

    @pytest.mark.postgres
    def test_postgres_error_rolls_back(self, make_postgres_url: Callable[[], str]) -> None:
        storage = SqlStorage(make_postgres_url())
        with storage.transaction() as tx:
            assert tx.add_call(_call(1))
        with storage.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected refusal'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE UPDATE ON calls "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )

        def work() -> None:
            with storage.transaction() as tx:
                assert tx.add_call(_call(2))
                tx.update_call(_call(1))

        with pytest.raises(StorageError, match="injected refusal"):
            work()
        with storage.transaction() as tx:
            assert tx.get_call("fake:CA2") is None
            assert tx.add_call(_call(2))  # the pooled connection is usable again
        storage.close()


def _kill_other_backends(storage: SqlStorage) -> None:
    """Close, server side, every connection to the storage's database but this one."""
    with storage.engine.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.rollback()


@pytest.mark.postgres
class TestRestedConnectionsArePinged:
    """A pooled connection is pinged only after resting, and a dead one is replaced."""

    def test_a_dead_rested_connection_is_replaced(
        self, postgres_storage: SqlStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with postgres_storage.transaction() as tx:
            assert tx.get_call("fake:CA1") is None
        with postgres_storage.engine.connect() as first, postgres_storage.engine.connect():
            del first  # two connections in the pool now
        _kill_other_backends(postgres_storage)
        monkeypatch.setattr(sql_module, "PING_AFTER", 0.0)
        for _ in range(3):
            with postgres_storage.transaction() as tx:
                assert tx.get_call("fake:CA1") is None

    def test_connections_in_use_are_not_pinged(
        self, postgres_storage: SqlStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pings: list[object] = []
        dialect_type = type(postgres_storage.engine.dialect)
        real_ping = dialect_type.do_ping

        def ping(self: Any, dbapi_connection: Any) -> bool:
            pings.append(dbapi_connection)
            return real_ping(self, dbapi_connection)

        monkeypatch.setattr(dialect_type, "do_ping", ping)
        for _ in range(5):
            with postgres_storage.transaction() as tx:
                assert tx.get_call("fake:CA1") is None
        assert pings == []
        monkeypatch.setattr(sql_module, "PING_AFTER", 0.0)
        with postgres_storage.transaction() as tx:
            assert tx.get_call("fake:CA1") is None
        assert len(pings) == 1


class TestThreadsTakeTurnsOnSqlite:
    """On SQLite, a process's threads queue for the write lock, bounded by the busy timeout."""

    def test_a_waiting_thread_gets_in_after_the_holder_commits(
        self, make_sqlite_url: Callable[[], str]
    ) -> None:
        storage = SqlStorage(make_sqlite_url(), busy_timeout=10)
        holding = threading.Event()
        release = threading.Event()
        order: list[str] = []

        def holder() -> None:
            with storage.transaction() as tx:
                assert tx.add_call(_call(1))
                holding.set()
                release.wait(5)
                order.append("holder commits")

        def waiter() -> None:
            with storage.transaction() as tx:
                order.append("waiter in")
                assert tx.get_call("fake:CA1") is not None  # sees the holder's commit

        first = threading.Thread(target=holder)
        first.start()
        assert holding.wait(5)
        second = threading.Thread(target=waiter)
        second.start()
        second.join(0.2)
        assert second.is_alive()  # waiting for its turn
        release.set()
        first.join(5)
        second.join(5)
        assert order == ["holder commits", "waiter in"]
        storage.close()

    def test_waiting_longer_than_the_busy_timeout_is_a_conflict(
        self, make_sqlite_url: Callable[[], str]
    ) -> None:
        storage = SqlStorage(make_sqlite_url(), busy_timeout=0.1)
        holding = threading.Event()
        release = threading.Event()

        def holder() -> None:
            with storage.transaction() as tx:
                assert tx.add_call(_call(1))
                holding.set()
                release.wait(5)

        thread = threading.Thread(target=holder)
        thread.start()
        try:
            assert holding.wait(5)
            with (
                pytest.raises(StorageConflict, match="another thread of this process"),
                storage.transaction(),
            ):
                pass
        finally:
            release.set()
            thread.join(5)
        with storage.transaction() as tx:  # and nothing is left held
            assert tx.get_call("fake:CA1") is not None
        storage.close()


class TestSqliteUnitsOfWorkShareOneConnection:
    """SQLite writers take turns, so they share one connection instead of the pool's."""

    def test_the_pool_is_not_visited_per_unit_of_work(
        self, make_sqlite_url: Callable[[], str]
    ) -> None:
        storage = SqlStorage(make_sqlite_url())
        checkouts: list[object] = []
        event.listen(storage.engine, "checkout", lambda *a: checkouts.append(a[0]))
        for i in range(5):
            with storage.transaction() as tx:
                assert tx.add_call(_call(i))
        assert len(checkouts) == 1
        storage.close()

    def test_a_broken_connection_is_replaced(self, make_sqlite_url: Callable[[], str]) -> None:
        storage = SqlStorage(make_sqlite_url())

        def lose_connection_midway() -> None:
            with storage.transaction() as tx:
                assert tx.add_call(_call(1))
                tx._conn.invalidate()  # as after a lost connection
                raise RuntimeError

        with pytest.raises(RuntimeError):
            lose_connection_midway()
        with storage.transaction() as tx:  # a fresh connection; the broken one wrote nothing
            assert tx.get_call("fake:CA1") is None
            assert tx.add_call(_call(1))
        with storage.transaction() as tx:
            assert tx.get_call("fake:CA1") is not None
        storage.close()

    def test_a_unit_of_work_nested_in_another_gets_its_own_connection(
        self, make_sqlite_url: Callable[[], str]
    ) -> None:
        storage = SqlStorage(make_sqlite_url(), busy_timeout=0.2)
        with storage.transaction() as outer:
            assert outer.add_call(_call(1))
            # The same thread may enter again (the lock is reentrant), but not share the
            # outer connection's transaction: SQLite's own lock keeps it out.
            with pytest.raises(StorageConflict), storage.transaction() as inner:
                inner.add_call(_call(2))
        with storage.transaction() as tx:
            assert tx.get_call("fake:CA1") is not None
            assert tx.get_call("fake:CA2") is None
        storage.close()

    def test_a_forked_child_opens_its_own_connection(
        self, make_sqlite_url: Callable[[], str]
    ) -> None:
        storage = SqlStorage(make_sqlite_url())
        with storage.transaction() as tx:
            assert tx.add_call(_call(1))
        parent = storage._pinned
        storage._pinned_pid = -1  # what a child process finds: a connection of another pid
        with storage.transaction() as tx:
            assert tx.get_call("fake:CA1") is not None
        assert storage._pinned is not parent
        storage.close()
