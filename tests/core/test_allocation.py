"""Allocation: every real phone of every vacancy gets its own virtual number (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from calltrack import (
    CallTracker,
    InvalidPhoneNumber,
    PoolExhausted,
    Settings,
    UnknownVacancy,
)
from calltrack.testing import FakeClock

MakeTracker = Callable[..., CallTracker]


class TestDistinctNumbers:
    """No two active assignments share a virtual number."""

    def test_two_phones_of_one_vacancy_get_different_numbers(self, tracker: CallTracker) -> None:
        a, b = tracker.track("v1", ["+74952000001", "+74952000002"], employer_id="e1", title="T")
        assert a.virtual_number != b.virtual_number

    def test_two_vacancies_of_one_employer_get_different_numbers(
        self, tracker: CallTracker
    ) -> None:
        (a,) = tracker.track("v1", ["+74952000001"], employer_id="e1", title="T")
        (b,) = tracker.track("v2", ["+74952000001"], employer_id="e1", title="T")
        assert a.virtual_number != b.virtual_number

    def test_vacancies_of_different_employers_get_different_numbers(
        self, tracker: CallTracker
    ) -> None:
        numbers = {
            tracker.track(f"v{i}", ["+74952000001"], employer_id=f"e{i}", title="T")[
                0
            ].virtual_number
            for i in range(10)
        }
        assert len(numbers) == 10

    def test_repeated_phones_in_one_list_get_one_number(self, tracker: CallTracker) -> None:
        result = tracker.track(
            "v1", ["+74952000001", "8 495 200-00-01"], employer_id="e1", title="T"
        )
        assert len(result) == 1


class TestIdempotentTrack:
    """The same (vacancy, phone) keeps its number across calls to track."""

    def test_tracking_again_changes_nothing(self, tracker: CallTracker, clock: FakeClock) -> None:
        first = tracker.track("v1", ["+74952000001", "+79161234567"], employer_id="e1", title="T")
        counts = tracker.pool_counts()
        clock.advance(days=3)
        again = tracker.track(
            "v1", ["+7 916 123-45-67", "+74952000001"], employer_id="e1", title="T"
        )
        assert {a.virtual_number for a in again} == {a.virtual_number for a in first}
        assert tracker.pool_counts() == counts

    def test_the_result_follows_the_listed_order(self, tracker: CallTracker) -> None:
        result = tracker.track("v1", ["+79161234567", "+74952000001"], employer_id="e1", title="T")
        assert [a.real_number for a in result] == ["+79161234567", "+74952000001"]


class TestReplaceTheList:
    """track with a changed list adds new phones and releases dropped ones; untrack releases all."""

    def test_changed_list(self, tracker: CallTracker) -> None:
        old = tracker.track("v1", ["+74952000001", "+74952000002"], employer_id="e1", title="T")
        new = tracker.track("v1", ["+74952000002", "+74952000003"], employer_id="e1", title="T")
        assert new[0] == old[1]
        assert new[1].virtual_number not in {a.virtual_number for a in old}
        with tracker.storage.transaction() as tx:
            dropped = tx.assignment_by_virtual(old[0].virtual_number)
        assert dropped is not None
        assert not dropped.active
        assert tracker.pool_counts().quarantined == 1

    def test_untrack_releases_every_number(self, tracker: CallTracker) -> None:
        tracker.track("v1", ["+74952000001", "+74952000002"], employer_id="e1", title="T")
        assert tracker.untrack("v1") == 2
        counts = tracker.pool_counts()
        assert (counts.assigned, counts.quarantined) == (0, 2)
        assert tracker.contact_card("v1").entries == ()

    def test_untrack_of_an_unknown_vacancy_is_an_error(self, tracker: CallTracker) -> None:
        with pytest.raises(UnknownVacancy, match="nope"):
            tracker.untrack("nope")


class TestNumberChoice:
    """A number of the phone's country and area, idle longest first."""

    def test_area_of_the_real_phone_is_preferred(self, tracker: CallTracker) -> None:
        (spb,) = tracker.track("v1", ["+78125550101"], employer_id="e1", title="T")
        (msk,) = tracker.track("v2", ["+74955550101"], employer_id="e1", title="T")
        assert spb.virtual_number.startswith("+7812")
        assert msk.virtual_number.startswith("+7495")

    def test_a_mobile_phone_gets_a_number_of_its_country(
        self, make_tracker: MakeTracker, moscow: list[str]
    ) -> None:
        tracker = make_tracker(numbers=["+442079460001", *moscow[:1]])
        (a,) = tracker.track("v1", ["+79161234567"], employer_id="e1", title="T")
        assert a.virtual_number == moscow[0]

    def test_the_number_idle_longest_is_chosen(
        self, make_tracker: MakeTracker, clock: FakeClock
    ) -> None:
        tracker = make_tracker(numbers=[], settings=Settings(quarantine=timedelta(0)))
        tracker.add_numbers(["+74951000009"], provider="fake")
        clock.advance(hours=1)
        tracker.add_numbers(["+74951000001"], provider="fake")
        (a,) = tracker.track("v1", ["+74952000001"], employer_id="e1", title="T")
        assert a.virtual_number == "+74951000009"
        clock.advance(hours=1)
        tracker.untrack("v1")
        clock.advance(hours=1)
        (b,) = tracker.track("v2", ["+74952000001"], employer_id="e1", title="T")
        assert b.virtual_number == "+74951000001"


