"""MemoryStorage: the whole state in dicts, for tests, demos and single-process tools.

Safe to use from several threads: one lock serializes transactions, and a transaction that
raises is undone step by step, so no half-written state is ever seen.
"""

from __future__ import annotations

import bisect
import heapq
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime

import attrs

from calltrack.domain.analytics import (
    CallAnalytics,
    CallMetrics,
    MetricsCounter,
    Period,
    Scope,
)
from calltrack.domain.folder import CallFilter, CallPage, Cursor
from calltrack.domain.model import (
    Assignment,
    Call,
    Notification,
    PoolCounts,
    PoolNumber,
    Response,
    ResponseStatus,
    Routing,
    Vacancy,
)
from calltrack.domain.stats import CallStats, compute_stats
from calltrack.errors import StorageError

__all__ = ["MemoryStorage"]

_Entry = tuple[datetime, str]


class _State:
    """The data of a MemoryStorage, with the indexes its queries need."""

    def __init__(self) -> None:
        self.numbers: dict[str, PoolNumber] = {}
        self.assigned_count = 0
        # Free numbers, keyed by (idle_since, number), with lazy deletion: an entry is live
        # while the number is free with that idle_since.
        self.ready_country: dict[str, list[_Entry]] = defaultdict(list)
        self.ready_area: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
        # Numbers resting in quarantine, keyed by (available_from, idle_since, number).
        self.resting: list[tuple[datetime, datetime, str]] = []
        self.vacancies: dict[str, Vacancy] = {}
        self.active: dict[str, dict[str, Assignment]] = defaultdict(dict)
        self.by_virtual: dict[str, Assignment] = {}
        self.calls: dict[str, Call] = {}
        self.vacancy_calls: dict[str, list[_Entry]] = defaultdict(list)
        self.employer_calls: dict[str, list[str]] = defaultdict(list)
        self.employer_entries: dict[str, list[_Entry]] = defaultdict(list)
        self.caller_calls: dict[str, list[tuple[datetime, str | None]]] = defaultdict(list)
        self.events: set[str] = set()
        self.responses: dict[str, Response] = {}
        self.notifications: dict[str, Notification] = {}
        self.unsent: dict[str, None] = {}

    def index_free(self, number: PoolNumber, now: datetime | None) -> None:
        entry = (number.idle_since, number.number)
        if now is not None and number.available_from > now:
            heapq.heappush(self.resting, (number.available_from, *entry))
            return
        heapq.heappush(self.ready_country[number.country], entry)
        if number.area is not None:
            heapq.heappush(self.ready_area[(number.country, number.area)], entry)

    def live(self, entry: _Entry) -> PoolNumber | None:
        number = self.numbers.get(entry[1])
        if number is None or number.assigned or number.idle_since != entry[0]:
            return None
        return number

    def wake(self, now: datetime) -> None:
        """Move numbers whose quarantine is over to the ready heaps."""
        while self.resting and self.resting[0][0] <= now:
            _, idle_since, num = heapq.heappop(self.resting)
            number = self.live((idle_since, num))
            if number is not None:
                self.index_free(number, None)

    def first_ready(self, heap: list[_Entry], now: datetime) -> PoolNumber | None:
        """Return the live, available number at the top of ``heap``, dropping dead entries."""
        early: list[_Entry] = []
        found: PoolNumber | None = None
        while heap:
            number = self.live(heap[0])
            if number is None:
                heapq.heappop(heap)
                continue
            if number.available_from > now:  # a clock behind the one that woke it
                early.append(heapq.heappop(heap))
                continue
            found = number
            break
        for entry in early:
            heapq.heappush(heap, entry)
        return found


