"""Classification and responses: the mark of a call and the response it makes (DESIGN §3)."""

from __future__ import annotations

import pytest

from calltrack import (
    CallTracker,
    DialResult,
    DialStatus,
    Folder,
    Hangup,
    InboundCall,
    Mark,
    RecordingReady,
    ResponseStatus,
    UnknownCall,
    UnknownResponse,
)
from calltrack.domain.classification import classify, merge_dial_status
from calltrack.domain.model import Candidate
from calltrack.testing import CallOutcome, CallSimulator, RecordingNotifier

ANNA = "+79030000001"
OLEG = "+79030000002"
IVAN = "+79030000003"  # no resume
STRANGER = "+79035555555"  # not in the directory


def virtual(tracker: CallTracker) -> str:
    return tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")[0].virtual_number


class TestMarks:
    """Answered: "Response by call"; any other ending: "Missed call"; no resume: "No resume"."""

    def test_answered_call_from_a_candidate_with_a_resume(self, sim: CallSimulator) -> None:
        result = sim.call(ANNA, virtual(sim.tracker), talk_seconds=95)
        call = sim.tracker.call("fake", result.call_id)
        assert call.mark is Mark.RESPONSE_BY_CALL
        assert call.talk_seconds == 95
        assert call.candidate is not None
        assert call.candidate.name == "Anna Petrova"
        assert call.recording_url == f"https://recordings.example.com/{result.call_id}.mp3"

    @pytest.mark.parametrize(
        "outcome",
        [CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.FAILED, CallOutcome.CALLER_HANGS_UP],
    )
    def test_every_unanswered_ending_is_a_missed_call(
        self, sim: CallSimulator, outcome: CallOutcome
    ) -> None:
        result = sim.call(ANNA, virtual(sim.tracker), outcome=outcome)
        call = sim.tracker.call("fake", result.call_id)
        assert call.mark is Mark.MISSED_CALL
        assert call.missed

    @pytest.mark.parametrize("caller", [IVAN, STRANGER])
    @pytest.mark.parametrize("outcome", [CallOutcome.ANSWERED, CallOutcome.NO_ANSWER])
    def test_a_caller_without_a_resume_is_marked_no_resume(
        self, sim: CallSimulator, caller: str, outcome: CallOutcome
    ) -> None:
        result = sim.call(caller, virtual(sim.tracker), outcome=outcome)
        assert sim.tracker.call("fake", result.call_id).mark is Mark.NO_RESUME
        assert sim.tracker.responses() == []
        assert len(sim.tracker.calls("v1").calls) == 1

    def test_classify_is_pure(self) -> None:
        with_resume = Candidate("c", "A", "https://r")
        assert classify(DialStatus.ANSWERED, with_resume) is Mark.RESPONSE_BY_CALL
        assert classify(DialStatus.UNKNOWN, with_resume) is Mark.MISSED_CALL
        assert classify(DialStatus.ANSWERED, Candidate("c", "A")) is Mark.NO_RESUME
        assert classify(DialStatus.ANSWERED, None) is Mark.NO_RESUME

    def test_an_answered_leg_is_never_downgraded(self) -> None:
        assert merge_dial_status(DialStatus.ANSWERED, DialStatus.FAILED) is DialStatus.ANSWERED
        assert merge_dial_status(DialStatus.NO_ANSWER, DialStatus.ANSWERED) is DialStatus.ANSWERED
        assert merge_dial_status(DialStatus.BUSY, DialStatus.UNKNOWN) is DialStatus.BUSY
        assert merge_dial_status(None, DialStatus.UNKNOWN) is DialStatus.UNKNOWN


