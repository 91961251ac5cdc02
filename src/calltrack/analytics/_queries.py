"""Reading analytics and calls out of a storage, one short transaction at a time."""

from __future__ import annotations

from collections.abc import Iterator

from calltrack.domain.analytics import CallAnalytics, CallMetrics, Period, Scope
from calltrack.domain.folder import CallFilter, Cursor
from calltrack.domain.model import Call, Vacancy
from calltrack.errors import UnknownVacancy
from calltrack.ports import Storage

__all__ = ["DEFAULT_PAGE_SIZE", "analytics", "by_vacancy", "check_scope", "iter_calls"]

DEFAULT_PAGE_SIZE = 1000
_MAX_PAGE_SIZE = 10_000


def check_scope(storage: Storage, scope: Scope) -> Vacancy | None:
    """Return the scope's vacancy (``None`` for an employer's scope).

    Raises:
        UnknownVacancy: If the scope is a vacancy that was never tracked.
    """
    if scope.vacancy_id is None:
        return None
    with storage.transaction() as tx:
        vacancy = tx.get_vacancy(scope.vacancy_id)
    if vacancy is None:
        raise UnknownVacancy(scope.vacancy_id)
    return vacancy


def analytics(storage: Storage, scope: Scope, period: Period | None = None) -> CallAnalytics:
    """Count the statistics of a vacancy or an employer, in total and per day.

    Args:
        storage: Where the calls are.
        scope: Whose calls (:meth:`Scope.vacancy` or :meth:`Scope.employer`).
        period: Which days, in which UTC offset; every day with calls if not given.
    """
    chosen = period if period is not None else Period()
    with storage.transaction() as tx:
        return tx.call_analytics(scope, chosen)


def by_vacancy(
    storage: Storage, employer_id: str, period: Period | None = None
) -> list[tuple[Vacancy | None, str, CallMetrics]]:
    """Compare an employer's vacancies: the metrics of each one with calls in the period.

    Returns:
        (vacancy, vacancy id, metrics) for each vacancy with a call or a response in the
        period, busiest first (then by id); the vacancy is ``None`` if it was never saved.
    """
    chosen = period if period is not None else Period()
    with storage.transaction() as tx:
        found = tx.vacancy_metrics(employer_id, chosen)
        rows = [(tx.get_vacancy(v), v, metrics) for v, metrics in found.items()]
    rows.sort(key=lambda row: (-row[2].calls, row[1]))
    return rows


def iter_calls(
    storage: Storage,
    scope: Scope,
    *,
    where: CallFilter | None = None,
    period: Period | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[Call]:
    """Yield the scope's calls newest first, a page per transaction, in constant memory.

    Pages follow keyset cursors on (started_at, call_id), so a call stored while the
    iteration runs either shows up once or, if it is newer than the page being read, not
    at all; no call is seen twice.

    Args:
        storage: Where the calls are.
        scope: Whose calls.
        where: Which calls; the Calls folder's default (spam hidden) if not given.
        period: Which days; all if not given.
        page_size: Calls read per transaction (1 to 10000).

    Raises:
        ValueError: If ``page_size`` is out of range.
    """
    if not 1 <= page_size <= _MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {_MAX_PAGE_SIZE}, not {page_size}")
    chosen = where if where is not None else CallFilter()
    span = period if period is not None else Period()
    return _pages(storage, scope, chosen, span, page_size)


def _pages(
    storage: Storage, scope: Scope, where: CallFilter, period: Period, page_size: int
) -> Iterator[Call]:
    cursor: Cursor | None = None
    while True:
        with storage.transaction() as tx:
            page = tx.scan_calls(scope, where, period, page_size, cursor)
        yield from page.calls
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
