"""Call analytics: statistics over time, streamed exports, and a self-contained HTML report.

The counting happens in the storage (:meth:`calltrack.ports.Transaction.call_analytics`);
this package reads it, writes it out, and draws it.
"""

from calltrack.analytics._queries import analytics, by_vacancy, iter_calls
from calltrack.analytics.export import (
    CALL_COLUMNS,
    METRIC_COLUMNS,
    ExportFormat,
    call_record,
    write_analytics,
    write_calls,
    write_vacancy_metrics,
)
from calltrack.domain.analytics import CallAnalytics, CallMetrics, DailyMetrics, Period, Scope

__all__ = [
    "CALL_COLUMNS",
    "METRIC_COLUMNS",
    "CallAnalytics",
    "CallMetrics",
    "DailyMetrics",
    "ExportFormat",
    "Period",
    "Scope",
    "analytics",
    "by_vacancy",
    "call_record",
    "iter_calls",
    "write_analytics",
    "write_calls",
    "write_vacancy_metrics",
]
