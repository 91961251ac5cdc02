"""Call analytics: statistics of a vacancy or an employer over a period and per day.

Everything here is pure. A storage answers :meth:`calltrack.ports.Transaction.call_analytics`
with the sums of :class:`CallMetrics` (as SQL aggregates, or by counting in memory with
:class:`MetricsCounter`); :func:`compute_analytics` is the plain reference they must agree
with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone

import attrs

from calltrack.domain.model import Call, CallRoute, DialStatus, Mark, Response, ResponseStatus

__all__ = [
    "CallAnalytics",
    "CallMetrics",
    "DailyMetrics",
    "MetricsCounter",
    "Period",
    "Scope",
    "compute_analytics",
]

_MAX_OFFSET = timedelta(hours=18)
_MAX_DAYS = 3660


@attrs.frozen
class Scope:
    """Whose calls: one vacancy's or one employer's (exactly one of the two ids is given).

    Attributes:
        vacancy_id: The vacancy, for a vacancy's statistics.
        employer_id: The employer, for the statistics of all their vacancies.
    """

    vacancy_id: str | None = None
    employer_id: str | None = None

    def __attrs_post_init__(self) -> None:
        """Check that exactly one id is given and that it is not empty."""
        given = [v for v in (self.vacancy_id, self.employer_id) if v is not None]
        if len(given) != 1:
            raise ValueError("a scope needs exactly one of vacancy_id and employer_id")
        if not given[0]:
            raise ValueError("a scope's id must not be empty")

    @classmethod
    def vacancy(cls, vacancy_id: str) -> Scope:
        """The scope of one vacancy."""
        return cls(vacancy_id=vacancy_id)

    @classmethod
    def employer(cls, employer_id: str) -> Scope:
        """The scope of every vacancy of one employer."""
        return cls(employer_id=employer_id)

    @property
    def kind(self) -> str:
        """``"vacancy"`` or ``"employer"``."""
        return "vacancy" if self.vacancy_id is not None else "employer"

    @property
    def key(self) -> str:
        """The id of the vacancy or the employer."""
        key = self.vacancy_id if self.vacancy_id is not None else self.employer_id
        assert key is not None
        return key

    def holds_call(self, call: Call) -> bool:
        """Whether ``call`` belongs to this scope."""
        if self.vacancy_id is not None:
            return call.vacancy_id == self.vacancy_id
        return call.employer_id == self.employer_id

    def holds_response(self, response: Response) -> bool:
        """Whether ``response`` belongs to this scope."""
        if self.vacancy_id is not None:
            return response.vacancy_id == self.vacancy_id
        return response.employer_id == self.employer_id


def _check_offset(
    instance: Period, attribute: attrs.Attribute[timedelta], value: timedelta
) -> None:
    del instance, attribute
    if abs(value) > _MAX_OFFSET or value % timedelta(minutes=1):
        raise ValueError(f"a UTC offset must be whole minutes within ±18 hours, not {value}")


@attrs.frozen
class Period:
    """A run of whole days, in the local time of a fixed UTC offset.

    Both ends are inclusive days; either may be left open. Days begin at local midnight,
    so a period of ``2026-03-01`` to ``2026-03-31`` at ``+03:00`` is the instants from
    ``2026-02-28T21:00Z`` up to (not including) ``2026-03-31T21:00Z``.

    Attributes:
        start: The first day, or ``None`` for no lower bound.
        end: The last day, or ``None`` for no upper bound.
        utc_offset: The offset of the local time days are counted in (``timedelta(hours=3)``
            for Moscow); UTC by default.

    Raises:
        ValueError: If ``start`` is after ``end``, the period spans more than ten years, or
            the offset is not whole minutes within ±18 hours.
    """

    start: date | None = None
    end: date | None = None
    utc_offset: timedelta = attrs.field(default=timedelta(0), validator=_check_offset)

    def __attrs_post_init__(self) -> None:
        """Check that the ends are in order and not too far apart."""
        if self.start is not None and self.end is not None:
            if self.start > self.end:
                raise ValueError(f"a period cannot start ({self.start}) after it ends ({self.end})")
            if (self.end - self.start).days >= _MAX_DAYS:
                raise ValueError(f"a period spans at most {_MAX_DAYS} days")

    @property
    def zone(self) -> timezone:
        """The fixed-offset time zone days are counted in."""
        return timezone(self.utc_offset)

    @property
    def start_at(self) -> datetime | None:
        """The first instant of the period (UTC), or ``None`` if it is open."""
        if self.start is None:
            return None
        return datetime.combine(self.start, time(0), self.zone).astimezone(timezone.utc)

    @property
    def end_at(self) -> datetime | None:
        """The first instant after the period (UTC), or ``None`` if it is open."""
        if self.end is None:
            return None
        after = self.end + timedelta(days=1)
        return datetime.combine(after, time(0), self.zone).astimezone(timezone.utc)

    def contains(self, when: datetime) -> bool:
        """Whether the instant ``when`` (timezone-aware) falls in the period."""
        start, end = self.start_at, self.end_at
        return (start is None or when >= start) and (end is None or when < end)

    def day_of(self, when: datetime) -> date:
        """The local day an instant falls on."""
        return when.astimezone(self.zone).date()

    def days(self, first: date | None = None, last: date | None = None) -> list[date]:
        """Every day of the period; open ends are closed with ``first`` and ``last``.

        Returns an empty list if an end is open and no day is given to close it.
        """
        lo = self.start if self.start is not None else first
        hi = self.end if self.end is not None else last
        if lo is None or hi is None or lo > hi:
            return []
        return [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]


@attrs.frozen
class CallMetrics:
    """How a vacancy's (or an employer's) calls went, over some span of time.

    Calls count by when they started; responses by when they were made.

    Attributes:
        calls: Logged calls: forwarded, refused as spam, or to a closed vacancy's number.
        unique_callers: Distinct caller numbers among them (withheld callers not counted).
        repeat_callers: Callers who called more than once.
        answered: Forwarded calls the recruiter answered.
        missed: Forwarded calls that ended with nobody answering.
        response_by_call: Calls marked "Response by call".
        missed_call: Calls marked "Missed call".
        no_resume: Calls marked "No resume".
        spam_blocked: Calls refused as spam.
        after_close: Calls to a number whose vacancy no longer took calls.
        responses: Responses made by calls.
        missed_pending: Of those responses, missed calls the employer has not processed yet.
        answer_seconds: Total time from a call's arrival to the recruiter picking up, over
            the answered calls whose pick-up time is known.
        timed_answers: How many answered calls that total covers.
        talk_seconds: Total talk time of the answered calls.
    """

    calls: int = 0
    unique_callers: int = 0
    repeat_callers: int = 0
    answered: int = 0
    missed: int = 0
    response_by_call: int = 0
    missed_call: int = 0
    no_resume: int = 0
    spam_blocked: int = 0
    after_close: int = 0
    responses: int = 0
    missed_pending: int = 0
    answer_seconds: float = 0.0
    timed_answers: int = 0
    talk_seconds: int = 0

    @property
    def answer_rate(self) -> float | None:
        """Answered over answered plus missed; ``None`` before any forwarded call ended."""
        ended = self.answered + self.missed
        return self.answered / ended if ended else None

    @property
    def mean_answer_seconds(self) -> float | None:
        """The average time to answer; ``None`` without a timed answer."""
        return self.answer_seconds / self.timed_answers if self.timed_answers else None

    @property
    def mean_talk_seconds(self) -> float | None:
        """The average talk time of an answered call; ``None`` without one."""
        return self.talk_seconds / self.answered if self.answered else None

    def as_dict(self) -> dict[str, int | float | None]:
        """The counts and the derived rates, by name, for exports."""
        values: dict[str, int | float | None] = attrs.asdict(self)
        values["answer_rate"] = self.answer_rate
        values["mean_answer_seconds"] = self.mean_answer_seconds
        values["mean_talk_seconds"] = self.mean_talk_seconds
        return values


@attrs.frozen
class DailyMetrics:
    """The metrics of one local day.

    Attributes:
        day: The day, in the period's offset.
        metrics: Its metrics (callers counted within the day).
    """

    day: date
    metrics: CallMetrics


@attrs.frozen
class CallAnalytics:
    """Statistics of a scope over a period: the whole and day by day.

    Attributes:
        scope: Whose calls.
        period: Which days.
        total: The metrics of the whole period (callers counted across it).
        days: One row per day of the period, days without calls included; for an open
            period, from the first to the last day that has any.
    """

    scope: Scope
    period: Period
    total: CallMetrics
    days: tuple[DailyMetrics, ...]

    @classmethod
    def assemble(
        cls,
        scope: Scope,
        period: Period,
        total: CallMetrics,
        busy_days: Mapping[date, CallMetrics],
    ) -> CallAnalytics:
        """Build the analytics from the total and the days that have data.

        Raises:
            ValueError: If a day with data lies outside the period.
        """
        for day in busy_days:
            if (period.start is not None and day < period.start) or (
                period.end is not None and day > period.end
            ):
                raise ValueError(f"{day} is not a day of {period}")
        first = min(busy_days, default=None)
        last = max(busy_days, default=None)
        empty = CallMetrics()
        days = tuple(DailyMetrics(d, busy_days.get(d, empty)) for d in period.days(first, last))
        return cls(scope, period, total, days)


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


@attrs.define
class MetricsCounter:
    """Adds calls and responses up into :class:`CallMetrics`, one at a time."""

    calls: int = 0
    answered: int = 0
    missed: int = 0
    response_by_call: int = 0
    missed_call: int = 0
    no_resume: int = 0
    spam_blocked: int = 0
    after_close: int = 0
    responses: int = 0
    missed_pending: int = 0
    answer_seconds: float = 0.0
    timed_answers: int = 0
    talk_seconds: int = 0
    callers: dict[str, int] = attrs.field(factory=dict)

    def add_call(self, call: Call) -> None:
        """Count one call."""
        self.calls += 1
        if call.caller is not None:
            self.callers[call.caller] = self.callers.get(call.caller, 0) + 1
        if call.route is CallRoute.SPAM:
            self.spam_blocked += 1
        elif call.route is CallRoute.VACANCY_CLOSED:
            self.after_close += 1
        if call.dial_status is DialStatus.ANSWERED:
            self.answered += 1
            self.talk_seconds += call.talk_seconds
            if call.answered_at is not None:
                self.answer_seconds += _seconds(call.answered_at - call.started_at)
                self.timed_answers += 1
        elif call.dial_status is not None:
            self.missed += 1
        if call.mark is Mark.RESPONSE_BY_CALL:
            self.response_by_call += 1
        elif call.mark is Mark.MISSED_CALL:
            self.missed_call += 1
        elif call.mark is Mark.NO_RESUME:
            self.no_resume += 1

    def add_response(self, response: Response) -> None:
        """Count one response."""
        self.responses += 1
        if response.mark is Mark.MISSED_CALL and response.status is ResponseStatus.PENDING:
            self.missed_pending += 1

    def result(self) -> CallMetrics:
        """The metrics counted so far."""
        return CallMetrics(
            calls=self.calls,
            unique_callers=len(self.callers),
            repeat_callers=sum(1 for n in self.callers.values() if n > 1),
            answered=self.answered,
            missed=self.missed,
            response_by_call=self.response_by_call,
            missed_call=self.missed_call,
            no_resume=self.no_resume,
            spam_blocked=self.spam_blocked,
            after_close=self.after_close,
            responses=self.responses,
            missed_pending=self.missed_pending,
            answer_seconds=self.answer_seconds,
            timed_answers=self.timed_answers,
            talk_seconds=self.talk_seconds,
        )


def compute_analytics(
    scope: Scope, period: Period, calls: Iterable[Call], responses: Iterable[Response]
) -> CallAnalytics:
    """Count the analytics of ``scope`` over ``period`` from every call and response.

    Calls and responses outside the scope or the period are skipped, so the whole store
    may be passed. This is the reference every storage's aggregates must agree with.
    """
    total = MetricsCounter()
    days: dict[date, MetricsCounter] = {}
    for call in calls:
        if scope.holds_call(call) and period.contains(call.started_at):
            total.add_call(call)
            days.setdefault(period.day_of(call.started_at), MetricsCounter()).add_call(call)
    for response in responses:
        if scope.holds_response(response) and period.contains(response.created_at):
            total.add_response(response)
            day = period.day_of(response.created_at)
            days.setdefault(day, MetricsCounter()).add_response(response)
    busy = {day: counter.result() for day, counter in days.items()}
    return CallAnalytics.assemble(scope, period, total.result(), busy)
