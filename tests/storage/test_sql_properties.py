"""Properties: SqlStorage agrees with the reference rules on any data (SQLite file).

Claims, frees and counts match MemoryStorage step by step (both follow ``pick_number``);
the Calls folder's pages, for any calls, filter and page size, cover exactly the calls
``CallFilter.matches`` accepts, newest first, each once; times round-trip in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltrack.domain.folder import CallFilter, Cursor
from calltrack.domain.model import Call, CallRoute, Candidate, DialStatus, PoolNumber
from calltrack.storage.memory import MemoryStorage
from calltrack.storage.sql import SqlStorage

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
FEW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

numbers = st.lists(
    st.builds(
        lambda n, country, area, idle, rest: PoolNumber(
            f"+7495{n:07d}",
            "fake",
            country,
            area,
            idle_since=T0 + timedelta(minutes=idle),
            available_from=T0 + timedelta(minutes=idle + rest),
        ),
        st.integers(0, 60),
        st.sampled_from(["RU", "KZ"]),
        st.sampled_from(["495", "812", None]),
        st.integers(0, 30),
        st.sampled_from([0, 0, 45]),
    ),
    max_size=25,
)
steps = st.lists(
    st.tuples(
        st.sampled_from(["claim", "free"]),
        st.sampled_from(["RU", "KZ"]),
        st.sampled_from(["495", "812", None]),
        st.integers(0, 90),
    ),
    max_size=30,
)


class TestClaimsAgreeWithMemory:
    """Any sequence of claims and frees gives the same numbers and counts as MemoryStorage."""

    @FEW
    @given(pool=numbers, ops=steps)
    def test_same_choices(
        self,
        make_sqlite_url: Callable[[], str],
        pool: list[PoolNumber],
        ops: list[tuple[str, str, str | None, int]],
    ) -> None:
        sql = SqlStorage(make_sqlite_url())
        memory = MemoryStorage()
        held: list[str] = []
        try:
            for storage in (sql, memory):
                with storage.transaction() as tx:
                    tx.add_numbers(pool)
            for op, country, area, minutes in ops:
                now = T0 + timedelta(minutes=minutes + 60)
                if op == "free" and held:
                    number = held.pop(0)
                    for storage in (sql, memory):
                        with storage.transaction() as tx:
                            tx.free_number(number, now, now + timedelta(minutes=minutes % 7))
                    continue
                got = []
                for storage in (sql, memory):
                    with storage.transaction() as tx:
                        claimed = tx.claim_number(country, area, now)
                        got.append(claimed)
                assert got[0] == got[1]
                if got[0] is not None:
                    held.append(got[0].number)
                for c in ("RU", None):
                    with sql.transaction() as a, memory.transaction() as b:
                        assert a.pool_counts(now, c) == b.pool_counts(now, c)
            with sql.transaction() as a, memory.transaction() as b:
                assert a.list_numbers(limit=1000) == b.list_numbers(limit=1000)
        finally:
            sql.close()


calls = st.lists(
    st.builds(
        lambda i, minute, route, status, resume: Call(
            call_id=f"fake:C{i:04d}",
            provider="fake",
            provider_call_id=f"C{i:04d}",
            virtual_number="+74951000001",
            caller=None,
            started_at=T0 + timedelta(minutes=minute, microseconds=i % 3),
            route=route,
            vacancy_id="v1",
            dial_status=status,
            candidate=Candidate("c", "Anna", "https://r/1" if resume else None)
            if resume is not None
            else None,
        ),
        st.integers(0, 9999),
        st.integers(0, 20),
        st.sampled_from(list(CallRoute)),
        st.sampled_from([None, *DialStatus]),
        st.sampled_from([None, True, False]),
    ),
    max_size=30,
    unique_by=lambda c: c.call_id,
)


class TestCallsFolderPages:
    """Pages of any size cover the filtered folder newest first, each call exactly once."""

    @FEW
    @given(
        chosen=calls,
        where=st.builds(CallFilter, st.booleans(), st.booleans(), st.booleans()),
        limit=st.integers(1, 7),
    )
    def test_pages(
        self, make_sqlite_url: Callable[[], str], chosen: list[Call], where: CallFilter, limit: int
    ) -> None:
        storage = SqlStorage(make_sqlite_url())
        try:
            with storage.transaction() as tx:
                for call in chosen:
                    tx.add_call(call)
            seen: list[Call] = []
            cursor: Cursor | None = None
            while True:
                with storage.transaction() as tx:
                    page = tx.call_page("v1", where, limit, cursor)
                assert len(page.calls) <= limit
                seen += page.calls
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            expected = sorted(
                (c for c in chosen if where.matches(c)),
                key=lambda c: (c.started_at, c.call_id),
                reverse=True,
            )
            assert seen == expected
        finally:
            storage.close()


class TestTimes:
    """Times come back as the same instant, in UTC, whatever zone they were given in."""

    @FEW
    @given(
        when=st.datetimes(
            min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
            max_value=datetime(2100, 1, 1),  # noqa: DTZ001
            timezones=st.sampled_from(
                [timezone.utc, timezone(timedelta(hours=3)), timezone(timedelta(hours=-7))]
            ),
        )
    )
    def test_round_trip(self, make_sqlite_url: Callable[[], str], when: datetime) -> None:
        storage = SqlStorage(make_sqlite_url())
        number = PoolNumber("+74951000001", "fake", "RU", "495", when, when)
        try:
            with storage.transaction() as tx:
                tx.add_numbers([number])
                got = tx.get_number(number.number)
            assert got == number
            assert got is not None
            assert got.idle_since.tzinfo is timezone.utc
        finally:
            storage.close()

    def test_naive_times_are_refused(self, sqlite_storage: SqlStorage) -> None:
        naive = T0.replace(tzinfo=None)
        with pytest.raises(ValueError, match="timezone-aware"), sqlite_storage.transaction() as tx:
            tx.add_numbers(
                [
                    attrs.evolve(
                        PoolNumber("+74951000001", "f", "RU", None, T0, T0), idle_since=naive
                    )
                ]
            )
        with sqlite_storage.transaction() as tx:
            assert tx.get_number("+74951000001") is None