class TestResponses:
    """A caller with a resume makes one response per vacancy, in "Unsorted", from source "call"."""

    def test_a_call_with_a_resume_makes_a_response_in_unsorted(self, sim: CallSimulator) -> None:
        sim.call(ANNA, virtual(sim.tracker))
        (response,) = sim.tracker.responses(vacancy_id="v1")
        assert (response.folder, response.source) == (Folder.UNSORTED, "call")
        assert response.mark is Mark.RESPONSE_BY_CALL
        assert response.status is ResponseStatus.PROCESSED
        assert response.candidate.resume_url == "https://jobs.example.com/r/anna"
        assert response.phone == ANNA

    def test_later_calls_attach_to_the_same_response(self, sim: CallSimulator) -> None:
        number = virtual(sim.tracker)
        for _ in range(3):
            sim.call(ANNA, number)
        (response,) = sim.tracker.responses(vacancy_id="v1")
        assert response.calls == 3
        calls = sim.tracker.calls("v1").calls
        assert {c.response_id for c in calls} == {response.response_id}

    def test_an_answered_call_upgrades_a_missed_response(self, sim: CallSimulator) -> None:
        number = virtual(sim.tracker)
        sim.call(ANNA, number, outcome=CallOutcome.NO_ANSWER)
        (missed,) = sim.tracker.responses(vacancy_id="v1")
        assert (missed.mark, missed.status) == (Mark.MISSED_CALL, ResponseStatus.PENDING)
        sim.call(ANNA, number)
        (upgraded,) = sim.tracker.responses(vacancy_id="v1")
        assert (upgraded.mark, upgraded.status) == (Mark.RESPONSE_BY_CALL, ResponseStatus.PROCESSED)

    def test_a_missed_call_never_downgrades_an_answered_response(self, sim: CallSimulator) -> None:
        number = virtual(sim.tracker)
        sim.call(ANNA, number)
        sim.call(ANNA, number, outcome=CallOutcome.BUSY)
        (response,) = sim.tracker.responses(vacancy_id="v1")
        assert response.mark is Mark.RESPONSE_BY_CALL
        assert response.calls == 2

    def test_one_response_per_vacancy_and_candidate(self, sim: CallSimulator) -> None:
        tracker = sim.tracker
        first = virtual(tracker)
        (other,) = tracker.track("v2", ["+74952000002"], employer_id="e1", title="Cook")
        sim.call(ANNA, first)
        sim.call(ANNA, other.virtual_number)
        sim.call(OLEG, first)
        assert len(tracker.responses(employer_id="e1")) == 3
        assert len(tracker.responses(vacancy_id="v1")) == 2

    def test_missed_responses_stay_pending_until_processed(self, sim: CallSimulator) -> None:
        tracker = sim.tracker
        sim.call(ANNA, virtual(tracker), outcome=CallOutcome.NO_ANSWER)
        (pending,) = tracker.responses(pending=True)
        assert tracker.stats(vacancy_id="v1").missed_pending == 1
        done = tracker.process_response(pending.response_id)
        assert done.status is ResponseStatus.PROCESSED
        assert tracker.responses(pending=True) == []
        assert tracker.stats(vacancy_id="v1").missed_pending == 0
        assert tracker.process_response(pending.response_id) == done

    def test_processing_an_unknown_response_is_an_error(self, tracker: CallTracker) -> None:
        with pytest.raises(UnknownResponse):
            tracker.process_response("v1:nobody")


class TestNotifications:
    """The candidate is notified once that the response was delivered with the resume."""

    def test_notified_once_per_response(
        self, sim: CallSimulator, notifier: RecordingNotifier
    ) -> None:
        number = virtual(sim.tracker)
        sim.call(ANNA, number, outcome=CallOutcome.NO_ANSWER)
        sim.call(ANNA, number)
        sim.call(IVAN, number)
        (note,) = notifier.sent
        assert note.phone == ANNA
        assert note.text == (
            "Your response to the vacancy Driver was delivered to the employer "
            "together with your resume."
        )

    def test_a_failed_notifier_is_retried_later(
        self, sim: CallSimulator, notifier: RecordingNotifier
    ) -> None:
        notifier.fail_times = 1
        sim.call(ANNA, virtual(sim.tracker))
        assert notifier.sent == []
        assert sim.tracker.deliver_notifications() == 1
        assert len(notifier.sent) == 1
        assert sim.tracker.deliver_notifications() == 0


class TestEventsOnce:
    """Each effect happens once, keyed by the provider's call id and event."""

    def test_duplicate_webhooks_change_nothing(
        self, tracker: CallTracker, notifier: RecordingNotifier
    ) -> None:
        number = virtual(tracker)
        inbound = InboundCall("fake", "c1", ANNA, number)
        first = tracker.handle(inbound)
        assert tracker.handle(inbound) == first
        answered = DialResult("fake", "c1", DialStatus.ANSWERED, talk_seconds=30)
        for _ in range(3):
            assert isinstance(tracker.handle(answered), Hangup)
        (response,) = tracker.responses()
        assert response.calls == 1
        assert len(notifier.sent) == 1
        assert len(tracker.calls("v1").calls) == 1

    def test_a_late_failure_after_completion_does_not_downgrade(self, tracker: CallTracker) -> None:
        tracker.handle(InboundCall("fake", "c1", ANNA, virtual(tracker)))
        tracker.handle(DialResult("fake", "c1", DialStatus.ANSWERED, talk_seconds=30, final=False))
        tracker.handle(DialResult("fake", "c1", DialStatus.FAILED))
        call = tracker.call("fake", "c1")
        assert (call.mark, call.talk_seconds) == (Mark.RESPONSE_BY_CALL, 30)

    def test_events_for_an_unknown_call_are_refused_and_change_nothing(
        self, tracker: CallTracker
    ) -> None:
        virtual(tracker)
        with pytest.raises(UnknownCall, match="c404"):
            tracker.handle(DialResult("fake", "c404", DialStatus.ANSWERED))
        with pytest.raises(UnknownCall):
            tracker.handle(RecordingReady("fake", "c404", "r1", "https://x/r1.mp3"))
        assert tracker.calls("v1", include_spam=True).calls == []
        assert tracker.responses() == []
