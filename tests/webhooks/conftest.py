"""Fixtures for the HTTP edge: a tracked job board, write-counting storage, live servers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs
import pytest

from calltrack import CallTracker
from calltrack._server import ThreadPoolWsgiServer, make_server
from calltrack.errors import ConfigurationError, StorageUnavailable
from calltrack.ports import Storage, Transaction
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.testing.http import HARNESSES, harness_base_url, load_harness
from calltrack.testing.provider_contract import ProviderHarness
from calltrack.webhooks import WebhookHandler, WsgiApp

CALLER = "+79031234567"
NO_RESUME = "+79037654321"
REAL = "+79161234567"
VIRTUAL = "+74951234567"
CLOSED = "+74951234568"
UNKNOWN = "+74950000000"
PUBLIC = "https://hooks.example.com/ct"

_WRITES = (
    "add_",
    "update_",
    "claim_",
    "save_",
    "free_",
    "end_",
    "set_",
    "remove_",
)


class _CountingTransaction:
    def __init__(self, inner: Transaction, storage: CountingStorage) -> None:
        self._inner = inner
        self._storage = storage

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not name.startswith(_WRITES):
            return method

        def write(*args: Any, **kwargs: Any) -> Any:
            if self._storage.fail_on_write and name == self._storage.fail_on_write:
                raise StorageUnavailable(f"the database went away during {name}")
            self._storage.writes.append(name)
            return method(*args, **kwargs)

        return write


@attrs.define
class CountingStorage:
    """MemoryStorage that records every write, and can fail like a database going away."""

    inner: MemoryStorage = attrs.field(factory=MemoryStorage)
    writes: list[str] = attrs.field(factory=list)
    down: bool = False
    fail_on_write: str | None = None

    def transaction(self) -> AbstractContextManager[Transaction]:
        if self.down:
            raise StorageUnavailable("the database is down")
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[Transaction]:
        with self.inner.transaction() as tx:
            yield _CountingTransaction(tx, self)

    def close(self) -> None:
        self.inner.close()


def make_tracker(storage: Storage | None = None, provider: str = "fake") -> CallTracker:
    """A tracker with one tracked vacancy, one closed one, and two candidates."""
    directory = FakeDirectory()
    directory.add(CALLER, "Anna Petrova", resume_url="https://jobs.example.com/r/anna")
    directory.add(NO_RESUME, "Ivan Sidorov")
    tracker = CallTracker(
        storage or MemoryStorage(),
        directory=directory,
        notifier=RecordingNotifier(),
        clock=FakeClock(),
    )
    tracker.add_numbers([VIRTUAL, CLOSED, "+74951234569"], provider=provider)
    tracker.track("vac-1", [REAL], employer_id="emp-1", title="Truck driver")
    tracker.track("vac-old", ["+79160000000"], employer_id="emp-1", title="Courier")
    tracker.untrack("vac-old")
    assert tracker.contact_card("vac-1").entries[0].virtual_number == VIRTUAL
    return tracker


def harness_params() -> list[Any]:
    """One parameter per provider; those whose harness is not here yet are skipped."""
    params = []
    for name in HARNESSES:
        try:
            load_harness(name)
        except ConfigurationError as exc:
            mark = pytest.mark.skip(reason=f"the {name} adapter is not available: {exc}")
            params.append(pytest.param(name, marks=mark, id=name))
        else:
            params.append(pytest.param(name, id=name))
    return params


@pytest.fixture(params=harness_params())
def harness(request: pytest.FixtureRequest) -> ProviderHarness:
    return load_harness(request.param)


def handler_for(harness: ProviderHarness, tracker: CallTracker, **kwargs: Any) -> WebhookHandler:
    """A handler whose public URL is the one the harness signs for."""
    return WebhookHandler(
        tracker, [harness.provider], public_url=harness_base_url(harness), **kwargs
    )


@contextmanager
def live(app: Callable[..., Any], threads: int = 8) -> Iterator[ThreadPoolWsgiServer]:
    """Serve ``app`` on 127.0.0.1 on a free port for the duration of the block."""
    server = make_server("127.0.0.1", 0, app, threads)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        yield server
    finally:
        server.shutdown()
        worker.join()
        server.server_close()


@pytest.fixture
def fake_world() -> tuple[CallTracker, CountingStorage, WsgiApp]:
    """A tracker on counting storage behind a WSGI app for the fake provider."""
    harness = load_harness("fake")
    storage = CountingStorage()
    tracker = make_tracker(storage)
    storage.writes.clear()
    app = WsgiApp(handler_for(harness, tracker))
    return tracker, storage, app


@pytest.fixture
def tracker_factory() -> Callable[..., CallTracker]:
    return make_tracker


@pytest.fixture
def serve() -> Callable[..., AbstractContextManager[ThreadPoolWsgiServer]]:
    return live


@pytest.fixture
def handler_factory() -> Callable[..., WebhookHandler]:
    return handler_for
