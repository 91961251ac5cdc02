"""Under real concurrency the database keeps the invariants, on SQLite and PostgreSQL.

Eight processes track vacancies from one shared pool; sixteen threads, each with its own
connection pool, deliver the same webhook events at once; a database error in the middle of
a dial result leaves nothing behind.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from calltrack.domain.events import DialResult, InboundCall
from calltrack.domain.model import DialStatus, Mark
from calltrack.errors import StorageError
from calltrack.storage import _schema as s
from calltrack.storage.sql import SqlStorage
from calltrack.testing import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.tracker import CallTracker

PROCESSES = 8
VACANCIES = 500
POOL = PROCESSES * VACANCIES + 400
DELIVERIES = 16


def _track_many(url: str, worker: int) -> int:
    """Track VACANCIES vacancies of one phone each; untrack every fifth. Runs in a child."""
    storage = SqlStorage(url, pool_size=1)
    tracker = CallTracker(storage, clock=FakeClock(), retries=50)
    try:
        for i in range(VACANCIES):
            vacancy = f"w{worker}-v{i}"
            tracker.track(vacancy, [f"+74952{worker}{i:05d}"], employer_id=f"e{worker}", title="x")
            if i % 5 == 4:
                tracker.untrack(vacancy)
    finally:
        storage.close()
    return worker


def _run_workers(storage: SqlStorage) -> None:
    """Run the workers in forked processes; each opens its own connections."""
    url = storage.engine.url.render_as_string(hide_password=False)
    storage.engine.dispose()  # no connection of this process is carried into the children
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        work = pool.starmap_async(_track_many, [(url, w) for w in range(PROCESSES)])
        done = work.get(timeout=300)  # fail, rather than hang, if a worker is stuck
    assert sorted(done) == list(range(PROCESSES))


def _check_pool(storage: SqlStorage) -> None:
    a, n = s.assignments, s.pool_numbers
    with storage.engine.connect() as conn:
        active = conn.execute(
            sa.select(a.c.virtual_number).where(a.c.released_at.is_(None))
        ).scalars()
        held = list(active)
        assigned = set(
            conn.execute(sa.select(n.c.number).where(n.c.assigned == sa.true())).scalars()
        )
    tracked = PROCESSES * VACANCIES * 4 // 5
    assert len(held) == len(set(held)) == tracked  # no number held twice
    assert set(held) == assigned  # the pool agrees with the assignments
    tracker = CallTracker(storage, clock=FakeClock())
    counts = tracker.pool_counts()
    released = PROCESSES * VACANCIES // 5
    assert (counts.total, counts.assigned, counts.quarantined, counts.free) == (
        POOL,
        tracked,
        released,
        POOL - tracked - released,
    )


def _seed_pool(storage: SqlStorage) -> None:
    tracker = CallTracker(storage, clock=FakeClock())
    assert tracker.add_numbers([f"+7495{n:07d}" for n in range(1, POOL + 1)], provider="fake")


@pytest.mark.slow
class TestManyProcessesShareOnePool:
    """Eight processes tracking 500 vacancies each never give a number to two assignments."""

    def test_sqlite(self, sqlite_storage: SqlStorage) -> None:
        _seed_pool(sqlite_storage)
        _run_workers(sqlite_storage)
        _check_pool(sqlite_storage)

    @pytest.mark.postgres
    def test_postgres(self, postgres_storage: SqlStorage) -> None:
        _seed_pool(postgres_storage)
        _run_workers(postgres_storage)
        _check_pool(postgres_storage)


CALLER = "+79031234567"


def _setup_call(url: str) -> str:
    """Track a vacancy and return its virtual number."""
    storage = SqlStorage(url)
    tracker = CallTracker(storage, clock=FakeClock())
    tracker.add_numbers(["+74951000001"], provider="fake")
    (assignment,) = tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")
    storage.close()
    return assignment.virtual_number


def _tracker(url: str) -> tuple[CallTracker, RecordingNotifier, SqlStorage]:
    storage = SqlStorage(url, pool_size=1)
    directory = FakeDirectory()
    directory.add(CALLER, "Anna Petrova", resume_url="https://r/anna")
    notifier = RecordingNotifier()
    tracker = CallTracker(
        storage, directory=directory, notifier=notifier, clock=FakeClock(), retries=50
    )
    return tracker, notifier, storage


def _deliver_at_once(url: str, events: list[Any]) -> list[RecordingNotifier]:
    """Deliver each event from DELIVERIES workers at once, each with its own connections."""
    workers = [_tracker(url) for _ in range(DELIVERIES)]
    start = threading.Barrier(DELIVERIES)

    def deliver(i: int) -> None:
        tracker = workers[i][0]
        for webhook in events:
            start.wait()
            tracker.handle(webhook)

    with ThreadPoolExecutor(DELIVERIES) as pool:
        list(pool.map(deliver, range(DELIVERIES)))
    for _, _, storage in workers:
        storage.close()
    return [notifier for _, notifier, _ in workers]


def _check_once(url: str, notifiers: list[RecordingNotifier]) -> None:
    storage = SqlStorage(url)
    tracker = CallTracker(storage, clock=FakeClock())
    calls = tracker.calls("v1", include_spam=True).calls
    assert len(calls) == 1
    assert calls[0].mark is Mark.RESPONSE_BY_CALL
    (response,) = tracker.responses(vacancy_id="v1")
    assert response.calls == 1
    assert len(tracker.notifications()) == 1
    assert sum(len(n.sent) for n in notifiers) == 1  # sent by exactly one worker
    stats = tracker.stats(vacancy_id="v1")
    assert (stats.calls, stats.answered, stats.responses) == (1, 1, 1)
    storage.close()


def _same_webhooks(url: str) -> None:
    virtual = _setup_call(url)
    events = [
        InboundCall("fake", "CA1", CALLER, virtual),
        DialResult("fake", "CA1", DialStatus.ANSWERED, talk_seconds=42, dial_call_id="D1"),
    ]
    _check_once(url, _deliver_at_once(url, events))


class TestSameWebhookDeliveredSixteenTimes:
    """Sixteen concurrent deliveries of one event make one call, response and notification."""

    def test_sqlite(self, make_sqlite_url: Callable[[], str]) -> None:
        _same_webhooks(make_sqlite_url())

    @pytest.mark.postgres
    def test_postgres(self, make_postgres_url: Callable[[], str]) -> None:
        _same_webhooks(make_postgres_url())


@contextmanager
def _failing(storage: SqlStorage, statement: str) -> Iterator[list[int]]:
    """Make the database fail the first statement that starts with ``statement``.

    The driver's own error is raised from inside the cursor execution, so it travels the
    same path as a real one (a dropped connection, a full disk).
    """
    dbapi = storage.engine.dialect.loaded_dbapi
    failed = [0]

    def fail(conn: object, cursor: object, sql: str, *args: object) -> None:
        if sql.startswith(statement) and not failed[0]:
            failed[0] += 1
            raise dbapi.OperationalError("injected: the database went away")

    event.listen(storage.engine, "before_cursor_execute", fail)
    try:
        yield failed
    finally:
        event.remove(storage.engine, "before_cursor_execute", fail)


def _fault_then_retry(url: str, statement: str) -> None:
    virtual = _setup_call(url)
    tracker, notifier, storage = _tracker(url)
    tracker.handle(InboundCall("fake", "CA1", CALLER, virtual))
    result = DialResult("fake", "CA1", DialStatus.ANSWERED, talk_seconds=42, dial_call_id="D1")
    with _failing(storage, statement) as failed, pytest.raises(StorageError, match="injected"):
        tracker.handle(result)
    assert failed == [1]
    # Nothing of the dial result was kept: no event claimed, no response, call not marked.
    call = tracker.call("fake", "CA1")
    assert (call.mark, call.dial_status, call.response_id) == (None, None, None)
    assert tracker.responses(vacancy_id="v1") == []
    assert tracker.notifications() == []
    with storage.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s.events)).scalar() == 0
    # The provider retries the webhook: it completes, once.
    tracker.handle(result)
    tracker.handle(result)
    storage.close()
    _check_once(url, [notifier])


@pytest.mark.parametrize(
    "statement", ["INSERT INTO responses", "INSERT INTO notifications", "UPDATE calls"]
)
class TestAFaultInTheMiddleOfADialResult:
    """A database error mid-way leaves no partial state; a retry then completes it once."""

    def test_sqlite(self, make_sqlite_url: Callable[[], str], statement: str) -> None:
        _fault_then_retry(make_sqlite_url(), statement)

    @pytest.mark.postgres
    def test_postgres(self, make_postgres_url: Callable[[], str], statement: str) -> None:
        _fault_then_retry(make_postgres_url(), statement)
