"""Exports of the Calls folder and of the statistics: CSV, JSON and JSON Lines, streamed.

Calls are written as they are read, so the memory an export needs does not grow with the
number of calls. Formats:

* ``csv``: a header row, then one row per call (or per day); UTF-8, CRLF line ends.
* ``jsonl``: JSON Lines, one object per line, nothing around them.
* ``json``: one JSON array of the same objects, written element by element.

Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) is prefixed with ``'`` in CSV; phone numbers in E.164 are
left as they are.
"""

from __future__ import annotations

import csv
import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TextIO

from calltrack.domain.analytics import CallAnalytics, CallMetrics
from calltrack.domain.model import Call, Vacancy

__all__ = [
    "CALL_COLUMNS",
    "METRIC_COLUMNS",
    "ExportFormat",
    "call_record",
    "write_analytics",
    "write_calls",
    "write_vacancy_metrics",
]

Value = str | int | float | bool | None


class ExportFormat(enum.Enum):
    """How an export is written."""

    CSV = "csv"
    """Comma-separated values with a header row."""
    JSON = "json"
    """One JSON array, streamed element by element."""
    JSONL = "jsonl"
    """JSON Lines: one object per line."""


CALL_COLUMNS: tuple[str, ...] = (
    "call_id",
    "started_at",
    "vacancy_id",
    "employer_id",
    "caller",
    "candidate_id",
    "candidate_name",
    "resume_url",
    "mark",
    "route",
    "spam_reason",
    "dial_status",
    "answered_at",
    "answer_seconds",
    "talk_seconds",
    "ended_at",
    "virtual_number",
    "real_number",
    "recording_url",
    "response_id",
    "provider",
    "provider_call_id",
)
"""The fields of an exported call, in column order."""

METRIC_COLUMNS: tuple[str, ...] = (
    "calls",
    "unique_callers",
    "repeat_callers",
    "answered",
    "missed",
    "answer_rate",
    "response_by_call",
    "missed_call",
    "no_resume",
    "spam_blocked",
    "after_close",
    "responses",
    "missed_pending",
    "mean_answer_seconds",
    "mean_talk_seconds",
    "answer_seconds",
    "timed_answers",
    "talk_seconds",
)
"""The fields of exported metrics, in column order."""

_E164 = re.compile(r"\+[1-9]\d{1,14}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def call_record(call: Call) -> dict[str, Value]:
    """The exported fields of one call (see :data:`CALL_COLUMNS`)."""
    who = call.candidate
    answer = None
    if call.answered_at is not None:
        answer = round((call.answered_at - call.started_at).total_seconds(), 3)
    return {
        "call_id": call.call_id,
        "started_at": _when(call.started_at),
        "vacancy_id": call.vacancy_id,
        "employer_id": call.employer_id,
        "caller": call.caller,
        "candidate_id": who.candidate_id if who else None,
        "candidate_name": who.name if who else None,
        "resume_url": who.resume_url if who else None,
        "mark": call.mark.value if call.mark else None,
        "route": call.route.value,
        "spam_reason": call.spam_reason.value if call.spam_reason else None,
        "dial_status": call.dial_status.value if call.dial_status else None,
        "answered_at": _when(call.answered_at),
        "answer_seconds": answer,
        "talk_seconds": call.talk_seconds,
        "ended_at": _when(call.ended_at),
        "virtual_number": call.virtual_number,
        "real_number": call.real_number,
        "recording_url": call.recording_url,
        "response_id": call.response_id,
        "provider": call.provider,
        "provider_call_id": call.provider_call_id,
    }


def _metric_record(metrics: CallMetrics) -> dict[str, Value]:
    values = metrics.as_dict()
    return {name: values[name] for name in METRIC_COLUMNS}


def _cell(value: Value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        if value.startswith(_FORMULA_START) and not _E164.fullmatch(value):
            return "'" + value
        return value
    return value


def _write_records(
    out: TextIO,
    records: Iterable[Mapping[str, Value]],
    columns: Sequence[str],
    fmt: ExportFormat,
) -> int:
    written = 0
    if fmt is ExportFormat.CSV:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow([_cell(record[c]) for c in columns])
            written += 1
        return written
    dump: Callable[[Mapping[str, Value]], str] = lambda r: json.dumps(  # noqa: E731 - one use
        r, ensure_ascii=False, separators=(",", ":")
    )
    if fmt is ExportFormat.JSONL:
        for record in records:
            out.write(dump(record) + "\n")
            written += 1
        return written
    out.write("[")
    for record in records:
        out.write(("\n" if not written else ",\n") + dump(record))
        written += 1
    out.write("\n]\n" if written else "]\n")
    return written


def write_calls(out: TextIO, calls: Iterable[Call], fmt: ExportFormat) -> int:
    """Write calls as they come (pass :func:`~calltrack.analytics.iter_calls` to stream).

    Args:
        out: A text stream; for CSV open files with ``newline=""``.
        calls: The calls, in the order to write them.
        fmt: The format.

    Returns:
        How many calls were written.
    """
    return _write_records(out, (call_record(c) for c in calls), CALL_COLUMNS, fmt)


def _day_text(day: date) -> str:
    return day.isoformat()


def write_analytics(out: TextIO, report: CallAnalytics, fmt: ExportFormat) -> int:
    """Write statistics: one row (or object) per day, then one for the whole period.

    In CSV and JSON Lines the rows carry ``scope``, ``id`` and ``day``; the last row's
    ``day`` is ``"total"``. In JSON the document is one object::

        {"scope": "vacancy", "id": "driver", "period": {...}, "total": {...},
         "days": [{"day": "2026-03-01", ...}, ...]}

    Returns:
        How many day rows were written (the total row not counted).
    """
    scope, period = report.scope, report.period
    if fmt is ExportFormat.JSON:
        document = {
            "scope": scope.kind,
            "id": scope.key,
            "period": {
                "start": period.start.isoformat() if period.start else None,
                "end": period.end.isoformat() if period.end else None,
                "utc_offset_minutes": int(period.utc_offset.total_seconds() // 60),
            },
            "total": _metric_record(report.total),
            "days": [{"day": _day_text(d.day), **_metric_record(d.metrics)} for d in report.days],
        }
        json.dump(document, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return len(report.days)
    head: dict[str, Value] = {"scope": scope.kind, "id": scope.key}
    rows: list[dict[str, Value]] = [
        {**head, "day": _day_text(d.day), **_metric_record(d.metrics)} for d in report.days
    ]
    rows.append({**head, "day": "total", **_metric_record(report.total)})
    _write_records(out, rows, ("scope", "id", "day", *METRIC_COLUMNS), fmt)
    return len(report.days)


def write_vacancy_metrics(
    out: TextIO,
    employer_id: str,
    rows: Sequence[tuple[Vacancy | None, str, CallMetrics]],
    fmt: ExportFormat,
) -> int:
    """Write one row (or object) per vacancy of an employer, as :func:`by_vacancy` gives them.

    Each carries ``employer_id``, ``vacancy_id``, ``title`` and the figures; ``json`` is an
    array of the objects.

    Returns:
        How many vacancies were written.
    """
    records = (
        {
            "employer_id": employer_id,
            "vacancy_id": vacancy_id,
            "title": vacancy.title if vacancy is not None else None,
            **_metric_record(metrics),
        }
        for vacancy, vacancy_id, metrics in rows
    )
    return _write_records(
        out, records, ("employer_id", "vacancy_id", "title", *METRIC_COLUMNS), fmt
    )
