"""Analytics on SqlStorage: the statistics as SQL aggregates, and keyset scans of calls.

:class:`~calltrack.storage.sql.SqlStorage`'s transaction delegates ``call_analytics`` and
``scan_calls`` here. Nothing loads calls to count them: each figure is a ``count``/``sum``
grouped by the local day, which is computed in the database (``date()`` with a minute
offset on SQLite, ``AT TIME ZONE 'UTC'`` plus an interval on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa

from calltrack.domain.analytics import CallAnalytics, CallMetrics, Period, Scope
from calltrack.domain.folder import CallFilter, CallPage, Cursor
from calltrack.domain.model import Call, CallRoute, DialStatus, Mark, ResponseStatus
from calltrack.storage import _schema as s

__all__ = ["call_analytics", "scan_calls", "vacancy_metrics"]

Run = Callable[[sa.Executable], "sa.CursorResult[Any]"]
ToCall = Callable[[sa.RowMapping], Call]


def _local_day(
    column: sa.ColumnElement[Any], minutes: int, *, postgres: bool
) -> sa.ColumnElement[Any]:
    """The local day of a UTC time column at a fixed offset, as the database computes it."""
    if postgres:
        shifted = sa.func.timezone("UTC", column) + sa.literal_column(
            f"interval '{minutes} minutes'"
        )
        return sa.cast(shifted, sa.Date)
    return sa.func.date(column, f"{minutes:+d} minutes")


def _seconds_between(
    later: sa.ColumnElement[Any], earlier: sa.ColumnElement[Any], *, postgres: bool
) -> sa.ColumnElement[Any]:
    """``later - earlier`` in seconds, to the microsecond."""
    if postgres:
        return sa.extract("epoch", later - earlier)
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"; julianday() keeps only milliseconds, so
    # whole seconds and the fraction are taken apart.
    whole = sa.cast(sa.func.strftime("%s", later), sa.Integer) - sa.cast(
        sa.func.strftime("%s", earlier), sa.Integer
    )
    fraction = sa.cast(sa.func.substr(later, 20), sa.Float) - sa.cast(
        sa.func.substr(earlier, 20), sa.Float
    )
    return whole + fraction


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _within(column: sa.ColumnElement[Any], period: Period) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if period.start_at is not None:
        conditions.append(column >= sa.literal(period.start_at, s.UtcDateTime()))
    if period.end_at is not None:
        conditions.append(column < sa.literal(period.end_at, s.UtcDateTime()))
    return conditions


def _scoped(table: sa.Table, scope: Scope) -> sa.ColumnElement[bool]:
    if scope.vacancy_id is not None:
        return table.c.vacancy_id == scope.vacancy_id
    return table.c.employer_id == scope.employer_id


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _grouped(
    run: Run,
    call_key: sa.ColumnElement[Any],
    response_key: sa.ColumnElement[Any],
    calls_where: sa.ColumnElement[bool],
    responses_where: sa.ColumnElement[bool],
    *,
    postgres: bool,
) -> dict[Any, CallMetrics]:
    """The metrics of calls and responses grouped by a key (a local day, or a vacancy)."""
    c, r = s.calls, s.responses
    key = call_key.label("key")
    answered = c.c.dial_status == DialStatus.ANSWERED.value
    timed = sa.and_(answered, c.c.answered_at.is_not(None))
    answer_seconds = _seconds_between(c.c.answered_at, c.c.started_at, postgres=postgres)
    sums = (
        sa.select(
            key,
            sa.func.count(),
            sa.func.count(sa.distinct(c.c.caller)),
            _count(answered),
            _count(
                sa.and_(c.c.dial_status.is_not(None), c.c.dial_status != DialStatus.ANSWERED.value)
            ),
            _count(c.c.mark == Mark.RESPONSE_BY_CALL.value),
            _count(c.c.mark == Mark.MISSED_CALL.value),
            _count(c.c.mark == Mark.NO_RESUME.value),
            _count(c.c.route == CallRoute.SPAM.value),
            _count(c.c.route == CallRoute.VACANCY_CLOSED.value),
            sa.func.coalesce(sa.func.sum(sa.case((timed, answer_seconds), else_=0)), 0),
            _count(timed),
            sa.func.coalesce(sa.func.sum(sa.case((answered, c.c.talk_seconds), else_=0)), 0),
        )
        .where(calls_where)
        .group_by(key)
    )
    # Callers who called more than once within each group.
    repeaters = (
        sa.select(call_key.label("key"), c.c.caller)
        .where(calls_where, c.c.caller.is_not(None))
        .group_by(call_key, c.c.caller)
        .having(sa.func.count() > 1)
        .subquery()
    )
    repeats = sa.select(repeaters.c.key, sa.func.count()).group_by(repeaters.c.key)
    made_key = response_key.label("key")
    made = (
        sa.select(
            made_key,
            sa.func.count(),
            _count(
                sa.and_(
                    r.c.mark == Mark.MISSED_CALL.value,
                    r.c.status == ResponseStatus.PENDING.value,
                )
            ),
        )
        .where(responses_where)
        .group_by(made_key)
    )
    groups: dict[Any, dict[str, Any]] = {}
    for row in run(sums):
        (group, calls, callers, ok, missed, by_call, missed_mark, no_resume, spam, closed,
         seconds, timed_answers, talk) = tuple(row)  # fmt: skip
        groups[group] = {
            "calls": int(calls),
            "unique_callers": int(callers),
            "answered": int(ok),
            "missed": int(missed),
            "response_by_call": int(by_call),
            "missed_call": int(missed_mark),
            "no_resume": int(no_resume),
            "spam_blocked": int(spam),
            "after_close": int(closed),
            "answer_seconds": float(seconds),
            "timed_answers": int(timed_answers),
            "talk_seconds": int(talk),
        }
    for row in run(repeats):
        group, repeat = tuple(row)
        groups[group]["repeat_callers"] = int(repeat)
    for row in run(made):
        group, count, pending = tuple(row)
        values = groups.setdefault(group, {})
        values["responses"] = int(count)
        values["missed_pending"] = int(pending)
    return {group: CallMetrics(**values) for group, values in groups.items()}


_ADDITIVE = (
    "calls", "answered", "missed", "response_by_call", "missed_call", "no_resume",
    "spam_blocked", "after_close", "responses", "missed_pending", "timed_answers",
    "talk_seconds",
)  # fmt: skip


def call_analytics(run: Run, scope: Scope, period: Period, *, postgres: bool) -> CallAnalytics:
    """Count the analytics of ``scope`` over ``period`` with aggregates grouped by day."""
    c, r = s.calls, s.responses
    minutes = int(period.utc_offset.total_seconds() // 60)
    calls_where = sa.and_(_scoped(c, scope), *_within(c.c.started_at, period))
    busy = {
        _as_date(day): metrics
        for day, metrics in _grouped(
            run,
            _local_day(c.c.started_at, minutes, postgres=postgres),
            _local_day(r.c.created_at, minutes, postgres=postgres),
            calls_where,
            sa.and_(_scoped(r, scope), *_within(r.c.created_at, period)),
            postgres=postgres,
        ).items()
    }
    # Unique and repeat callers of the whole period are not sums of the days'.
    repeaters = (
        sa.select(c.c.caller)
        .where(calls_where, c.c.caller.is_not(None))
        .group_by(c.c.caller)
        .having(sa.func.count() > 1)
        .subquery()
    )
    callers = sa.select(
        sa.func.count(sa.distinct(c.c.caller)),
        sa.select(sa.func.count()).select_from(repeaters).scalar_subquery(),
    ).where(calls_where)
    unique, repeat = tuple(run(callers).one())
    sums: dict[str, Any] = {
        name: sum(getattr(m, name) for m in busy.values()) for name in _ADDITIVE
    }
    total = CallMetrics(
        unique_callers=int(unique),
        repeat_callers=int(repeat or 0),
        answer_seconds=sum(m.answer_seconds for m in busy.values()),
        **sums,
    )
    return CallAnalytics.assemble(scope, period, total, busy)


def vacancy_metrics(
    run: Run, employer_id: str, period: Period, *, postgres: bool
) -> dict[str, CallMetrics]:
    """Count the metrics of each of an employer's vacancies, grouped by vacancy."""
    c, r = s.calls, s.responses
    scope = Scope.employer(employer_id)
    found = _grouped(
        run,
        c.c.vacancy_id,
        r.c.vacancy_id,
        sa.and_(_scoped(c, scope), c.c.vacancy_id.is_not(None), *_within(c.c.started_at, period)),
        sa.and_(_scoped(r, scope), *_within(r.c.created_at, period)),
        postgres=postgres,
    )
    return {str(vacancy): metrics for vacancy, metrics in found.items()}


