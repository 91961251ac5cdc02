"""The HTML report and its charts: self-contained, escaped, drawn to scale, filterable."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import attrs
import pytest

from calltrack.analytics import Period, Scope, analytics, iter_calls
from calltrack.analytics.charts import (
    ANSWER_RATE_COLOUR,
    SERIES_COLOURS,
    answer_rate_chart,
    calls_by_mark_chart,
    nice_ceiling,
)
from calltrack.analytics.report import render_report, write_report
from calltrack.domain.analytics import CallMetrics, DailyMetrics
from calltrack.domain.folder import CallFilter
from calltrack.domain.model import CallRoute, Candidate
from calltrack.errors import UnknownVacancy
from calltrack.storage.memory import MemoryStorage

GENERATED = datetime(2026, 2, 1, 12, tzinfo=timezone.utc)
_RECT = re.compile(
    r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="(#\w+)">'
    r"<title>[\d.]+: ([\w ]+) (\d+)</title>"
)


def _day(n: int, **counts: int) -> DailyMetrics:
    return DailyMetrics(date(2026, 3, n), CallMetrics(**counts))


class TestCharts:
    """Bars are drawn to scale in their series' colours; the rate line breaks at gaps."""

    @pytest.mark.parametrize("value", [0, 1, 3, 7, 10, 11, 49, 51, 99, 101, 999_999])
    def test_nice_ceiling(self, value: int) -> None:
        top = nice_ceiling(value)
        assert top >= max(value, 1)
        assert top < max(value, 1) * 2.5
        assert int(str(top)[0]) in {1, 2, 5}
        assert set(str(top)[1:]) <= {"0"}

    def test_bars_are_to_scale(self) -> None:
        days = [
            _day(1, calls=3, response_by_call=2, missed_call=1),
            _day(
                2,
                calls=9,
                response_by_call=1,
                no_resume=2,
                spam_blocked=4,
                after_close=1,
                missed_call=0,
            ),
            _day(3),
        ]
        svg = calls_by_mark_chart(days)
        bars = _RECT.findall(svg)
        assert {(name, int(count)) for _, _, name, count in bars} == {
            ("Response by call", 2),
            ("Missed call", 1),
            ("Response by call", 1),
            ("No resume", 2),
            ("Not classified", 1),
            ("Spam blocked", 4),
            ("After close", 1),
        }
        per_call = {round(float(h) / int(count), 3) for h, _, _, count in bars}
        assert len(per_call) == 1
        for _, colour, name, _ in bars:
            assert colour == SERIES_COLOURS[name]
        assert svg.count("<text") >= 7  # a week of day labels at least, and the y ticks

    def test_a_short_run_is_shown_as_a_week(self) -> None:
        svg = calls_by_mark_chart([_day(5, calls=1, response_by_call=1)])
        labels = re.findall(r'class="tick">(\d\d\.\d\d)<', svg)
        assert labels == ["27.02", "28.02", "01.03", "02.03", "03.03", "04.03", "05.03"]
        assert len(_RECT.findall(svg)) == 1

    def test_the_rate_line_breaks_where_no_call_ended(self) -> None:
        days = [
            _day(1, answered=1, missed=1),
            _day(2, answered=2),
            _day(3),
            _day(4, missed=2),
            _day(5, answered=3, missed=1),
            _day(6, answered=1),
            _day(7, answered=1),
        ]
        svg = answer_rate_chart(days)
        assert svg.count("<circle") == 6
        assert svg.count("<polyline") == 2
        assert "01.03: 50%" in svg
        assert "04.03: 0%" in svg
        assert ANSWER_RATE_COLOUR in svg

    def test_charts_fetch_nothing(self) -> None:
        for svg in (calls_by_mark_chart([_day(1, calls=1)]), answer_rate_chart([])):
            assert "<script" not in svg
            assert "href" not in svg
            assert "url(" not in svg


