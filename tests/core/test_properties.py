"""Invariants that hold for any sequence of operations (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from calltrack import (
    AcceptKey,
    CallTracker,
    DialResult,
    DialStatus,
    InboundCall,
    PoolExhausted,
    ProviderEvent,
    RecordingReady,
    Settings,
    UnknownCall,
    WhisperRequest,
)
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeClock, FakeDirectory, RecordingNotifier

QUARANTINE = timedelta(days=60)
POOL = [f"+7495100{i:04d}" for i in range(8)] + [f"+7812100{i:04d}" for i in range(3)]
PHONES = ["+74952000001", "+74952000002", "+78122000001", "+79161234567", "+74952000003"]
VACANCIES = [f"v{i}" for i in range(5)]


class AllocationMachine(RuleBasedStateMachine):
    """Any mix of track, untrack and time passing keeps the allocation rules."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.tracker = CallTracker(
            MemoryStorage(), clock=self.clock, settings=Settings(quarantine=QUARANTINE)
        )
        self.tracker.add_numbers(POOL, provider="fake")
        self.released_at: dict[str, datetime] = {}
        self.holder: dict[str, tuple[str, str]] = {}

    def _active(self) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        with self.tracker.storage.transaction() as tx:
            for vacancy in VACANCIES:
                for a in tx.active_assignments(vacancy):
                    found.setdefault(a.virtual_number, []).append((vacancy, a.real_number))
        return found

    def _sync(self) -> None:
        """Record assignments and releases that happened, checking the quarantine rule."""
        now = self.clock.now()
        active = self._active()
        for number, (vacancy, real) in list(self.holder.items()):
            if active.get(number) != [(vacancy, real)]:
                self.released_at[number] = now
                del self.holder[number]
        for number, holders in active.items():
            if number not in self.holder:
                released = self.released_at.get(number)
                assert released is None or now >= released + QUARANTINE, (
                    f"{number} reassigned {now - released} after release"
                )
                self.holder[number] = holders[0]

    @rule(
        vacancy=st.sampled_from(VACANCIES),
        phones=st.lists(st.sampled_from(PHONES), max_size=3),
    )
    def track(self, vacancy: str, phones: list[str]) -> None:
        before = self._active()
        try:
            first = self.tracker.track(vacancy, phones, employer_id="e", title="T")
        except PoolExhausted:
            assert self._active() == before, "a failed track changed the assignments"
            return
        self._sync()
        counts = self.tracker.pool_counts()
        again = self.tracker.track(vacancy, list(reversed(phones)), employer_id="e", title="T")
        assert {a.virtual_number for a in again} == {a.virtual_number for a in first}
        assert self.tracker.pool_counts() == counts

    @rule(vacancy=st.sampled_from(VACANCIES))
    def untrack(self, vacancy: str) -> None:
        with self.tracker.storage.transaction() as tx:
            known = tx.get_vacancy(vacancy) is not None
        if known:
            self.tracker.untrack(vacancy)
            self._sync()

    @rule(days=st.integers(min_value=0, max_value=45))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)

    @invariant()
    def one_active_assignment_per_number(self) -> None:
        for number, holders in self._active().items():
            assert len(holders) == 1, f"{number} is held by {holders}"

    @invariant()
    def counts_add_up(self) -> None:
        counts = self.tracker.pool_counts()
        assert counts.total == len(POOL)
        assert counts.assigned == len(self._active())
        assert counts.assigned + counts.quarantined + counts.free == counts.total


TestAllocationInvariants = AllocationMachine.TestCase
TestAllocationInvariants.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)


def _call_events(statuses: list[DialStatus]) -> list[ProviderEvent]:
    events: list[ProviderEvent] = [InboundCall("fake", "c1", "+79030000001", POOL[0])]
    events += [WhisperRequest("fake", "c1"), AcceptKey("fake", "c1", "1")]
    events += [
        DialResult("fake", "c1", status, talk_seconds=30 if status.answered else None)
        for status in statuses
    ]
    events.append(RecordingReady("fake", "c1", "r1", "https://rec.example.com/r1.mp3"))
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    statuses=st.lists(
        st.sampled_from([DialStatus.ANSWERED, DialStatus.NO_ANSWER, DialStatus.BUSY]),
        min_size=1,
        max_size=3,
    ),
    data=st.data(),
)
def test_any_duplication_and_reordering_of_a_calls_events(
    statuses: list[DialStatus], data: st.DataObject
) -> None:
    """One call record, at most one response and at most one notification, whatever arrives."""
    directory = FakeDirectory()
    directory.add("+79030000001", "Anna", resume_url="https://r/anna")
    notifier = RecordingNotifier()
    tracker = CallTracker(
        MemoryStorage(), directory=directory, notifier=notifier, clock=FakeClock()
    )
    tracker.add_numbers(POOL, provider="fake")
    tracker.track("v1", ["+74952000001"], employer_id="e1", title="T")
    events = _call_events(statuses)
    delivered = data.draw(
        st.lists(st.sampled_from(events), min_size=1, max_size=12).map(lambda e: [*e, *events]),
        label="deliveries",
    )
    delivered = data.draw(st.permutations(delivered), label="order")
    for event in delivered:
        try:
            tracker.handle(event)
        except UnknownCall:
            continue
    calls = tracker.calls("v1", include_spam=True).calls
    assert len(calls) == 1
    responses = tracker.responses()
    assert len(responses) <= 1
    assert len(notifier.sent) <= 1
    assert len(notifier.sent) == len(responses)
    (call,) = calls
    if call.mark is not None:
        answered = DialStatus.ANSWERED in statuses and any(
            isinstance(e, DialResult) and e.status.answered
            for e in delivered[delivered.index(events[0]) :]
        )
        assert call.answered == answered
        assert responses[0].calls == 1