def scan_calls(
    run: Run,
    to_call: ToCall,
    scope: Scope,
    *,
    where: CallFilter,
    period: Period,
    limit: int,
    after: Cursor | None,
    postgres: bool,
) -> CallPage:
    """One page of the scope's calls in ``period``, newest first, after ``after``.

    For a vacancy the Calls folder's indexes serve it (this is the Calls folder's own query);
    for an employer the index on (employer_id, started_at, call_id).
    """
    t = s.calls
    query = sa.select(t).where(_scoped(t, scope), *_within(t.c.started_at, period))
    if not where.include_spam:
        if not postgres and (where.missed or where.with_resume):
            # SQLite's statistics cannot tell a rare flag from a common one; written as an
            # expression, the spam test cannot pull it onto the spam-hidden index when the
            # missed or with-resume one is the selective choice.
            query = query.where(sa.cast(t.c.is_spam, sa.Integer) == 0)
        else:
            query = query.where(t.c.is_spam == sa.false())
    if where.missed:
        query = query.where(t.c.is_missed == sa.true())
    if where.with_resume:
        query = query.where(t.c.has_resume == sa.true())
    if after is not None:
        query = query.where(
            sa.tuple_(t.c.started_at, t.c.call_id)
            < sa.tuple_(sa.literal(after.started_at, s.UtcDateTime()), sa.literal(after.call_id))
        )
    query = query.order_by(t.c.started_at.desc(), t.c.call_id.desc()).limit(limit + 1)
    found = [to_call(row) for row in run(query).mappings()]
    page = found[:limit]
    more = len(found) > limit
    cursor = Cursor(page[-1].started_at, page[-1].call_id) if more and page else None
    return CallPage(page, cursor)
