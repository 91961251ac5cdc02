"""Exports: every call and every figure, in CSV, JSON and JSON Lines, written as read."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import date

import attrs
import pytest

from calltrack.analytics import (
    CALL_COLUMNS,
    METRIC_COLUMNS,
    ExportFormat,
    Period,
    Scope,
    analytics,
    by_vacancy,
    call_record,
    iter_calls,
    write_analytics,
    write_calls,
    write_vacancy_metrics,
)
from calltrack.analytics._queries import check_scope
from calltrack.domain.folder import CallFilter
from calltrack.domain.model import Call, Candidate
from calltrack.errors import UnknownVacancy
from calltrack.ports import Storage, Transaction
from calltrack.storage.memory import MemoryStorage


def _all_calls(storage: Storage, scope: Scope) -> list[Call]:
    return list(iter_calls(storage, scope, where=CallFilter(include_spam=True)))


class _CountingStorage:
    """Counts the transactions a reader opens."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.opened = 0

    def transaction(self) -> AbstractContextManager[Transaction]:
        self.opened += 1
        return self.inner.transaction()

    def close(self) -> None:
        self.inner.close()


class TestIterCalls:
    """iter_calls pages through the storage, one transaction per page, newest first."""

    def test_pages_cover_every_call_once(self, fortnight: MemoryStorage) -> None:
        counting = _CountingStorage(fortnight)
        small = list(iter_calls(counting, Scope.employer("acme"), page_size=7))
        assert counting.opened == len(small) // 7 + 1
        big = list(iter_calls(fortnight, Scope.employer("acme"), page_size=1000))
        assert [c.call_id for c in small] == [c.call_id for c in big]
        assert (
            len({c.call_id for c in big})
            == len(big)
            == analytics(fortnight, Scope.employer("acme")).total.calls
        )
        keys = [(c.started_at, c.call_id) for c in big]
        assert keys == sorted(keys, reverse=True)

    def test_filters_and_period(self, fortnight: MemoryStorage) -> None:
        scope = Scope.vacancy("bus")
        period = Period(date(2026, 1, 7), date(2026, 1, 9))
        missed = list(iter_calls(fortnight, scope, where=CallFilter(missed=True), period=period))
        assert missed
        assert all(c.missed and c.vacancy_id == "bus" for c in missed)
        assert all(period.contains(c.started_at) for c in missed)

    @pytest.mark.parametrize("size", [0, 10_001])
    def test_page_size_is_checked_at_once(self, fortnight: MemoryStorage, size: int) -> None:
        with pytest.raises(ValueError, match="page_size"):
            iter_calls(fortnight, Scope.employer("acme"), page_size=size)


class TestCallExports:
    """Each format carries every column of every call."""

    def test_csv(self, demo_storage: MemoryStorage) -> None:
        calls = _all_calls(demo_storage, Scope.employer("northwind"))
        out = io.StringIO(newline="")
        assert write_calls(out, calls, ExportFormat.CSV) == len(calls)
        rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
        assert tuple(rows[0]) == CALL_COLUMNS
        assert [r["call_id"] for r in rows] == [c.call_id for c in calls]
        first = call_record(calls[0])
        assert rows[0] == {k: "" if v is None else str(v) for k, v in first.items()}
        assert out.getvalue().count("\r\n") == len(calls) + 1

    def test_jsonl_and_json(self, demo_storage: MemoryStorage) -> None:
        calls = _all_calls(demo_storage, Scope.employer("northwind"))
        lines = io.StringIO()
        write_calls(lines, calls, ExportFormat.JSONL)
        parsed = [json.loads(line) for line in lines.getvalue().splitlines()]
        assert parsed == [call_record(c) for c in calls]
        array = io.StringIO()
        write_calls(array, calls, ExportFormat.JSON)
        assert json.loads(array.getvalue()) == parsed

    def test_empty_exports_are_well_formed(self) -> None:
        for fmt, expected in (
            (ExportFormat.JSON, []),
            (ExportFormat.JSONL, ""),
        ):
            out = io.StringIO()
            assert write_calls(out, [], fmt) == 0
            text = out.getvalue()
            assert (json.loads(text) if fmt is ExportFormat.JSON else text) == expected
        out = io.StringIO()
        write_calls(out, [], ExportFormat.CSV)
        assert out.getvalue() == ",".join(CALL_COLUMNS) + "\r\n"

    def test_formulas_are_defused_in_csv_but_numbers_are_kept(
        self, demo_storage: MemoryStorage
    ) -> None:
        call = next(c for c in _all_calls(demo_storage, Scope.vacancy("driver")) if c.candidate)
        hostile = attrs.evolve(
            call, candidate=Candidate("c9", '=HYPERLINK("http://x")', "@SUM(A1)")
        )
        out = io.StringIO()
        write_calls(out, [hostile], ExportFormat.CSV)
        row = next(csv.DictReader(io.StringIO(out.getvalue())))
        assert row["candidate_name"] == '\'=HYPERLINK("http://x")'
        assert row["resume_url"] == "'@SUM(A1)"
        assert row["caller"] == hostile.caller
        assert row["caller"].startswith("+")

    def test_rows_are_written_as_calls_are_read(self, demo_storage: MemoryStorage) -> None:
        calls = _all_calls(demo_storage, Scope.employer("northwind"))
        out = io.StringIO()
        sizes: list[int] = []

        def feed() -> Iterator[Call]:
            for call in calls:
                sizes.append(len(out.getvalue()))
                yield call

        write_calls(out, feed(), ExportFormat.JSONL)
        assert sizes == sorted(sizes)
        assert len(set(sizes)) == len(calls)


