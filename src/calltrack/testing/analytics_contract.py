"""The analytics part of the storage contract: ``call_analytics`` and ``scan_calls``.

:class:`calltrack.testing.storage_contract.StorageContract` includes these tests, so every
storage that runs the contract is held to them; the expected figures come from a count
written out here one metric at a time, independent of the storage and of
:func:`calltrack.domain.analytics.compute_analytics`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltrack.domain.analytics import CallAnalytics, CallMetrics, DailyMetrics, Period, Scope
from calltrack.domain.folder import CallFilter, Cursor
from calltrack.domain.model import (
    Call,
    CallRoute,
    Candidate,
    DialStatus,
    Mark,
    Response,
    ResponseStatus,
    SpamReason,
)
from calltrack.ports import Storage

__all__ = [
    "AnalyticsContract",
    "assert_same_analytics",
    "brute_force_analytics",
    "generated_calls",
    "generated_periods",
    "generated_responses",
    "stored_world",
]

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc)
_EMPLOYER_OF = {"v1": "e1", "v2": "e1", "v3": "e2"}
_CALLERS = [None, "+79030000001", "+79030000002", "+79030000003", "+79030000004"]
_OFFSETS = [timedelta(0), timedelta(hours=3), timedelta(hours=-5, minutes=-30)]

MakeStorage = Callable[[], Storage]


# --- the reference: every metric counted the plain way ------------------------------------
def _in_scope(scope: Scope, vacancy_id: str | None, employer_id: str | None) -> bool:
    if scope.vacancy_id is not None:
        return vacancy_id == scope.vacancy_id
    return employer_id == scope.employer_id


def _local_day(when: datetime, offset: timedelta) -> date:
    return (when.astimezone(timezone.utc).replace(tzinfo=None) + offset).date()


def _in_period(when: datetime, period: Period) -> bool:
    day = _local_day(when, period.utc_offset)
    return (period.start is None or day >= period.start) and (
        period.end is None or day <= period.end
    )


def _metrics(calls: Sequence[Call], responses: Sequence[Response]) -> CallMetrics:
    callers = [c.caller for c in calls if c.caller is not None]
    answered = [c for c in calls if c.dial_status is DialStatus.ANSWERED]
    timed = [c for c in answered if c.answered_at is not None]
    return CallMetrics(
        calls=len(calls),
        unique_callers=len(set(callers)),
        repeat_callers=len({x for x in callers if callers.count(x) >= 2}),
        answered=len(answered),
        missed=len(
            [c for c in calls if c.dial_status not in {None, DialStatus.ANSWERED}],
        ),
        response_by_call=len([c for c in calls if c.mark is Mark.RESPONSE_BY_CALL]),
        missed_call=len([c for c in calls if c.mark is Mark.MISSED_CALL]),
        no_resume=len([c for c in calls if c.mark is Mark.NO_RESUME]),
        spam_blocked=len([c for c in calls if c.route is CallRoute.SPAM]),
        after_close=len([c for c in calls if c.route is CallRoute.VACANCY_CLOSED]),
        responses=len(responses),
        missed_pending=len(
            [
                r
                for r in responses
                if r.mark is Mark.MISSED_CALL and r.status is ResponseStatus.PENDING
            ]
        ),
        answer_seconds=sum(
            (c.answered_at - c.started_at).total_seconds()
            for c in timed
            if c.answered_at is not None
        ),
        timed_answers=len(timed),
        talk_seconds=sum(c.talk_seconds for c in answered),
    )


def brute_force_analytics(
    scope: Scope, period: Period, calls: Sequence[Call], responses: Sequence[Response]
) -> CallAnalytics:
    """Count the analytics of ``scope`` the slowest, plainest way."""
    mine = [
        c
        for c in calls
        if _in_scope(scope, c.vacancy_id, c.employer_id) and _in_period(c.started_at, period)
    ]
    theirs = [
        r
        for r in responses
        if _in_scope(scope, r.vacancy_id, r.employer_id) and _in_period(r.created_at, period)
    ]
    offset = period.utc_offset
    busy = {_local_day(c.started_at, offset) for c in mine}
    busy |= {_local_day(r.created_at, offset) for r in theirs}
    first = period.start or min(busy, default=None)
    last = period.end or max(busy, default=None)
    days = []
    if first is not None and last is not None:
        day = first
        while day <= last:
            days.append(
                (
                    day,
                    _metrics(
                        [c for c in mine if _local_day(c.started_at, offset) == day],
                        [r for r in theirs if _local_day(r.created_at, offset) == day],
                    ),
                )
            )
            day += timedelta(days=1)
    return CallAnalytics(
        scope, period, _metrics(mine, theirs), tuple(DailyMetrics(d, m) for d, m in days)
    )


def _same(got: CallMetrics, expected: CallMetrics, where: object) -> None:
    assert math.isclose(got.answer_seconds, expected.answer_seconds, abs_tol=1e-3), where
    assert attrs.evolve(got, answer_seconds=0.0) == attrs.evolve(expected, answer_seconds=0.0), (
        where
    )


def assert_same_analytics(got: CallAnalytics, expected: CallAnalytics) -> None:
    """Check two analytics agree: counts exactly, durations to a millisecond."""
    assert (got.scope, got.period) == (expected.scope, expected.period)
    _same(got.total, expected.total, "total")
    assert [d.day for d in got.days] == [d.day for d in expected.days]
    for mine, theirs in zip(got.days, expected.days, strict=True):
        _same(mine.metrics, theirs.metrics, mine.day)


# --- generated worlds ---------------------------------------------------------------------
@st.composite
def generated_calls(draw: st.DrawFn) -> list[Call]:
    """Up to 30 calls of three vacancies of two employers over four days, every kind."""
    count = draw(st.integers(min_value=0, max_value=30))
    made = []
    for i in range(count):
        vacancy = draw(st.sampled_from(sorted(_EMPLOYER_OF)))
        started = T0 + timedelta(
            minutes=draw(st.integers(min_value=0, max_value=4 * 24 * 60)),
            microseconds=draw(st.integers(min_value=0, max_value=999_999)),
        )
        route = draw(
            st.sampled_from([CallRoute.FORWARDED, CallRoute.SPAM, CallRoute.VACANCY_CLOSED])
        )
        call = Call(
            call_id=f"fake:G{i:04d}",
            provider="fake",
            provider_call_id=f"G{i:04d}",
            virtual_number="+74951000001",
            caller=draw(st.sampled_from(_CALLERS)),
            started_at=started,
            route=route,
            vacancy_id=vacancy,
            employer_id=_EMPLOYER_OF[vacancy],
        )
        if route is CallRoute.SPAM:
            call = attrs.evolve(call, spam_reason=SpamReason.TOO_MANY_CALLS)
        elif route is CallRoute.FORWARDED:
            status = draw(st.none() | st.sampled_from(list(DialStatus)))
            answered_at = None
            if draw(st.booleans()):
                answered_at = started + timedelta(
                    milliseconds=draw(st.integers(min_value=0, max_value=90_000))
                )
            call = attrs.evolve(
                call,
                real_number="+74952000001",
                dial_status=status,
                mark=draw(st.none() | st.sampled_from(list(Mark))) if status else None,
                talk_seconds=draw(st.integers(min_value=0, max_value=900)),
                answered_at=answered_at,
            )
        made.append(call)
    return made


@st.composite
def generated_responses(draw: st.DrawFn) -> list[Response]:
    """Up to 8 responses of the same vacancies over the same days."""
    count = draw(st.integers(min_value=0, max_value=8))
    made = []
    for i in range(count):
        vacancy = draw(st.sampled_from(sorted(_EMPLOYER_OF)))
        created = T0 + timedelta(minutes=draw(st.integers(min_value=0, max_value=4 * 24 * 60)))
        made.append(
            Response(
                response_id=f"{vacancy}:c{i}",
                vacancy_id=vacancy,
                employer_id=_EMPLOYER_OF[vacancy],
                candidate=Candidate(f"c{i}", "Anna", "https://r/1"),
                phone="+79030000001",
                mark=draw(st.sampled_from([Mark.RESPONSE_BY_CALL, Mark.MISSED_CALL])),
                status=draw(st.sampled_from(list(ResponseStatus))),
                created_at=created,
                updated_at=created,
            )
        )
    return made


@st.composite
def generated_periods(draw: st.DrawFn) -> Period:
    """Periods around those days, open or closed, at UTC, UTC+3 or UTC-5:30."""
    start = draw(st.none() | st.integers(min_value=-1, max_value=5))
    length = draw(st.integers(min_value=0, max_value=4))
    first = T0.date() + timedelta(days=start) if start is not None else None
    last = None
    if draw(st.booleans()):
        last = (first or T0.date()) + timedelta(days=length)
    return Period(first, last, draw(st.sampled_from(_OFFSETS)))


_SCOPES = st.sampled_from(
    [Scope.vacancy("v1"), Scope.vacancy("v3"), Scope.employer("e1"), Scope.employer("e2")]
)


def stored_world(storage: Storage, calls: Sequence[Call], responses: Sequence[Response]) -> None:
    """Store calls and responses in one transaction."""
    with storage.transaction() as tx:
        for call in calls:
            assert tx.add_call(call)
        for response in responses:
            tx.add_response(response)


def _walk(
    storage: Storage, scope: Scope, where: CallFilter, period: Period, limit: int
) -> list[Call]:
    seen: list[Call] = []
    cursor: Cursor | None = None
    while True:
        with storage.transaction() as tx:
            page = tx.scan_calls(scope, where, period, limit, cursor)
        assert len(page.calls) <= limit
        seen += page.calls
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


_FEW = settings(
    max_examples=40,
    deadline=None,
    # Each storage's subclass runs these tests (so several executors), and every example
    # makes its own fresh storage (so the function-scoped factory fixture is safe).
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)


class AnalyticsContract:
    """Analytics every storage must count right; part of ``StorageContract``."""

    @_FEW
    @given(
        calls=generated_calls(),
        responses=generated_responses(),
        scope=_SCOPES,
        period=generated_periods(),
    )
    def test_analytics_agree_with_a_brute_force_count(
        self,
        make_storage: MakeStorage,
        calls: list[Call],
        responses: list[Response],
        scope: Scope,
        period: Period,
    ) -> None:
        """call_analytics equals a plain count, in total and day by day, for any world."""
        storage = make_storage()
        try:
            stored_world(storage, calls, responses)
            with storage.transaction() as tx:
                got = tx.call_analytics(scope, period)
        finally:
            storage.close()
        assert_same_analytics(got, brute_force_analytics(scope, period, calls, responses))

    @_FEW
    @given(
        calls=generated_calls(),
        responses=generated_responses(),
        employer=st.sampled_from(["e1", "e2"]),
        period=generated_periods(),
    )
    def test_each_vacancy_of_an_employer_is_counted_as_on_its_own(
        self,
        make_storage: MakeStorage,
        calls: list[Call],
        responses: list[Response],
        employer: str,
        period: Period,
    ) -> None:
        """vacancy_metrics gives every busy vacancy of the employer its own plain count."""
        storage = make_storage()
        try:
            stored_world(storage, calls, responses)
            with storage.transaction() as tx:
                got = tx.vacancy_metrics(employer, period)
        finally:
            storage.close()
        busy = {
            c.vacancy_id
            for c in calls
            if c.employer_id == employer and _in_period(c.started_at, period)
        } | {
            r.vacancy_id
            for r in responses
            if r.employer_id == employer and _in_period(r.created_at, period)
        }
        assert set(got) == busy
        for vacancy, metrics in got.items():
            expected = brute_force_analytics(Scope.vacancy(vacancy), period, calls, responses)
            _same(metrics, expected.total, vacancy)

    @_FEW
    @given(
        calls=generated_calls(), scope=_SCOPES, period=generated_periods(), limit=st.integers(1, 7)
    )
    def test_scanned_pages_cover_the_scope_once_newest_first(
        self,
        make_storage: MakeStorage,
        calls: list[Call],
        scope: Scope,
        period: Period,
        limit: int,
    ) -> None:
        """scan_calls pages through the scope's calls of the period, each once, newest first."""
        storage = make_storage()
        where = CallFilter(include_spam=True)
        try:
            stored_world(storage, calls, [])
            seen = _walk(storage, scope, where, period, limit)
            missed = _walk(storage, scope, CallFilter(missed=True), period, limit)
        finally:
            storage.close()
        mine = [
            c
            for c in calls
            if _in_scope(scope, c.vacancy_id, c.employer_id) and _in_period(c.started_at, period)
        ]
        mine.sort(key=lambda c: (c.started_at, c.call_id), reverse=True)
        assert [c.call_id for c in seen] == [c.call_id for c in mine]
        assert seen == mine
        assert [c.call_id for c in missed] == [
            c.call_id for c in mine if c.missed and c.route is not CallRoute.SPAM
        ]

    def test_analytics_of_a_known_day(self, storage: Storage) -> None:
        """Figures of a small day worked out by hand, at UTC+3."""
        at = datetime(2026, 3, 1, 20, 59, tzinfo=timezone.utc)  # 23:59 in Moscow
        base = Call(
            call_id="fake:K1",
            provider="fake",
            provider_call_id="K1",
            virtual_number="+74951000001",
            caller="+79030000001",
            started_at=at,
            route=CallRoute.FORWARDED,
            vacancy_id="v1",
            employer_id="e1",
            real_number="+74952000001",
            dial_status=DialStatus.ANSWERED,
            mark=Mark.RESPONSE_BY_CALL,
            talk_seconds=100,
            answered_at=at + timedelta(seconds=4),
        )
        calls = [
            base,
            attrs.evolve(
                base,
                call_id="fake:K2",
                started_at=at + timedelta(seconds=90),  # 00:00:30 the next day in Moscow
                answered_at=at + timedelta(seconds=96),
                talk_seconds=20,
            ),
            attrs.evolve(
                base,
                call_id="fake:K3",
                started_at=at + timedelta(minutes=5),
                dial_status=DialStatus.BUSY,
                mark=Mark.MISSED_CALL,
                talk_seconds=0,
                answered_at=None,
            ),
            attrs.evolve(
                base,
                call_id="fake:K4",
                caller=None,
                started_at=at + timedelta(minutes=6),
                route=CallRoute.SPAM,
                spam_reason=SpamReason.WITHHELD_CALLER_ID,
                real_number=None,
                dial_status=None,
                mark=None,
                talk_seconds=0,
                answered_at=None,
            ),
            attrs.evolve(base, call_id="fake:K5", vacancy_id="v9", employer_id="e9"),
        ]
        response = Response(
            "v1:c1",
            "v1",
            "e1",
            Candidate("c1", "Anna", "https://r/1"),
            "+79030000001",
            Mark.MISSED_CALL,
            ResponseStatus.PENDING,
            at + timedelta(minutes=5),
            at + timedelta(minutes=5),
        )
        stored_world(storage, calls, [response])
        moscow = Period(date(2026, 3, 1), date(2026, 3, 2), timedelta(hours=3))
        with storage.transaction() as tx:
            got = tx.call_analytics(Scope.employer("e1"), moscow)
            utc = tx.call_analytics(Scope.vacancy("v1"), Period())
        first, second = (d.metrics for d in got.days)
        assert [d.day for d in got.days] == [date(2026, 3, 1), date(2026, 3, 2)]
        assert (first.calls, first.answered, first.talk_seconds) == (1, 1, 100)
        assert first.answer_seconds == pytest.approx(4.0)
        assert (second.calls, second.answered, second.missed, second.spam_blocked) == (3, 1, 1, 1)
        assert (second.responses, second.missed_pending, second.missed_call) == (1, 1, 1)
        total = got.total
        assert (total.calls, total.unique_callers, total.repeat_callers) == (4, 1, 1)
        assert total.answer_rate == pytest.approx(2 / 3)
        assert total.mean_answer_seconds == pytest.approx(5.0)
        assert total.mean_talk_seconds == pytest.approx(60.0)
        assert [d.day for d in utc.days] == [date(2026, 3, 1)]
        assert utc.total.calls == 4

    def test_a_call_rolled_back_is_neither_counted_nor_scanned(self, storage: Storage) -> None:
        """Calls of a transaction that raised appear in no statistics and no scan."""
        call = Call(
            call_id="fake:R1",
            provider="fake",
            provider_call_id="R1",
            virtual_number="+74951000001",
            caller="+79030000001",
            started_at=T0,
            route=CallRoute.FORWARDED,
            vacancy_id="v1",
            employer_id="e1",
        )
        with pytest.raises(LookupError), storage.transaction() as tx:  # noqa: PT012 - the write, then the failure
            assert tx.add_call(call)
            raise LookupError
        with storage.transaction() as tx:
            for scope in (Scope.vacancy("v1"), Scope.employer("e1")):
                assert tx.call_analytics(scope, Period()).total == CallMetrics()
                page = tx.scan_calls(scope, CallFilter(include_spam=True), Period(), 10, None)
                assert list(page.calls) == []

    def test_analytics_without_calls(self, storage: Storage) -> None:
        """An empty scope counts zeros: no days for an open period, zero days for a closed one."""
        with storage.transaction() as tx:
            open_ended = tx.call_analytics(Scope.vacancy("v1"), Period())
            closed = tx.call_analytics(
                Scope.employer("e1"), Period(date(2026, 3, 1), date(2026, 3, 3))
            )
        assert open_ended.total == CallMetrics()
        assert open_ended.days == ()
        assert [d.metrics for d in closed.days] == [CallMetrics()] * 3
        assert closed.total.answer_rate is None
