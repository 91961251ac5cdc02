"""The analytics values: scopes, periods of local days, metrics, and the reference count."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltrack.domain.analytics import (
    CallAnalytics,
    CallMetrics,
    Period,
    Scope,
    compute_analytics,
)
from calltrack.domain.model import Call, CallRoute, DialStatus, Mark, Response
from calltrack.domain.stats import compute_stats
from calltrack.testing.analytics_contract import (
    assert_same_analytics,
    brute_force_analytics,
    generated_calls,
    generated_periods,
    generated_responses,
)

SCOPES = st.sampled_from(
    [Scope.vacancy("v1"), Scope.vacancy("v2"), Scope.employer("e1"), Scope.employer("e2")]
)


class TestScope:
    """A scope is one vacancy or one employer, never both, never neither."""

    def test_exactly_one_id(self) -> None:
        with pytest.raises(ValueError, match="exactly one"):
            Scope()
        with pytest.raises(ValueError, match="exactly one"):
            Scope(vacancy_id="v1", employer_id="e1")
        with pytest.raises(ValueError, match="empty"):
            Scope.vacancy("")

    def test_kind_and_key(self) -> None:
        assert (Scope.vacancy("v1").kind, Scope.vacancy("v1").key) == ("vacancy", "v1")
        assert (Scope.employer("e1").kind, Scope.employer("e1").key) == ("employer", "e1")


class TestPeriod:
    """A period is whole local days at a fixed offset, both ends inclusive."""

    def test_bounds_at_an_offset(self) -> None:
        period = Period(date(2026, 3, 1), date(2026, 3, 31), timedelta(hours=3))
        assert period.start_at == datetime(2026, 2, 28, 21, tzinfo=timezone.utc)
        assert period.end_at == datetime(2026, 3, 31, 21, tzinfo=timezone.utc)
        assert period.contains(datetime(2026, 2, 28, 21, tzinfo=timezone.utc))
        assert not period.contains(datetime(2026, 2, 28, 20, 59, 59, tzinfo=timezone.utc))
        assert not period.contains(datetime(2026, 3, 31, 21, tzinfo=timezone.utc))
        assert period.day_of(datetime(2026, 3, 1, 22, tzinfo=timezone.utc)) == date(2026, 3, 2)

    def test_open_ends(self) -> None:
        anything = datetime(1999, 1, 1, tzinfo=timezone.utc)
        assert Period().contains(anything)
        assert Period().days() == []
        assert Period(end=date(2026, 1, 2)).days(date(2026, 1, 1)) == [
            date(2026, 1, 1),
            date(2026, 1, 2),
        ]

    def test_an_open_period_runs_as_long_as_the_data(self) -> None:
        days = Period().days(date(2000, 1, 1), date(2020, 12, 31))
        assert len(days) == (date(2020, 12, 31) - date(2000, 1, 1)).days + 1

    @pytest.mark.parametrize(
        ("start", "end", "offset", "message"),
        [
            (date(2026, 3, 2), date(2026, 3, 1), timedelta(0), "after it ends"),
            (date(2000, 1, 1), date(2026, 1, 1), timedelta(0), "at most"),
            (None, None, timedelta(hours=19), "within"),
            (None, None, timedelta(seconds=30), "whole minutes"),
        ],
    )
    def test_bad_periods_are_refused(
        self, start: date | None, end: date | None, offset: timedelta, message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            Period(start, end, offset)

    @given(
        when=st.datetimes(
            min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
            max_value=datetime(2030, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
            timezones=st.just(timezone.utc),
        ),
        minutes=st.integers(min_value=-18 * 60, max_value=18 * 60),
    )
    def test_an_instant_is_in_the_period_of_its_own_day(self, when: datetime, minutes: int) -> None:
        offset = timedelta(minutes=minutes)
        day = Period(utc_offset=offset).day_of(when)
        assert Period(day, day, offset).contains(when)
        assert not Period(day + timedelta(days=1), None, offset).contains(when)
        assert not Period(None, day - timedelta(days=1), offset).contains(when)


class TestMetrics:
    """Rates and means are derived from the sums, and undefined without data."""

    def test_rates(self) -> None:
        metrics = CallMetrics(
            answered=3, missed=1, answer_seconds=12.0, timed_answers=2, talk_seconds=90
        )
        assert metrics.answer_rate == 0.75
        assert metrics.mean_answer_seconds == 6.0
        assert metrics.mean_talk_seconds == 30.0
        empty = CallMetrics()
        assert (empty.answer_rate, empty.mean_answer_seconds, empty.mean_talk_seconds) == (
            None,
            None,
            None,
        )
        assert metrics.as_dict()["answer_rate"] == 0.75

    def test_assemble_refuses_a_day_outside_the_period(self) -> None:
        period = Period(date(2026, 3, 1), date(2026, 3, 2))
        with pytest.raises(ValueError, match="not a day"):
            CallAnalytics.assemble(
                Scope.vacancy("v1"), period, CallMetrics(), {date(2026, 3, 3): CallMetrics()}
            )

    def test_assemble_fills_quiet_days(self) -> None:
        busy = {date(2026, 3, 3): CallMetrics(calls=2)}
        made = CallAnalytics.assemble(Scope.vacancy("v1"), Period(), CallMetrics(calls=2), busy)
        assert [d.day for d in made.days] == [date(2026, 3, 3)]
        closed = CallAnalytics.assemble(
            Scope.vacancy("v1"),
            Period(date(2026, 3, 1), date(2026, 3, 4)),
            CallMetrics(calls=2),
            busy,
        )
        assert [d.metrics.calls for d in closed.days] == [0, 0, 2, 0]


class TestReferenceCount:
    """compute_analytics agrees with a count written out metric by metric, and with stats."""

    @settings(max_examples=150, deadline=None)
    @given(
        calls=generated_calls(),
        responses=generated_responses(),
        scope=SCOPES,
        period=generated_periods(),
    )
    def test_agrees_with_brute_force(
        self, calls: list[Call], responses: list[Response], scope: Scope, period: Period
    ) -> None:
        assert_same_analytics(
            compute_analytics(scope, period, calls, responses),
            brute_force_analytics(scope, period, calls, responses),
        )

    @settings(max_examples=100, deadline=None)
    @given(calls=generated_calls(), responses=generated_responses(), scope=SCOPES)
    def test_open_period_total_matches_stats(
        self, calls: list[Call], responses: list[Response], scope: Scope
    ) -> None:
        total = compute_analytics(scope, Period(), calls, responses).total
        mine = [c for c in calls if scope.holds_call(c)]
        stats = compute_stats(mine, [r for r in responses if scope.holds_response(r)])
        assert (
            total.calls,
            total.unique_callers,
            total.answered,
            total.missed,
            total.missed_pending,
            total.responses,
            total.no_resume,
            total.spam_blocked,
            total.after_close,
        ) == attrs.astuple(stats)

    @settings(max_examples=100, deadline=None)
    @given(calls=generated_calls(), responses=generated_responses(), scope=SCOPES)
    def test_days_add_up_to_the_total(
        self, calls: list[Call], responses: list[Response], scope: Scope
    ) -> None:
        made = compute_analytics(scope, Period(utc_offset=timedelta(hours=3)), calls, responses)
        for name in ("calls", "answered", "missed", "responses", "talk_seconds", "no_resume"):
            assert sum(getattr(d.metrics, name) for d in made.days) == getattr(made.total, name)
        assert made.total.unique_callers <= sum(d.metrics.unique_callers for d in made.days)

    def test_withheld_callers_are_not_callers(self) -> None:
        at = datetime(2026, 3, 1, tzinfo=timezone.utc)
        call = Call(
            "fake:1",
            "fake",
            "1",
            "+74951000001",
            None,
            at,
            CallRoute.FORWARDED,
            "v1",
            "e1",
            dial_status=DialStatus.NO_ANSWER,
            mark=Mark.NO_RESUME,
        )
        made = compute_analytics(
            Scope.vacancy("v1"), Period(), [call, attrs.evolve(call, call_id="fake:2")], []
        )
        assert (made.total.calls, made.total.unique_callers, made.total.repeat_callers) == (2, 0, 0)