class TestReport:
    """One self-contained file: figures, charts, the Calls folder with CSS-only filters."""

    def test_self_contained(self, demo_storage: MemoryStorage) -> None:
        html = render_report(demo_storage, Scope.employer("northwind"), generated_at=GENERATED)
        assert html.startswith("<!DOCTYPE html>")
        for fetch in ("<script", " src=", "url(", "@import", "<link", "<iframe", "<img"):
            assert fetch not in html
        hrefs = re.findall(r'href="([^"]+)"', html)
        assert hrefs
        assert all(h.startswith("https://") for h in hrefs)
        assert html.count("<svg") == 2
        assert "@media print" in html
        assert "@media (max-width" in html
        assert 'name="viewport"' in html
        assert "Generated 2026-02-01 12:00" in html
        listed = list(
            iter_calls(
                demo_storage, Scope.employer("northwind"), where=CallFilter(include_spam=True)
            )
        )
        spam = sum(1 for c in listed if c.route is CallRoute.SPAM)
        assert spam
        assert f'{len(listed) - spam} calls listed<span class="screen-only">; {spam} spam' in html

    def test_the_figures_are_the_storages(self, demo_storage: MemoryStorage) -> None:
        html = render_report(demo_storage, Scope.vacancy("driver"), generated_at=GENERATED)
        total = analytics(demo_storage, Scope.vacancy("driver")).total
        cards = {
            name: value
            for value, name in re.findall(r'<div class="card"><b>([^<]+)</b><span>([^<]+)', html)
        }
        assert cards["Calls"] == str(total.calls)
        assert cards["Answered"] == str(total.answered)
        assert cards["Answer rate"] == f"{total.answer_rate:.0%}"
        assert "<h1>Truck driver</h1>" in html

    def test_rows_carry_the_filter_classes(self, fortnight: MemoryStorage) -> None:
        html = render_report(fortnight, Scope.employer("acme"), calls=1000)
        rows = re.findall(r'<tr class="(call[^"]*)">', html)
        calls = list(
            iter_calls(fortnight, Scope.employer("acme"), where=CallFilter(include_spam=True))
        )
        assert len(rows) == len(calls)
        for classes, call in zip(rows, calls, strict=True):
            names = set(classes.split())
            assert ("missed" in names) == call.missed
            assert ("resume" in names) == call.has_resume
        assert "#f-missed:checked ~ .scroll tr.call:not(.missed) { display: none; }" in html
        assert "#f-resume:checked ~ .scroll tr.call:not(.resume) { display: none; }" in html
        assert "#f-spam:not(:checked) ~ .scroll tr.spam { display: none; }" in html

    def test_an_employers_report_compares_its_vacancies(self, demo_storage: MemoryStorage) -> None:
        html = render_report(demo_storage, Scope.employer("northwind"))
        table = html.split('<table class="vacancies">', 1)[1].split("</table>", 1)[0]
        rows = re.findall(r'<tr><td>([^<]+) <span class="id">([^<]+)</span></td>(.*?)</tr>', table)
        assert [vacancy_id for _, vacancy_id, _ in rows] == ["warehouse", "driver", "courier"]
        assert rows[0][0] == "Warehouse manager"
        for _, vacancy_id, cells in rows:
            calls = int(re.findall(r"<td class=num>([^<]+)</td>", cells)[0])
            assert calls == analytics(demo_storage, Scope.vacancy(vacancy_id)).total.calls
        vacancy_report = render_report(demo_storage, Scope.vacancy("driver"))
        assert "<h2>Vacancies</h2>" not in vacancy_report

    def test_long_folders_are_cut_with_a_note(self, fortnight: MemoryStorage) -> None:
        total = analytics(fortnight, Scope.employer("acme")).total.calls
        html = render_report(fortnight, Scope.employer("acme"), calls=5)
        assert len(re.findall(r'<tr class="call', html)) == 5
        assert f"The newest 5 of {total} calls" in html

    def test_a_period_narrows_everything(self, fortnight: MemoryStorage) -> None:
        period = Period(date(2026, 1, 7), date(2026, 1, 8))
        html = render_report(fortnight, Scope.employer("acme"), period)
        expected = analytics(fortnight, Scope.employer("acme"), period).total.calls
        assert len(re.findall(r'<tr class="call', html)) == expected
        assert "2026-01-07 – 2026-01-08" in html

    def test_text_is_escaped_and_odd_links_are_not_links(self, demo_storage: MemoryStorage) -> None:
        scope = Scope.vacancy("driver")
        call = next(c for c in iter_calls(demo_storage, scope) if c.candidate)
        hostile = Candidate("c9", "<script>alert(1)</script>", "javascript:alert(1)")
        with demo_storage.transaction() as tx:
            tx.update_call(attrs.evolve(call, candidate=hostile, recording_url="data:x"))
        html = render_report(demo_storage, scope)
        assert "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="javascript' not in html
        assert 'href="data' not in html
        assert "<td>javascript:alert(1)</td>" in html

    def test_bad_input(self, demo_storage: MemoryStorage, tmp_path: Path) -> None:
        target = tmp_path / "r.html"
        with pytest.raises(UnknownVacancy):
            write_report(target, demo_storage, Scope.vacancy("nobody"))
        with pytest.raises(ValueError, match="calls"):
            write_report(target, demo_storage, Scope.employer("northwind"), calls=-1)
        assert list(tmp_path.iterdir()) == []
        size = write_report(target, demo_storage, Scope.employer("northwind"))
        assert size == target.stat().st_size
        assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