class TestAnalyticsExports:
    """Statistics export one row per day and a total row; JSON nests them."""

    def test_csv_rows(self, fortnight: MemoryStorage) -> None:
        report = analytics(fortnight, Scope.employer("acme"))
        out = io.StringIO()
        assert write_analytics(out, report, ExportFormat.CSV) == len(report.days) >= 14
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert tuple(rows[0]) == ("scope", "id", "day", *METRIC_COLUMNS)
        assert [r["day"] for r in rows[:-1]] == [d.day.isoformat() for d in report.days]
        assert rows[-1]["day"] == "total"
        assert int(rows[-1]["calls"]) == report.total.calls
        assert sum(int(r["calls"]) for r in rows[:-1]) == report.total.calls

    def test_json_document(self, fortnight: MemoryStorage) -> None:
        period = Period(date(2026, 1, 6), date(2026, 1, 8))
        report = analytics(fortnight, Scope.vacancy("bus"), period)
        out = io.StringIO()
        write_analytics(out, report, ExportFormat.JSON)
        document = json.loads(out.getvalue())
        assert (document["scope"], document["id"]) == ("vacancy", "bus")
        assert document["period"] == {
            "start": "2026-01-06",
            "end": "2026-01-08",
            "utc_offset_minutes": 0,
        }
        assert [d["day"] for d in document["days"]] == ["2026-01-06", "2026-01-07", "2026-01-08"]
        assert document["total"]["answer_rate"] == report.total.answer_rate
        lines = io.StringIO()
        write_analytics(lines, report, ExportFormat.JSONL)
        assert [json.loads(x)["day"] for x in lines.getvalue().splitlines()][-1] == "total"


class TestByVacancy:
    """by_vacancy ranks an employer's busy vacancies and exports them."""

    def test_busiest_first_with_titles(self, demo_storage: MemoryStorage) -> None:
        rows = by_vacancy(demo_storage, "northwind")
        assert [(v.title if v else None, vid) for v, vid, _ in rows] == [
            ("Warehouse manager", "warehouse"),
            ("Truck driver", "driver"),
            ("Courier", "courier"),
        ]
        calls = [m.calls for _, _, m in rows]
        assert calls == sorted(calls, reverse=True)
        assert sum(calls) == analytics(demo_storage, Scope.employer("northwind")).total.calls
        assert by_vacancy(demo_storage, "nobody") == []

    def test_csv(self, demo_storage: MemoryStorage) -> None:
        rows = by_vacancy(demo_storage, "northwind")
        out = io.StringIO()
        assert write_vacancy_metrics(out, "northwind", rows, ExportFormat.CSV) == 3
        parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert tuple(parsed[0]) == ("employer_id", "vacancy_id", "title", *METRIC_COLUMNS)
        assert [r["vacancy_id"] for r in parsed] == ["warehouse", "driver", "courier"]


def test_an_unknown_vacancy_is_an_error(demo_storage: MemoryStorage) -> None:
    with pytest.raises(UnknownVacancy):
        check_scope(demo_storage, Scope.vacancy("nobody"))
    assert check_scope(demo_storage, Scope.employer("anyone")) is None
