"""MemoryStorage is safe to use from several threads at once."""

from __future__ import annotations

import threading
from collections import Counter

from calltrack import CallTracker, DialResult, DialStatus, InboundCall, Settings, SpamPolicy
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeClock, FakeDirectory, RecordingNotifier


class TestThreads:
    """Concurrent tracks and duplicate webhooks from many threads keep every invariant."""

    def test_concurrent_tracks_never_share_a_number(self) -> None:
        tracker = CallTracker(MemoryStorage(), clock=FakeClock())
        tracker.add_numbers([f"+7495100{i:04d}" for i in range(400)], provider="fake")
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            try:
                for i in range(20):
                    phones = [f"+7495200{worker:02d}{i:02d}", f"+7916300{worker:02d}{i:02d}"]
                    tracker.track(f"w{worker}-v{i}", phones, employer_id=f"e{worker}", title="T")
                    if i % 4 == 0:
                        tracker.untrack(f"w{worker}-v{i}")
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        held: Counter[str] = Counter()
        with tracker.storage.transaction() as tx:
            for w in range(8):
                for i in range(20):
                    held.update(a.virtual_number for a in tx.active_assignments(f"w{w}-v{i}"))
        assert held
        assert max(held.values()) == 1
        counts = tracker.pool_counts()
        assert counts.assigned == sum(held.values()) == 8 * 15 * 2
        assert counts.total == counts.assigned + counts.quarantined + counts.free

    def test_duplicate_deliveries_from_many_threads(self) -> None:
        directory = FakeDirectory()
        directory.add("+79030000001", "Anna", resume_url="https://r/anna")
        notifier = RecordingNotifier()
        tracker = CallTracker(
            MemoryStorage(),
            directory=directory,
            notifier=notifier,
            clock=FakeClock(),
            settings=Settings(spam=SpamPolicy(max_calls=0)),
        )
        tracker.add_numbers(["+74951000001"], provider="fake")
        (a,) = tracker.track("v1", ["+74952000001"], employer_id="e1", title="T")
        barrier = threading.Barrier(16)

        def deliver() -> None:
            barrier.wait()
            tracker.handle(InboundCall("fake", "c1", "+79030000001", a.virtual_number))
            tracker.handle(DialResult("fake", "c1", DialStatus.ANSWERED, talk_seconds=10))

        threads = [threading.Thread(target=deliver) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(tracker.calls("v1").calls) == 1
        (response,) = tracker.responses()
        assert response.calls == 1
        assert len(notifier.sent) == 1
