"""Storages full of calls for the analytics tests: the demo's day, and a busy fortnight."""

from __future__ import annotations

import io

import pytest

from calltrack import CallTracker
from calltrack.demo import play
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import CallOutcome, CallSimulator, FakeClock, FakeDirectory

POOL = [f"+7495100{i:04d}" for i in range(8)]


@pytest.fixture
def demo_storage() -> MemoryStorage:
    """The demo's northwind: vacancies driver, warehouse and courier, on one day."""
    storage = MemoryStorage()
    play(storage, out=io.StringIO())
    return storage


def fill_fortnight(storage: MemoryStorage) -> CallTracker:
    """Fourteen days of calls to two vacancies of employer "acme", more each day."""
    clock = FakeClock()
    directory = FakeDirectory()
    tracker = CallTracker(storage, directory=directory, clock=clock)
    tracker.add_numbers(POOL, provider="fake")
    (bus,) = tracker.track("bus", ["+74952000001"], employer_id="acme", title="Bus driver")
    (cook,) = tracker.track("cook", ["+74952000002"], employer_id="acme", title="Cook")
    for i in range(40):
        directory.add(f"+7903200{i:04d}", f"Candidate {i}", resume_url=f"https://r/{i}")
    sim = CallSimulator(tracker)
    for day in range(14):
        for n in range(2 + day % 5):
            caller = f"+7903200{(day * 3 + n) % 40:04d}" if n % 3 else f"+7916300{day:04d}"
            outcome = CallOutcome.NO_ANSWER if (day + n) % 3 == 0 else CallOutcome.ANSWERED
            sim.call(caller, (bus if n % 2 else cook).virtual_number, outcome=outcome)
            clock.advance(minutes=37)
        clock.advance(days=1)
    return tracker


@pytest.fixture
def fortnight() -> MemoryStorage:
    """Fourteen days of calls (see :func:`fill_fortnight`)."""
    storage = MemoryStorage()
    fill_fortnight(storage)
    return storage