class TestAllOrNothing:
    """All of one track call succeeds or none of it does."""

    def test_an_exhausted_pool_names_the_country_and_changes_nothing(
        self, make_tracker: MakeTracker, moscow: list[str]
    ) -> None:
        tracker = make_tracker(numbers=moscow[:2])
        tracker.track("v0", ["+74952000009"], employer_id="e1", title="T")
        before = tracker.pool_counts()
        with pytest.raises(PoolExhausted, match="country RU") as caught:
            tracker.track("v1", ["+74952000001", "+74952000002"], employer_id="e1", title="T")
        assert caught.value.country == "RU"
        assert tracker.pool_counts() == before
        with pytest.raises(UnknownVacancy):
            tracker.contact_card("v1")

    def test_a_country_without_numbers_is_named(self, tracker: CallTracker) -> None:
        with pytest.raises(PoolExhausted, match="country GB"):
            tracker.track("v1", ["+442079460018"], employer_id="e1", title="T")

    def test_an_invalid_phone_is_named_and_changes_nothing(self, tracker: CallTracker) -> None:
        tracker.track("v1", ["+74952000001"], employer_id="e1", title="T")
        before = tracker.pool_counts()
        with pytest.raises(InvalidPhoneNumber, match="'8 495 12'") as caught:
            tracker.track("v1", ["+74952000002", "8 495 12"], employer_id="e1", title="T")
        assert "wrong number of digits" in caught.value.reason
        assert tracker.pool_counts() == before
        assert [e.real_number for e in tracker.contact_card("v1").entries] == ["+74952000001"]


class TestQuarantine:
    """Released numbers rest in quarantine (60 days by default) before reuse."""

    def test_a_released_number_is_not_reused_before_quarantine_ends(
        self, make_tracker: MakeTracker, clock: FakeClock, moscow: list[str]
    ) -> None:
        tracker = make_tracker(numbers=moscow[:1])
        tracker.track("v1", ["+74952000001"], employer_id="e1", title="T")
        tracker.untrack("v1")
        clock.advance(days=59, hours=23)
        with pytest.raises(PoolExhausted):
            tracker.track("v2", ["+74952000002"], employer_id="e2", title="T")
        clock.advance(hours=1)
        (a,) = tracker.track("v2", ["+74952000002"], employer_id="e2", title="T")
        assert a.virtual_number == moscow[0]

    def test_quarantine_is_a_setting(
        self, make_tracker: MakeTracker, clock: FakeClock, moscow: list[str]
    ) -> None:
        tracker = make_tracker(numbers=moscow[:1], settings=Settings(quarantine=timedelta(days=7)))
        tracker.track("v1", ["+74952000001"], employer_id="e1", title="T")
        tracker.untrack("v1")
        clock.advance(days=7)
        (a,) = tracker.track("v2", ["+74952000002"], employer_id="e2", title="T")
        assert a.virtual_number == moscow[0]


class TestContactCard:
    """The contact card shows each virtual number formatted, with the calls-only notice."""

    def test_contact_card(self, tracker: CallTracker) -> None:
        a, b = tracker.track(
            "v1", ["+74952000001", "+79161234567"], employer_id="e1", title="Driver"
        )
        card = tracker.contact_card("v1")
        assert card.title == "Driver"
        assert [e.virtual_number for e in card.entries] == [a.virtual_number, b.virtual_number]
        assert card.entries[0].display == "8 (495) 100-00-00"
        assert card.entries[0].international == "+7 495 100-00-00"
        assert card.notice == "This is the employer's number for calls only."
