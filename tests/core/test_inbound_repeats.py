"""A repeated inbound webhook is answered as its call was first routed, whatever changed since."""

from __future__ import annotations

from datetime import timedelta

from calltrack import CallTracker, InboundCall
from calltrack.domain.decisions import Forward
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeClock

CALLER = "+79030000001"


class TestRepeatedInboundWebhooks:
    """The stored call wins: its route, time and number, not a new routing."""

    def test_after_the_vacancy_closed(self, tracker: CallTracker, clock: FakeClock) -> None:
        (assignment,) = tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")
        inbound = InboundCall("fake", "c1", CALLER, assignment.virtual_number)
        first = tracker.handle(inbound)
        assert isinstance(first, Forward)
        stored = tracker.call("fake", "c1")
        clock.advance(timedelta(minutes=3))
        tracker.untrack("v1")
        assert tracker.handle(inbound) == first
        assert tracker.call("fake", "c1") == stored
        assert len(tracker.calls("v1", include_spam=True).calls) == 1

    def test_a_number_not_in_service_stays_so(
        self, tracker: CallTracker, moscow: list[str]
    ) -> None:
        inbound = InboundCall("fake", "c2", CALLER, moscow[0])
        first = tracker.handle(inbound)
        phones = [f"+749520000{i:02d}" for i in range(len(moscow))]
        held = {
            a.virtual_number for a in tracker.track("v2", phones, employer_id="e1", title="Cook")
        }
        assert moscow[0] in held  # the number is in service now
        assert tracker.handle(inbound) == first
        assert tracker.call("fake", "c2").vacancy_id is None

    def test_after_the_number_went_to_another_vacancy(self, clock: FakeClock) -> None:
        tracker = CallTracker(MemoryStorage(), clock=clock)
        tracker.add_numbers(["+74951000001"], provider="fake")
        (first_holder,) = tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")
        inbound = InboundCall("fake", "c3", CALLER, first_holder.virtual_number)
        first = tracker.handle(inbound)
        assert isinstance(first, Forward)
        assert "Driver" in first.greeting.text
        tracker.untrack("v1")
        clock.advance(timedelta(days=61))  # past the quarantine: the number is reused
        (second_holder,) = tracker.track("v3", ["+74952000003"], employer_id="e2", title="Cook")
        assert second_holder.virtual_number == first_holder.virtual_number
        again = tracker.handle(inbound)
        assert again == first  # still the Driver's greeting and phone, as first routed
        assert tracker.call("fake", "c3").vacancy_id == "v1"
