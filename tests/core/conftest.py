"""Fixtures for the tracker's rules: a tracker on MemoryStorage with fake ports."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from calltrack import CallTracker, Settings
from calltrack.domain.prompts import Prompts
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import (
    CallSimulator,
    FakeClock,
    FakeDirectory,
    RecordingNotifier,
)

MOSCOW = [f"+7495100{i:04d}" for i in range(20)]
PETERSBURG = [f"+7812100{i:04d}" for i in range(5)]

MakeTracker = Callable[..., CallTracker]


@pytest.fixture
def moscow() -> list[str]:
    """The Moscow numbers every tracker's pool starts with."""
    return list(MOSCOW)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def directory() -> FakeDirectory:
    found = FakeDirectory()
    found.add("+79030000001", "Anna Petrova", resume_url="https://jobs.example.com/r/anna")
    found.add("+79030000002", "Oleg Ivanov", resume_url="https://jobs.example.com/r/oleg")
    found.add("+79030000003", "Ivan Sidorov")
    return found


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def make_tracker(
    clock: FakeClock, directory: FakeDirectory, notifier: RecordingNotifier
) -> MakeTracker:
    def make(
        settings: Settings | None = None,
        prompts: Prompts | None = None,
        numbers: list[str] | None = None,
    ) -> CallTracker:
        tracker = CallTracker(
            MemoryStorage(),
            directory=directory,
            notifier=notifier,
            clock=clock,
            settings=settings,
            prompts=prompts,
        )
        tracker.add_numbers(MOSCOW + PETERSBURG if numbers is None else numbers, provider="fake")
        return tracker

    return make


@pytest.fixture
def tracker(make_tracker: MakeTracker) -> CallTracker:
    return make_tracker()


@pytest.fixture
def sim(tracker: CallTracker) -> CallSimulator:
    return CallSimulator(tracker)