class _MemoryTransaction:
    """A transaction on a :class:`MemoryStorage`; see :class:`calltrack.ports.Transaction`."""

    def __init__(self, state: _State) -> None:
        self._s = state
        self._undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _put(self, table: dict[str, object], key: str, value: object) -> None:
        missing = key not in table
        old = table.get(key)

        def undo() -> None:
            if missing:
                del table[key]
            else:
                table[key] = old

        table[key] = value
        self._undo.append(undo)

    # --- the pool ---------------------------------------------------------------------
    def add_numbers(self, numbers: Sequence[PoolNumber]) -> int:
        added = 0
        for number in numbers:
            if number.number in self._s.numbers:
                continue
            if number.assigned:
                raise StorageError(f"{number.number} cannot be added as assigned")
            self._put(self._s.numbers, number.number, number)  # type: ignore[arg-type]
            self._s.index_free(number, number.idle_since)
            added += 1
        return added

    def get_number(self, number: str) -> PoolNumber | None:
        return self._s.numbers.get(number)

    def claim_number(self, country: str, area: str | None, now: datetime) -> PoolNumber | None:
        s = self._s
        s.wake(now)
        found = None
        if area is not None and (country, area) in s.ready_area:
            found = s.first_ready(s.ready_area[(country, area)], now)
        if found is None and country in s.ready_country:
            found = s.first_ready(s.ready_country[country], now)
        if found is None:
            return None
        claimed = attrs.evolve(found, assigned=True)
        self._put(s.numbers, found.number, claimed)  # type: ignore[arg-type]
        s.assigned_count += 1

        def undo() -> None:
            s.assigned_count -= 1
            s.index_free(found, None)

        self._undo.append(undo)
        return claimed

    def free_number(self, number: str, idle_since: datetime, available_from: datetime) -> None:
        s = self._s
        current = s.numbers.get(number)
        if current is None or not current.assigned:
            raise StorageError(f"{number} is not an assigned number of the pool")
        freed = attrs.evolve(
            current, assigned=False, idle_since=idle_since, available_from=available_from
        )
        self._put(s.numbers, number, freed)  # type: ignore[arg-type]
        s.assigned_count -= 1
        s.index_free(freed, idle_since)

        def undo() -> None:
            s.assigned_count += 1

        self._undo.append(undo)

    def remove_number(self, number: str) -> bool:
        current = self._s.numbers.get(number)
        if current is None:
            return False
        if current.assigned:
            raise StorageError(f"{number} is assigned; untrack its vacancy before removing it")
        del self._s.numbers[number]

        def undo() -> None:
            self._s.numbers[number] = current
            self._s.index_free(current, None)

        self._undo.append(undo)
        return True

    def list_numbers(
        self, *, country: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[PoolNumber]:
        chosen = sorted(
            n
            for n in self._s.numbers
            if (after is None or n > after)
            and (country is None or self._s.numbers[n].country == country)
        )
        return [self._s.numbers[n] for n in chosen[:limit]]

    def pool_counts(self, now: datetime, country: str | None = None) -> PoolCounts:
        total = assigned = quarantined = 0
        for number in self._s.numbers.values():
            if country is not None and number.country != country:
                continue
            total += 1
            if number.assigned:
                assigned += 1
            elif number.available_from > now:
                quarantined += 1
        return PoolCounts(total, assigned, quarantined, total - assigned - quarantined)

    # --- vacancies and assignments ------------------------------------------------------
    def save_vacancy(self, vacancy: Vacancy) -> None:
        self._put(self._s.vacancies, vacancy.vacancy_id, vacancy)  # type: ignore[arg-type]

    def get_vacancy(self, vacancy_id: str) -> Vacancy | None:
        return self._s.vacancies.get(vacancy_id)

    def active_assignments(self, vacancy_id: str) -> list[Assignment]:
        held = self._s.active.get(vacancy_id, {})
        return sorted(held.values(), key=lambda a: (a.assigned_at, a.real_number))

    def add_assignment(self, assignment: Assignment) -> None:
        s = self._s
        holder = s.by_virtual.get(assignment.virtual_number)
        if holder is not None and holder.active:
            raise StorageError(
                f"{assignment.virtual_number} is held by vacancy {holder.vacancy_id!r}"
            )
        held = s.active[assignment.vacancy_id]
        if assignment.real_number in held:
            raise StorageError(
                f"vacancy {assignment.vacancy_id!r} already has a number for "
                f"{assignment.real_number}"
            )
        self._put(held, assignment.real_number, assignment)  # type: ignore[arg-type]
        self._put(s.by_virtual, assignment.virtual_number, assignment)  # type: ignore[arg-type]

    def end_assignment(self, vacancy_id: str, real_number: str, at: datetime) -> None:
        s = self._s
        held = s.active.get(vacancy_id, {})
        current = held.get(real_number)
        if current is None:
            raise StorageError(f"vacancy {vacancy_id!r} has no number for {real_number}")
        ended = attrs.evolve(current, released_at=at)
        old = held.pop(real_number)

        def undo() -> None:
            held[real_number] = old

        self._undo.append(undo)
        self._put(s.by_virtual, current.virtual_number, ended)  # type: ignore[arg-type]

    def assignment_by_virtual(self, number: str) -> Assignment | None:
        return self._s.by_virtual.get(number)

    def routing_for(
        self, number: str, caller: str | None = None, since: datetime | None = None
    ) -> Routing | None:
        assignment = self._s.by_virtual.get(number)
        if assignment is None:
            return None
        history = () if caller is None or since is None else tuple(self.calls_from(caller, since))
        return Routing(assignment, self._s.vacancies.get(assignment.vacancy_id), history)

    # --- calls ------------------------------------------------------------------------
    def add_call(self, call: Call) -> bool:
        s = self._s
        if call.call_id in s.calls:
            return False
        self._put(s.calls, call.call_id, call)  # type: ignore[arg-type]
        lists: list[tuple[list[object], object]] = []
        if call.vacancy_id is not None:
            entry = (call.started_at, call.call_id)
            vlist = s.vacancy_calls[call.vacancy_id]
            bisect.insort(vlist, entry)
            lists.append((vlist, entry))  # type: ignore[arg-type]
        if call.employer_id is not None:
            elist = s.employer_calls[call.employer_id]
            elist.append(call.call_id)
            lists.append((elist, call.call_id))  # type: ignore[arg-type]
            sorted_list = s.employer_entries[call.employer_id]
            sorted_entry = (call.started_at, call.call_id)
            bisect.insort(sorted_list, sorted_entry)
            lists.append((sorted_list, sorted_entry))  # type: ignore[arg-type]
        if call.caller is not None:
            clist = s.caller_calls[call.caller]
            centry = (call.started_at, call.vacancy_id)
            clist.append(centry)
            lists.append((clist, centry))  # type: ignore[arg-type]

        def undo() -> None:
            for target, item in lists:
                target.remove(item)

        self._undo.append(undo)
        return True

    def get_call(self, call_id: str) -> Call | None:
        return self._s.calls.get(call_id)

    def update_call(self, call: Call) -> None:
        if call.call_id not in self._s.calls:
            raise StorageError(f"call {call.call_id!r} is not stored")
        self._put(self._s.calls, call.call_id, call)  # type: ignore[arg-type]

    def calls_from(self, caller: str, since: datetime) -> list[tuple[datetime, str | None]]:
        return [c for c in self._s.caller_calls.get(caller, ()) if c[0] > since]

    def call_page(
        self, vacancy_id: str, where: CallFilter, limit: int, after: Cursor | None
    ) -> CallPage:
        return self.scan_calls(Scope.vacancy(vacancy_id), where, Period(), limit, after)

    # --- events, responses, notifications, statistics ----------------------------------
    def claim_event(self, key: str, at: datetime) -> bool:
        del at  # memory keeps no history of when effects happened
        events = self._s.events
        if key in events:
            return False
        events.add(key)
        self._undo.append(lambda: events.discard(key))
        return True

    def get_response(self, response_id: str) -> Response | None:
        return self._s.responses.get(response_id)

    def add_response(self, response: Response) -> None:
        if response.response_id in self._s.responses:
            raise StorageError(f"response {response.response_id!r} exists")
        self._put(self._s.responses, response.response_id, response)  # type: ignore[arg-type]

    def update_response(self, response: Response) -> None:
        if response.response_id not in self._s.responses:
            raise StorageError(f"response {response.response_id!r} is not stored")
        self._put(self._s.responses, response.response_id, response)  # type: ignore[arg-type]

    def list_responses(
        self,
        *,
        vacancy_id: str | None = None,
        employer_id: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        chosen = [
            r
            for r in self._s.responses.values()
            if (vacancy_id is None or r.vacancy_id == vacancy_id)
            and (employer_id is None or r.employer_id == employer_id)
            and (status is None or r.status is status)
        ]
        return sorted(chosen, key=lambda r: (r.created_at, r.response_id), reverse=True)

    def _mark_unsent(self, notification_id: str, *, unsent: bool) -> None:
        table = self._s.unsent
        was = notification_id in table
        if was == unsent:
            return
        if unsent:
            table[notification_id] = None
            self._undo.append(lambda: table.pop(notification_id, None))
        else:
            del table[notification_id]
            self._undo.append(lambda: table.__setitem__(notification_id, None))

    def add_notification(self, notification: Notification) -> bool:
        if notification.notification_id in self._s.notifications:
            return False
        self._put(self._s.notifications, notification.notification_id, notification)  # type: ignore[arg-type]
        self._mark_unsent(notification.notification_id, unsent=notification.sent_at is None)
        return True

    def pending_notifications(self, limit: int) -> list[Notification]:
        pending = [self._s.notifications[n] for n in self._s.unsent]
        pending.sort(key=lambda n: (n.created_at, n.notification_id))
        return pending[:limit]

    def set_notification_sent(self, notification_id: str, at: datetime | None) -> None:
        current = self._s.notifications.get(notification_id)
        if current is None:
            raise StorageError(f"notification {notification_id!r} is not queued")
        self._put(self._s.notifications, notification_id, attrs.evolve(current, sent_at=at))  # type: ignore[arg-type]
        self._mark_unsent(notification_id, unsent=at is None)

    def list_notifications(self) -> list[Notification]:
        return sorted(
            self._s.notifications.values(), key=lambda n: (n.created_at, n.notification_id)
        )

    def stats(self, *, vacancy_id: str | None = None, employer_id: str | None = None) -> CallStats:
        if (vacancy_id is None) == (employer_id is None):
            raise ValueError("stats() needs exactly one of vacancy_id and employer_id")
        s = self._s
        if vacancy_id is not None:
            calls = [s.calls[c] for _, c in s.vacancy_calls.get(vacancy_id, ())]
        else:
            calls = [s.calls[c] for c in s.employer_calls.get(employer_id or "", ())]
        responses = self.list_responses(vacancy_id=vacancy_id, employer_id=employer_id)
        return compute_stats(calls, responses)

    # --- analytics ----------------------------------------------------------------------
    def _scope_entries(self, scope: Scope, period: Period) -> tuple[list[_Entry], int, int]:
        """The scope's (started_at, call_id) index and the slice of it inside ``period``."""
        s = self._s
        if scope.vacancy_id is not None:
            entries = s.vacancy_calls.get(scope.vacancy_id, [])
        else:
            entries = s.employer_entries.get(scope.key, [])
        start, end = period.start_at, period.end_at
        lo = 0 if start is None else bisect.bisect_left(entries, (start, ""))
        hi = len(entries) if end is None else bisect.bisect_left(entries, (end, ""))
        return entries, lo, hi

    def call_analytics(self, scope: Scope, period: Period) -> CallAnalytics:
        entries, lo, hi = self._scope_entries(scope, period)
        total = MetricsCounter()
        days: dict[date, MetricsCounter] = {}
        for when, call_id in entries[lo:hi]:
            call = self._s.calls[call_id]
            total.add_call(call)
            days.setdefault(period.day_of(when), MetricsCounter()).add_call(call)
        for response in self._s.responses.values():
            if scope.holds_response(response) and period.contains(response.created_at):
                total.add_response(response)
                day = period.day_of(response.created_at)
                days.setdefault(day, MetricsCounter()).add_response(response)
        busy = {day: counter.result() for day, counter in days.items()}
        return CallAnalytics.assemble(scope, period, total.result(), busy)

    def vacancy_metrics(self, employer_id: str, period: Period) -> dict[str, CallMetrics]:
        entries, lo, hi = self._scope_entries(Scope.employer(employer_id), period)
        counters: dict[str, MetricsCounter] = {}
        for _, call_id in entries[lo:hi]:
            call = self._s.calls[call_id]
            if call.vacancy_id is not None:
                counters.setdefault(call.vacancy_id, MetricsCounter()).add_call(call)
        for response in self._s.responses.values():
            if response.employer_id == employer_id and period.contains(response.created_at):
                counters.setdefault(response.vacancy_id, MetricsCounter()).add_response(response)
        return {vacancy: counter.result() for vacancy, counter in counters.items()}

    def scan_calls(
        self,
        scope: Scope,
        where: CallFilter,
        period: Period,
        limit: int,
        after: Cursor | None,
    ) -> CallPage:
        entries, lo, hi = self._scope_entries(scope, period)
        if after is not None:
            hi = min(hi, bisect.bisect_left(entries, after.sort_key()))
        found: list[Call] = []
        i = hi - 1
        while i >= lo and len(found) <= limit:
            call = self._s.calls[entries[i][1]]
            if where.matches(call):
                found.append(call)
            i -= 1
        more = len(found) > limit
        page = found[:limit]
        cursor = Cursor(page[-1].started_at, page[-1].call_id) if more and page else None
        return CallPage(page, cursor)


class MemoryStorage:
    """Storage that keeps everything in memory; see :class:`calltrack.ports.Storage`.

    Transactions run one at a time (a lock is held for the whole block), so every rule
    holds under threads. State is lost when the process ends.
    """

    def __init__(self) -> None:
        """Make an empty storage."""
        self._state = _State()
        self._lock = threading.RLock()
        self._local = threading.local()

    def __repr__(self) -> str:
        """Show the size, not the contents."""
        s = self._state
        return f"<MemoryStorage numbers={len(s.numbers)} calls={len(s.calls)}>"

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        """Begin a unit of work; see :meth:`calltrack.ports.Storage.transaction`."""
        if getattr(self._local, "active", False):
            raise StorageError("MemoryStorage transactions do not nest")
        with self._lock:
            self._local.active = True
            tx = _MemoryTransaction(self._state)
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise
            finally:
                self._local.active = False

    def close(self) -> None:
        """Nothing to release."""
