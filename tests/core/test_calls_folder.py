"""The Calls folder: newest first, filters, cursor paging; statistics per vacancy and employer."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from calltrack import CallTracker, Cursor, Mark
from calltrack.testing import CallOutcome, CallSimulator


@pytest.fixture
def busy_vacancy(sim: CallSimulator) -> CallTracker:
    number = sim.tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")[0]
    other = sim.tracker.track("v2", ["+74952000002"], employer_id="e1", title="Cook")[0]
    callers = ["+79030000001", "+79030000002", "+79030000003", "+79035555555"]
    for i in range(12):
        outcome = CallOutcome.ANSWERED if i % 3 == 0 else CallOutcome.NO_ANSWER
        sim.call(callers[i % 4], number.virtual_number, outcome=outcome)
    sim.call("+79030000001", other.virtual_number)
    sim.call("anonymous", number.virtual_number)
    return sim.tracker


class TestCallsFolder:
    """Newest first; filters for missed calls and calls with a resume; spam hidden; paging."""

    def test_newest_first(self, busy_vacancy: CallTracker) -> None:
        calls = busy_vacancy.calls("v1").calls
        assert len(calls) == 12
        assert [c.started_at for c in calls] == sorted((c.started_at for c in calls), reverse=True)

    def test_filters(self, busy_vacancy: CallTracker) -> None:
        missed = busy_vacancy.calls("v1", missed=True).calls
        assert len(missed) == 8
        assert all(c.missed for c in missed)
        with_resume = busy_vacancy.calls("v1", with_resume=True).calls
        assert len(with_resume) == 6
        assert {c.mark for c in with_resume} <= {Mark.RESPONSE_BY_CALL, Mark.MISSED_CALL}
        both = busy_vacancy.calls("v1", missed=True, with_resume=True).calls
        assert {c.call_id for c in both} == {c.call_id for c in missed} & {
            c.call_id for c in with_resume
        }
        assert len(busy_vacancy.calls("v1", include_spam=True).calls) == 13

    def test_paging_by_cursor_covers_every_call_once(self, busy_vacancy: CallTracker) -> None:
        everything = [c.call_id for c in busy_vacancy.calls("v1").calls]
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page = busy_vacancy.calls("v1", limit=5, cursor=cursor)
            seen += [c.call_id for c in page.calls]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor.encode()
        assert seen == everything

    def test_a_cursor_survives_its_text_form(self) -> None:
        cursor = Cursor(datetime(2026, 1, 5, 9, tzinfo=timezone.utc), "fake:CA|1")
        assert Cursor.decode(cursor.encode()) == cursor

    @pytest.mark.parametrize("bad", ["", "nonsense", "!!!", "MjAyNg"])
    def test_a_bad_cursor_is_refused(self, busy_vacancy: CallTracker, bad: str) -> None:
        with pytest.raises(ValueError, match="cursor"):
            busy_vacancy.calls("v1", cursor=bad)

    @pytest.mark.parametrize("limit", [0, 1001])
    def test_a_bad_limit_is_refused(self, busy_vacancy: CallTracker, limit: int) -> None:
        with pytest.raises(ValueError, match="limit"):
            busy_vacancy.calls("v1", limit=limit)


class TestStatistics:
    """Statistics per vacancy and per employer."""

    def test_vacancy_and_employer_statistics(self, busy_vacancy: CallTracker) -> None:
        stats = busy_vacancy.stats(vacancy_id="v1")
        assert (stats.calls, stats.unique_callers, stats.answered, stats.missed) == (13, 4, 4, 8)
        assert (stats.responses, stats.no_resume, stats.spam_blocked) == (2, 6, 1)
        assert stats.missed_pending == 0  # each candidate with a resume was answered once
        assert stats.answer_rate == pytest.approx(4 / 12)
        employer = busy_vacancy.stats(employer_id="e1")
        assert (employer.calls, employer.responses) == (14, 3)

    def test_exactly_one_scope(self, busy_vacancy: CallTracker) -> None:
        with pytest.raises(ValueError, match="exactly one"):
            busy_vacancy.stats()

    def test_no_answer_rate_before_any_call(self, tracker: CallTracker) -> None:
        assert tracker.stats(vacancy_id="none").answer_rate is None
