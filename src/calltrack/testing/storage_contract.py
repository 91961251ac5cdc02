"""The contract every storage adapter passes, for calltrack's adapters and integrators' own.

Subclass :class:`StorageContract` in a test module and give it a ``make_storage`` fixture
that returns a function making a fresh, empty storage::

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def make_storage(self, tmp_path):
            return lambda: MyStorage(tmp_path / f"{uuid.uuid4()}.db")

The tests check each promise of :class:`calltrack.ports.Transaction`, that a transaction
which raises leaves nothing behind, and that whole call flows through a
:class:`~calltrack.CallTracker` on the storage end as they do on MemoryStorage.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import attrs
import pytest

from calltrack.domain.allocation import pick_number
from calltrack.domain.folder import CallFilter, Cursor
from calltrack.domain.model import (
    Assignment,
    Call,
    CallRoute,
    Candidate,
    DialStatus,
    Mark,
    Notification,
    PoolNumber,
    Response,
    ResponseStatus,
    Routing,
    Vacancy,
)
from calltrack.domain.stats import compute_stats
from calltrack.errors import StorageConflict, StorageError
from calltrack.ports import Storage
from calltrack.testing._fakes import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.testing._simulator import CallOutcome, CallSimulator
from calltrack.testing.analytics_contract import AnalyticsContract
from calltrack.tracker import CallTracker

__all__ = ["StorageContract"]

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
MakeStorage = Callable[[], Storage]


def _number(n: str, *, country: str = "RU", area: str | None = "495", idle: int = 0) -> PoolNumber:
    at = T0 + timedelta(minutes=idle)
    return PoolNumber(n, "fake", country, area, idle_since=at, available_from=at)


def _call(i: int, vacancy: str = "v1", **changes: object) -> Call:
    call = Call(
        call_id=f"fake:C{i:05d}",
        provider="fake",
        provider_call_id=f"C{i:05d}",
        virtual_number="+74951000001",
        caller=f"+7903{i:07d}",
        started_at=T0 + timedelta(minutes=i),
        route=CallRoute.FORWARDED,
        vacancy_id=vacancy,
        employer_id="e1",
        real_number="+74952000001",
    )
    return attrs.evolve(call, **changes)  # type: ignore[arg-type]


class _Boom(Exception):
    pass


class StorageContract(AnalyticsContract):
    """Tests every storage adapter must pass; subclass it and provide ``make_storage``."""

    @pytest.fixture
    def storage(self, make_storage: MakeStorage) -> Iterator[Storage]:
        """A fresh storage, closed after the test."""
        made = make_storage()
        yield made
        made.close()

    @contextmanager
    def _fresh(self, make_storage: MakeStorage) -> Iterator[Storage]:
        made = make_storage()
        try:
            yield made
        finally:
            made.close()

    # --- the pool --------------------------------------------------------------------
    def test_add_numbers_skips_numbers_already_there(self, storage: Storage) -> None:
        """Adding numbers twice adds them once."""
        with storage.transaction() as tx:
            assert tx.add_numbers([_number("+74951000001"), _number("+74951000002")]) == 2
        with storage.transaction() as tx:
            assert tx.add_numbers([_number("+74951000002"), _number("+74951000003")]) == 1
            assert tx.get_number("+74951000003") == _number("+74951000003")
            assert tx.get_number("+74959999999") is None

    def test_claim_follows_the_reference_rule(self, make_storage: MakeStorage) -> None:
        """claim_number picks what pick_number picks: country, area, idle longest, smallest."""
        rng = random.Random(7)  # noqa: S311 - test data, not secrets
        for round_ in range(5):
            with self._fresh(make_storage) as storage:
                pool = [
                    _number(
                        f"+7495{round_}{i:06d}",
                        country=rng.choice(["RU", "KZ"]),
                        area=rng.choice(["495", "812", None]),
                        idle=rng.randrange(5),
                    )
                    for i in range(30)
                ]
                with storage.transaction() as tx:
                    tx.add_numbers(pool)
                now = T0 + timedelta(hours=1)
                for _ in range(12):
                    country = rng.choice(["RU", "KZ"])
                    area = rng.choice(["495", "812", None])
                    expected = pick_number(pool, country, area, now)
                    with storage.transaction() as tx:
                        got = tx.claim_number(country, area, now)
                    assert (got.number if got else None) == (expected.number if expected else None)
                    if expected is not None:
                        pool = [
                            attrs.evolve(n, assigned=n.assigned or n.number == expected.number)
                            for n in pool
                        ]

    def test_claim_marks_assigned_and_free_rests_in_quarantine(self, storage: Storage) -> None:
        """A claimed number is assigned; a freed one rests until its quarantine ends."""
        with storage.transaction() as tx:
            tx.add_numbers([_number("+74951000001")])
            claimed = tx.claim_number("RU", "495", T0)
            assert claimed is not None
            assert claimed.assigned
            assert tx.claim_number("RU", "495", T0) is None
        released = T0 + timedelta(days=1)
        back = released + timedelta(days=60)
        with storage.transaction() as tx:
            tx.free_number("+74951000001", released, back)
            counts = tx.pool_counts(released)
            assert (counts.total, counts.assigned, counts.quarantined, counts.free) == (1, 0, 1, 0)
            assert tx.claim_number("RU", "495", back - timedelta(seconds=1)) is None
        with storage.transaction() as tx:
            again = tx.claim_number("RU", None, back)
            assert again is not None
            assert again.number == "+74951000001"

    def test_concurrent_claims_never_share_a_number(self, storage: Storage) -> None:
        """Transactions claiming in several threads at once never get the same number."""
        with storage.transaction() as tx:
            tx.add_numbers([_number(f"+7495100{i:04d}", idle=i % 3) for i in range(40)])
        now = T0 + timedelta(hours=1)
        start = threading.Barrier(8)

        def claim_five() -> list[str]:
            start.wait()
            got: list[str] = []
            while len(got) < 5:
                try:
                    with storage.transaction() as tx:
                        number = tx.claim_number("RU", "495", now)
                except StorageConflict:
                    continue  # the documented answer to a race: run the unit of work again
                assert number is not None
                got.append(number.number)
            return got

        with ThreadPoolExecutor(8) as pool:
            claimed = [n for got in pool.map(lambda _: claim_five(), range(8)) for n in got]
        assert len(claimed) == len(set(claimed)) == 40
        with storage.transaction() as tx:
            assert tx.pool_counts(now).assigned == 40
            assert tx.claim_number("RU", "495", now) is None

    def test_remove_number(self, storage: Storage) -> None:
        """A free number can be removed; an assigned one cannot; a missing one reports False."""
        with storage.transaction() as tx:
            tx.add_numbers([_number("+74951000001"), _number("+74951000002", idle=1)])
            tx.claim_number("RU", "495", T0 + timedelta(hours=1))
        with storage.transaction() as tx:
            assert tx.remove_number("+74951000002")
            assert not tx.remove_number("+74951000002")
        with pytest.raises(StorageError), storage.transaction() as tx:
            tx.remove_number("+74951000001")

    def test_list_numbers_pages_in_number_order(self, storage: Storage) -> None:
        """list_numbers walks the pool in number order, by country if asked."""
        numbers = [_number(f"+7495100{i:04d}") for i in range(7)]
        numbers.append(_number("+77172000001", country="KZ", area="7172"))
        with storage.transaction() as tx:
            tx.add_numbers(list(reversed(numbers)))
            first = tx.list_numbers(country="RU", limit=4)
            rest = tx.list_numbers(country="RU", after=first[-1].number, limit=10)
            kz = tx.list_numbers(country="KZ")
        assert [n.number for n in first + rest] == [n.number for n in numbers[:7]]
        assert [n.number for n in kz] == ["+77172000001"]

    # --- assignments and vacancies ---------------------------------------------------
    def test_one_active_assignment_per_virtual_number(self, storage: Storage) -> None:
        """A virtual number held by an active assignment cannot be given to another."""
        first = Assignment("v1", "e1", "+74952000001", "+74951000001", T0)
        with storage.transaction() as tx:
            tx.add_assignment(first)
        with pytest.raises(StorageError), storage.transaction() as tx:
            tx.add_assignment(Assignment("v2", "e1", "+74952000002", "+74951000001", T0))
        with pytest.raises(StorageError), storage.transaction() as tx:
            tx.add_assignment(Assignment("v1", "e1", "+74952000001", "+74951000002", T0))
        with storage.transaction() as tx:
            assert tx.active_assignments("v1") == [first]
            tx.end_assignment("v1", "+74952000001", T0 + timedelta(hours=1))
            assert tx.active_assignments("v1") == []
            ended = tx.assignment_by_virtual("+74951000001")
            assert ended == attrs.evolve(first, released_at=T0 + timedelta(hours=1))
            later = Assignment("v2", "e1", "+74952000002", "+74951000001", T0 + timedelta(days=61))
            tx.add_assignment(later)
            assert tx.assignment_by_virtual("+74951000001") == later

    def test_routing_reads_the_latest_assignment_with_its_vacancy(self, storage: Storage) -> None:
        """routing_for is assignment_by_virtual joined with the assignment's vacancy."""
        first = Assignment("v1", "e1", "+74952000001", "+74951000001", T0)
        later = Assignment("v2", "e2", "+74952000002", "+74951000001", T0 + timedelta(days=61))
        driver, cook = Vacancy("v1", "e1", "Driver"), Vacancy("v2", "e2", "Cook", tracked=False)
        with storage.transaction() as tx:
            assert tx.routing_for("+74951000001") is None
            tx.add_assignment(first)
            assert tx.routing_for("+74951000001") == Routing(first)  # vacancy not stored
            tx.save_vacancy(driver)
            tx.save_vacancy(cook)
            assert tx.routing_for("+74951000001") == Routing(first, driver)
            tx.end_assignment("v1", "+74952000001", T0 + timedelta(hours=1))
            ended = attrs.evolve(first, released_at=T0 + timedelta(hours=1))
            assert tx.routing_for("+74951000001") == Routing(ended, driver)
            tx.add_assignment(later)
            found = tx.routing_for("+74951000001")
            assert found == Routing(later, cook)
            assert found.assignment == tx.assignment_by_virtual("+74951000001")
            assert tx.routing_for("+74951000002") is None

    def test_routing_reads_the_callers_history_as_calls_from_does(self, storage: Storage) -> None:
        """routing_for with a caller and a time gives the calls calls_from gives, no others."""
        caller, other = "+79031111111", "+79032222222"
        placed = Assignment("v1", "e1", "+74952000001", "+74951000001", T0)
        with storage.transaction() as tx:
            tx.add_assignment(placed)
            tx.save_vacancy(Vacancy("v1", "e1", "Driver"))
            for i, (who, vacancy) in enumerate(
                [(caller, "v1"), (caller, None), (other, "v1"), (caller, "v2"), (caller, "v1")]
            ):
                tx.add_call(
                    Call(
                        f"fake:H{i}",
                        "fake",
                        f"H{i}",
                        "+74951000001",
                        who,
                        T0 + timedelta(minutes=i),
                        CallRoute.FORWARDED if vacancy else CallRoute.UNKNOWN_NUMBER,
                        vacancy_id=vacancy,
                        employer_id="e1" if vacancy else None,
                    )
                )
        since = T0 + timedelta(seconds=30)
        with storage.transaction() as tx:
            found = tx.routing_for("+74951000001", caller, since)
            assert found is not None
            assert found.assignment == placed
            assert found.vacancy == Vacancy("v1", "e1", "Driver")
            assert sorted(found.history) == sorted(tx.calls_from(caller, since))
            assert sorted(found.history) == [
                (T0 + timedelta(minutes=1), None),
                (T0 + timedelta(minutes=3), "v2"),
                (T0 + timedelta(minutes=4), "v1"),
            ]
            assert tx.routing_for("+74951000001", caller) == Routing(placed, found.vacancy)
            assert tx.routing_for("+74951000001", "+79033333333", since) == Routing(
                placed, found.vacancy
            )
            assert tx.routing_for("+74951000009", caller, since) is None

    def test_vacancies_are_saved_and_replaced(self, storage: Storage) -> None:
        """save_vacancy inserts, then replaces."""
        with storage.transaction() as tx:
            tx.save_vacancy(Vacancy("v1", "e1", "Driver"))
            tx.save_vacancy(Vacancy("v1", "e1", "Night driver", tracked=False))
            assert tx.get_vacancy("v1") == Vacancy("v1", "e1", "Night driver", tracked=False)
            assert tx.get_vacancy("v2") is None

    # --- atomicity -------------------------------------------------------------------
    def test_a_transaction_that_raises_leaves_nothing(self, storage: Storage) -> None:
        """Every write of a transaction that raises is undone."""
        with storage.transaction() as tx:
            tx.add_numbers([_number("+74951000001")])
        with pytest.raises(_Boom), storage.transaction() as tx:  # noqa: PT012 - the point is many writes
            tx.add_numbers([_number("+74951000002")])
            tx.claim_number("RU", "495", T0)
            tx.add_assignment(Assignment("v1", "e1", "+74952000001", "+74951000001", T0))
            tx.save_vacancy(Vacancy("v1", "e1", "Driver"))
            tx.add_call(_call(1))
            tx.claim_event("k1", T0)
            raise _Boom
        with storage.transaction() as tx:
            assert tx.get_number("+74951000002") is None
            number = tx.get_number("+74951000001")
            assert number is not None
            assert not number.assigned
            assert tx.assignment_by_virtual("+74951000001") is None
            assert tx.get_vacancy("v1") is None
            assert tx.get_call(_call(1).call_id) is None
            assert tx.claim_event("k1", T0)
            again = tx.claim_number("RU", "495", T0)
            assert again is not None
            assert again.number == "+74951000001"

    # --- calls and events ------------------------------------------------------------
    def test_calls_are_stored_once_and_updated(self, storage: Storage) -> None:
        """add_call refuses a second call with the same id; update_call replaces."""
        call = _call(1)
        with storage.transaction() as tx:
            assert tx.add_call(call)
            assert not tx.add_call(attrs.evolve(call, caller="+79990000000"))
            done = attrs.evolve(
                call,
                dial_status=DialStatus.ANSWERED,
                mark=Mark.RESPONSE_BY_CALL,
                talk_seconds=61,
                answered_at=T0 + timedelta(seconds=5),
                ended_at=T0 + timedelta(seconds=70),
                candidate=Candidate("c1", "Anna", "https://r/1"),
                response_id="v1:c1",
                recording_url="https://rec/1.mp3",
            )
            tx.update_call(done)
        with storage.transaction() as tx:
            assert tx.get_call(call.call_id) == done

    def test_calls_from_a_caller_in_a_window(self, storage: Storage) -> None:
        """calls_from returns the caller's calls after the given time, with their vacancies."""
        with storage.transaction() as tx:
            for i in range(5):
                tx.add_call(_call(i, vacancy=f"v{i % 2}", caller="+79031111111"))
            tx.add_call(_call(9, caller="+79032222222"))
            got = sorted(tx.calls_from("+79031111111", T0 + timedelta(minutes=1)))
        assert got == [(T0 + timedelta(minutes=i), f"v{i % 2}") for i in range(2, 5)]

    def test_events_are_claimed_once(self, storage: Storage) -> None:
        """claim_event is True the first time a key is seen, False after."""
        with storage.transaction() as tx:
            assert tx.claim_event("fake:C1:dial::answered", T0)
            assert not tx.claim_event("fake:C1:dial::answered", T0)
        with storage.transaction() as tx:
            assert not tx.claim_event("fake:C1:dial::answered", T0)
            assert tx.claim_event("fake:C1:recording:R1", T0)

    def test_calls_folder_pages_newest_first_with_filters(  # noqa: C901
        self, storage: Storage
    ) -> None:
        """call_page is newest first, filters missed/with resume/spam, and pages cover all once."""
        resume = Candidate("c", "Anna", "https://r/1")
        calls = []
        for i in range(23):
            kind = i % 4
            call = _call(i)
            if kind == 0:
                call = attrs.evolve(
                    call,
                    dial_status=DialStatus.ANSWERED,
                    mark=Mark.RESPONSE_BY_CALL,
                    candidate=resume,
                )
            elif kind == 1:
                call = attrs.evolve(
                    call, dial_status=DialStatus.NO_ANSWER, mark=Mark.MISSED_CALL, candidate=resume
                )
            elif kind == 2:
                call = attrs.evolve(call, dial_status=DialStatus.BUSY, mark=Mark.NO_RESUME)
            else:
                call = attrs.evolve(call, route=CallRoute.SPAM)
            calls.append(call)
        same_time = attrs.evolve(_call(100), started_at=calls[5].started_at)
        calls.append(same_time)
        with storage.transaction() as tx:
            for call in calls:
                tx.add_call(call)
            tx.add_call(_call(200, vacancy="v2"))

        def walk(where: CallFilter, limit: int) -> list[Call]:
            seen: list[Call] = []
            cursor: Cursor | None = None
            while True:
                with storage.transaction() as tx:
                    page = tx.call_page("v1", where, limit, cursor)
                assert len(page.calls) <= limit
                seen += page.calls
                if page.next_cursor is None:
                    return seen
                cursor = page.next_cursor

        def newest_first(chosen: list[Call]) -> list[str]:
            return [
                c.call_id
                for c in sorted(chosen, key=lambda c: (c.started_at, c.call_id), reverse=True)
            ]

        for where in (
            CallFilter(),
            CallFilter(missed=True),
            CallFilter(with_resume=True),
            CallFilter(missed=True, with_resume=True),
            CallFilter(include_spam=True),
        ):
            expected = newest_first([c for c in calls if where.matches(c)])
            for limit in (1, 5, 50):
                assert [c.call_id for c in walk(where, limit)] == expected, (where, limit)

    # --- responses and notifications -------------------------------------------------
    def test_one_response_per_vacancy_and_candidate(self, storage: Storage) -> None:
        """add_response refuses a second response for the same (vacancy, candidate)."""
        candidate = Candidate("c1", "Anna", "https://r/1")
        response = Response(
            "v1:c1",
            "v1",
            "e1",
            candidate,
            "+79031234567",
            Mark.MISSED_CALL,
            ResponseStatus.PENDING,
            T0,
            T0,
        )
        with storage.transaction() as tx:
            tx.add_response(response)
        with pytest.raises(StorageError), storage.transaction() as tx:
            tx.add_response(response)
        upgraded = attrs.evolve(
            response, mark=Mark.RESPONSE_BY_CALL, status=ResponseStatus.PROCESSED, calls=2
        )
        other = attrs.evolve(
            response, response_id="v2:c1", vacancy_id="v2", created_at=T0 + timedelta(hours=1)
        )
        with storage.transaction() as tx:
            tx.update_response(upgraded)
            tx.add_response(other)
            assert tx.get_response("v1:c1") == upgraded
            assert tx.list_responses(employer_id="e1") == [other, upgraded]
            assert tx.list_responses(vacancy_id="v1") == [upgraded]
            assert tx.list_responses(status=ResponseStatus.PENDING) == [other]

    def test_notifications_are_queued_once(self, storage: Storage) -> None:
        """add_notification queues once; pending ones can be marked sent and pending again."""
        note = Notification("v1:c1", "v1:c1", "c1", "+79031234567", "v1", "Driver", "Delivered", T0)
        with storage.transaction() as tx:
            assert tx.add_notification(note)
            assert not tx.add_notification(note)
            assert tx.pending_notifications(10) == [note]
            tx.set_notification_sent("v1:c1", T0)
            assert tx.pending_notifications(10) == []
            assert tx.list_notifications() == [attrs.evolve(note, sent_at=T0)]
            tx.set_notification_sent("v1:c1", None)
            assert tx.pending_notifications(10) == [note]

    # --- whole flows -----------------------------------------------------------------
    def _tracker(self, storage: Storage) -> tuple[CallTracker, FakeDirectory, RecordingNotifier]:
        directory = FakeDirectory()
        notifier = RecordingNotifier()
        tracker = CallTracker(storage, directory=directory, notifier=notifier, clock=FakeClock())
        tracker.add_numbers([f"+7495100{i:04d}" for i in range(6)], provider="fake")
        return tracker, directory, notifier

    def test_whole_story_on_this_storage(self, storage: Storage) -> None:
        """The seed's story ends with the same folder, responses and statistics as anywhere."""
        tracker, directory, notifier = self._tracker(storage)
        directory.add("+79030000001", "Anna Petrova", resume_url="https://r/anna")
        directory.add("+79030000002", "Oleg Ivanov", resume_url="https://r/oleg")
        directory.add("+79030000003", "No Resume")
        (a,) = tracker.track("v1", ["+74952000001"], employer_id="e1", title="Driver")
        sim = CallSimulator(tracker)
        sim.call("+79030000001", a.virtual_number)
        sim.call("+79030000002", a.virtual_number, outcome=CallOutcome.NO_ANSWER)
        sim.call("+79030000003", a.virtual_number)
        sim.call("anonymous", a.virtual_number)
        sim.call("+79030000002", a.virtual_number)
        folder = tracker.calls("v1").calls
        assert [c.mark for c in folder] == [
            Mark.RESPONSE_BY_CALL,
            Mark.NO_RESUME,
            Mark.MISSED_CALL,
            Mark.RESPONSE_BY_CALL,
        ]
        responses = tracker.responses(vacancy_id="v1")
        assert {r.candidate.name: r.mark for r in responses} == {
            "Anna Petrova": Mark.RESPONSE_BY_CALL,
            "Oleg Ivanov": Mark.RESPONSE_BY_CALL,
        }
        assert len(notifier.sent) == 2
        everything = tracker.calls("v1", include_spam=True).calls
        expected = compute_stats(everything, tracker.responses(vacancy_id="v1"))
        assert tracker.stats(vacancy_id="v1") == expected
        assert tracker.stats(employer_id="e1") == expected
        assert expected.spam_blocked == 1
        assert expected.answered == 3

    def test_track_untrack_keeps_counts(self, storage: Storage) -> None:
        """Pool counts add up through track, retrack and untrack."""
        tracker, _, _ = self._tracker(storage)
        tracker.track("v1", ["+74952000001", "+79161234567"], employer_id="e1", title="A")
        tracker.track("v2", ["+74952000002"], employer_id="e1", title="B")
        tracker.track("v1", ["+79161234567"], employer_id="e1", title="A")
        counts = tracker.pool_counts()
        assert (counts.total, counts.assigned, counts.quarantined, counts.free) == (6, 2, 1, 3)
        tracker.untrack("v2")
        counts = tracker.pool_counts("RU")
        assert (counts.total, counts.assigned, counts.quarantined, counts.free) == (6, 1, 2, 3)
