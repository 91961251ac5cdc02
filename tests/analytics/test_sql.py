"""Analytics on SqlStorage (SQLite): the same report as in memory, and index-served scans."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from calltrack.analytics import Period, Scope, iter_calls
from calltrack.analytics.report import render_report
from calltrack.demo import play
from calltrack.storage.memory import MemoryStorage
from calltrack.storage.sql import SqlStorage, upgrade

GENERATED = datetime(2026, 2, 1, 12, tzinfo=timezone.utc)


@pytest.fixture
def sqlite_demo(tmp_path: Path) -> SqlStorage:
    """The demo played on a fresh SQLite file."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    storage = SqlStorage(url)
    play(storage, out=io.StringIO())
    return storage


class TestSameAsMemory:
    """A report is the same whichever storage counted it."""

    @pytest.mark.parametrize(
        ("scope", "period"),
        [
            (Scope.employer("northwind"), None),
            (Scope.vacancy("driver"), Period(date(2026, 1, 4), date(2026, 1, 6))),
            (Scope.employer("northwind"), Period(utc_offset=timedelta(hours=-5))),
        ],
    )
    def test_report(self, sqlite_demo: SqlStorage, scope: Scope, period: Period | None) -> None:
        memory = MemoryStorage()
        play(memory, out=io.StringIO())
        on_sqlite = render_report(sqlite_demo, scope, period, generated_at=GENERATED)
        in_memory = render_report(memory, scope, period, generated_at=GENERATED)
        assert on_sqlite == in_memory
        sqlite_demo.close()


class TestIndexes:
    """An employer's calls are scanned in index order, not sorted."""

    def test_employer_scan_uses_its_index(self, sqlite_demo: SqlStorage) -> None:
        captured: list[tuple[str, Any]] = []

        def record(*args: object) -> None:
            _, _, statement, parameters, *_ = args
            assert isinstance(statement, str)
            captured.append((statement, parameters))

        sa.event.listen(sqlite_demo.engine, "before_cursor_execute", record)
        scope = Scope.employer("northwind")
        assert len(list(iter_calls(sqlite_demo, scope, page_size=2))) > 2
        sa.event.remove(sqlite_demo.engine, "before_cursor_execute", record)
        scans = [(s, p) for s, p in captured if "ORDER BY calls.started_at DESC" in s]
        assert len(scans) > 1
        with sqlite_demo.engine.connect() as conn:
            for statement, parameters in scans:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = " | ".join(str(row[-1]) for row in rows)
                assert "ix_calls_employer_id_started_at_call_id" in plan, plan
                assert "TEMP B-TREE" not in plan, plan
        sqlite_demo.close()
