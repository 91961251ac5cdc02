"""SqlStorage: calltrack's state in SQLite (one machine) or PostgreSQL (many workers).

Built on SQLAlchemy Core. The database keeps the invariants, not Python: unique indexes
hold one active assignment per virtual number and per (vacancy, phone), one response per
(vacancy, candidate), one row per call id, event key and notification id. Inserts that may
race use ``INSERT ... ON CONFLICT DO NOTHING``, so a duplicate webhook makes no second row.

* SQLite: a file in WAL mode; every transaction starts with ``BEGIN IMMEDIATE``, so writers
  take turns (waiting up to the busy timeout) and a unit of work never sees a stale read.
* PostgreSQL (psycopg 3): ``READ COMMITTED``; ``claim_number`` locks the chosen row with
  ``FOR UPDATE SKIP LOCKED`` so concurrent workers take different numbers without waiting;
  a call and a response are locked when read inside a transaction, so two webhooks of the
  same call apply one after the other instead of overwriting each other.

Races the database detects (a unique violation, a serialization failure, a deadlock, a
lock timeout, a busy SQLite file) raise :class:`~calltrack.errors.StorageConflict`;
:class:`~calltrack.CallTracker` runs the unit of work again. A database that cannot be
reached raises :class:`~calltrack.errors.StorageUnavailable`, naming the URL with its
password masked.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.pool import ConnectionPoolEntry

from calltrack.domain.analytics import CallAnalytics, CallMetrics, Period, Scope
from calltrack.domain.folder import CallFilter, CallPage, Cursor
from calltrack.domain.model import (
    Assignment,
    Call,
    CallRoute,
    Candidate,
    DialStatus,
    Folder,
    Mark,
    Notification,
    PoolCounts,
    PoolNumber,
    Response,
    ResponseStatus,
    Routing,
    SpamReason,
    Vacancy,
)
from calltrack.domain.stats import CallStats
from calltrack.errors import ConfigurationError, StorageConflict, StorageError, StorageUnavailable
from calltrack.storage import _schema as s
from calltrack.storage import _sql_analytics
from calltrack.storage._driver import Prepared

__all__ = ["SchemaOutOfDate", "SqlStorage", "mask_url", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic script directory shipped in the package."""

# SQLSTATEs that mean "another transaction got in the way; run it again".
_CONFLICT_STATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available (lock_timeout)
    }
)
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


class SchemaOutOfDate(StorageError):
    """The database's schema is not the one this version of calltrack needs.

    The message names the command that upgrades it.

    Attributes:
        found: The revision the database is at; ``None`` if it has no calltrack schema.
        needed: The revision this code needs.
    """

    def __init__(self, url: str, found: str | None, needed: str, *, newer: bool = False) -> None:
        self.found = found
        self.needed = needed
        command = f"calltrack db upgrade --db '{url}'"
        if found is None:
            message = f"the database {url} has no calltrack schema yet; create it with `{command}`"
        elif newer:
            message = (
                f"the database {url} is at schema revision {found}, which this calltrack "
                f"does not know (it needs {needed}); a newer calltrack upgraded it"
            )
        else:
            message = (
                f"the database {url} is at schema revision {found}, older than the {needed} "
                f"this calltrack needs; upgrade it with `{command}`"
            )
        super().__init__(message)


def mask_url(url: str | URL) -> str:
    """Return a database URL fit to show: the password, if any, replaced by ``***``."""
    try:
        parsed = sa.make_url(url) if isinstance(url, str) else url
    except sa.exc.ArgumentError:
        return "<unreadable database URL>"
    return parsed.render_as_string(hide_password=True)


def _parse_url(url: str) -> URL:
    """Read a database URL and choose the driver calltrack supports for it.

    Raises:
        ConfigurationError: If it is not a SQLite file or PostgreSQL URL.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigurationError(
            f"{mask_url(url)!s} is not a database URL; use sqlite:///path/to/file.db or "
            "postgresql://user:password@host/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.get_driver_name() != "pysqlite":
            raise ConfigurationError(f"{mask_url(parsed)}: only the built-in sqlite3 driver works")
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigurationError(
                f"{mask_url(parsed)} names no file; SqlStorage keeps SQLite in a file "
                "(sqlite:///calltrack.db), use memory:// to keep state in memory"
            )
        return parsed
    if backend in {"postgresql", "postgres"}:
        if parsed.get_driver_name() not in {"psycopg", "postgresql", "postgres", "psycopg2"}:
            raise ConfigurationError(
                f"{mask_url(parsed)}: calltrack talks to PostgreSQL through psycopg 3 "
                "(postgresql+psycopg://...)"
            )
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigurationError(
        f"{mask_url(parsed)}: calltrack stores its state in SQLite or PostgreSQL, "
        f"not {backend!r}; use sqlite:///path/to/file.db or postgresql://user@host/dbname"
    )


def _conflict_or_error(exc: sa.exc.DBAPIError, shown: str) -> StorageError:
    """Translate a driver error into calltrack's: conflict, unavailable, or plain error."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(exc, sa.exc.IntegrityError) or sqlstate in _CONFLICT_STATES:
        return StorageConflict(f"concurrent change on {shown}: {text}")
    if sqlite_name in {"SQLITE_BUSY", "SQLITE_LOCKED"} or any(
        busy in text.lower() for busy in _SQLITE_BUSY
    ):
        return StorageConflict(f"the database {shown} is busy: {text}")
    if sqlite_name is not None:
        if sqlite_name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")):
            return StorageUnavailable(f"cannot use the database {shown}: {text}")
    elif exc.connection_invalidated or (
        isinstance(exc, sa.exc.OperationalError)
        and (sqlstate is None or sqlstate.startswith(("08", "57P")))
    ):
        return StorageUnavailable(f"cannot reach the database {shown}: {text}")
    return StorageError(f"database error on {shown}: {text}")


def _wrapped(
    exc: Exception, sql: str, dialect: Dialect, *, lost: bool = False
) -> sa.exc.DBAPIError:
    """A driver's error as SQLAlchemy would have raised it (an ``IntegrityError``, ...)."""
    wrapped = sa.exc.DBAPIError.instance(
        sql,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=dialect,
    )
    assert isinstance(wrapped, sa.exc.DBAPIError)
    return wrapped


def _values(call: Call) -> dict[str, Any]:
    who = call.candidate
    return {
        "call_id": call.call_id,
        "provider": call.provider,
        "provider_call_id": call.provider_call_id,
        "virtual_number": call.virtual_number,
        "caller": call.caller,
        "started_at": call.started_at,
        "route": call.route.value,
        "vacancy_id": call.vacancy_id,
        "employer_id": call.employer_id,
        "real_number": call.real_number,
        "spam_reason": call.spam_reason.value if call.spam_reason else None,
        "dial_status": call.dial_status.value if call.dial_status else None,
        "mark": call.mark.value if call.mark else None,
        "talk_seconds": call.talk_seconds,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "recording_url": call.recording_url,
        "candidate_id": who.candidate_id if who else None,
        "candidate_name": who.name if who else None,
        "candidate_resume_url": who.resume_url if who else None,
        "response_id": call.response_id,
        "is_spam": call.route is CallRoute.SPAM,
        "is_missed": call.missed,
        "has_resume": call.has_resume,
    }


def _call(row: Mapping[Any, Any]) -> Call:
    candidate = None
    if row["candidate_id"] is not None:
        candidate = Candidate(
            row["candidate_id"], row["candidate_name"], row["candidate_resume_url"]
        )
    return Call(
        call_id=row["call_id"],
        provider=row["provider"],
        provider_call_id=row["provider_call_id"],
        virtual_number=row["virtual_number"],
        caller=row["caller"],
        started_at=row["started_at"],
        route=CallRoute(row["route"]),
        vacancy_id=row["vacancy_id"],
        employer_id=row["employer_id"],
        real_number=row["real_number"],
        spam_reason=SpamReason(row["spam_reason"]) if row["spam_reason"] else None,
        dial_status=DialStatus(row["dial_status"]) if row["dial_status"] else None,
        mark=Mark(row["mark"]) if row["mark"] else None,
        talk_seconds=row["talk_seconds"],
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        recording_url=row["recording_url"],
        candidate=candidate,
        response_id=row["response_id"],
    )


def _response_values(response: Response) -> dict[str, Any]:
    return {
        "response_id": response.response_id,
        "vacancy_id": response.vacancy_id,
        "employer_id": response.employer_id,
        "candidate_id": response.candidate.candidate_id,
        "candidate_name": response.candidate.name,
        "candidate_resume_url": response.candidate.resume_url,
        "phone": response.phone,
        "mark": response.mark.value,
        "status": response.status.value,
        "created_at": response.created_at,
        "updated_at": response.updated_at,
        "calls": response.calls,
        "folder": response.folder.value,
        "source": response.source,
    }


def _response(row: Mapping[Any, Any]) -> Response:
    return Response(
        response_id=row["response_id"],
        vacancy_id=row["vacancy_id"],
        employer_id=row["employer_id"],
        candidate=Candidate(
            row["candidate_id"], row["candidate_name"], row["candidate_resume_url"]
        ),
        phone=row["phone"],
        mark=Mark(row["mark"]),
        status=ResponseStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        calls=row["calls"],
        folder=Folder(row["folder"]),
        source=row["source"],
    )


def _number(row: Mapping[Any, Any]) -> PoolNumber:
    return PoolNumber(
        number=row["number"],
        provider=row["provider"],
        country=row["country"],
        area=row["area"],
        idle_since=row["idle_since"],
        available_from=row["available_from"],
        assigned=bool(row["assigned"]),
    )


def _assignment(row: Mapping[Any, Any]) -> Assignment:
    return Assignment(
        vacancy_id=row["vacancy_id"],
        employer_id=row["employer_id"],
        real_number=row["real_number"],
        virtual_number=row["virtual_number"],
        assigned_at=row["assigned_at"],
        released_at=row["released_at"],
    )


def _notification(row: Mapping[Any, Any]) -> Notification:
    return Notification(
        notification_id=row["notification_id"],
        response_id=row["response_id"],
        candidate_id=row["candidate_id"],
        phone=row["phone"],
        vacancy_id=row["vacancy_id"],
        vacancy_title=row["vacancy_title"],
        text=row["text"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


_FREE = sa.text("NOT assigned")  # the predicate of the partial indexes on free numbers
_PENDING = sa.text("sent_at IS NULL")  # the predicate of the pending notifications' index


_NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _routing_query(a: sa.Table, v: sa.Table, c: sa.Table) -> sa.Select[Any]:
    """The number's latest assignment, its vacancy and the caller's recent calls, at once.

    One row per recent call of the caller (history columns ``h_*``), or one row with them
    NULL; none if the number was never assigned.
    """
    latest = (
        sa.select(a)
        .where(a.c.virtual_number == sa.bindparam("virtual_number"))
        .order_by(a.c.released_at.desc().nulls_first())
        .limit(1)
        .subquery("latest")
    )
    h = c.alias("h")
    recent = sa.and_(
        h.c.caller == sa.bindparam("caller", type_=c.c.caller.type),
        h.c.started_at > sa.bindparam("since", type_=c.c.started_at.type),
    )
    return sa.select(
        latest,
        *(col.label(f"v_{col.key}") for col in v.c),
        h.c.started_at.label("h_started_at"),
        h.c.vacancy_id.label("h_vacancy_id"),
    ).select_from(latest.outerjoin(v, v.c.vacancy_id == latest.c.vacancy_id).outerjoin(h, recent))


@attrs.frozen
class _Hot:
    """The statements webhooks run, compiled once per storage (see :mod:`._driver`)."""

    get_call: Prepared
    add_call: Prepared
    update_call: Prepared
    calls_from: Prepared
    assignment_by_virtual: Prepared
    routing_for: Prepared
    get_vacancy: Prepared
    get_number: Prepared
    claim_event: Prepared
    get_response: Prepared
    add_response: Prepared
    update_response: Prepared
    add_notification: Prepared

    @classmethod
    def compile(cls, dialect: Dialect) -> _Hot:
        """Build and compile every hot statement for ``dialect``."""
        pg = dialect.name == "postgresql"
        insert = postgresql.insert if pg else sqlite.insert
        c, r = s.calls, s.responses

        def locked(query: sa.Select[Any]) -> sa.Select[Any]:
            # Lock the row read, on PostgreSQL, until the transaction ends.
            return query.with_for_update() if pg else query

        def every(table: sa.Table, *, but: str = "") -> dict[str, sa.BindParameter[Any]]:
            return {k.key: sa.bindparam(k.key, type_=k.type) for k in table.c if k.key != but}

        def key(column: sa.Column[Any]) -> sa.ColumnElement[bool]:
            return column == sa.bindparam(column.key)

        a, v = s.assignments, s.vacancies
        n, e, pn = s.notifications, s.events, s.pool_numbers
        statements = {
            "get_call": locked(sa.select(c).where(key(c.c.call_id))),
            # No RETURNING: the row count says whether it went in, and SQLite is spared a
            # second step (each step gives up the GIL and waits to get it back).
            "add_call": insert(c)
            .values(every(c))
            .on_conflict_do_nothing(index_elements=[c.c.call_id]),
            "update_call": sa.update(c).where(key(c.c.call_id)).values(every(c, but="call_id")),
            "calls_from": sa.select(c.c.started_at, c.c.vacancy_id).where(
                key(c.c.caller), c.c.started_at > sa.bindparam("since", type_=c.c.started_at.type)
            ),
            "assignment_by_virtual": sa.select(a)
            .where(key(a.c.virtual_number))
            .order_by(a.c.released_at.desc().nulls_first())
            .limit(1),
            "routing_for": _routing_query(a, v, c),
            "get_vacancy": sa.select(v).where(key(v.c.vacancy_id)),
            "get_number": sa.select(pn).where(key(pn.c.number)),
            "claim_event": insert(e)
            .values(every(e))
            .on_conflict_do_nothing(index_elements=[e.c.key])
            .returning(e.c.key),
            "get_response": locked(sa.select(r).where(key(r.c.response_id))),
            "add_response": insert(r)
            .values(every(r))
            .on_conflict_do_nothing()
            .returning(r.c.response_id),
            "update_response": sa.update(r)
            .where(key(r.c.response_id))
            .values(every(r, but="response_id")),
            "add_notification": insert(n)
            .values(every(n))
            .on_conflict_do_nothing(index_elements=[n.c.notification_id])
            .returning(n.c.notification_id),
        }
        return cls(**{name: Prepared.compile(q, dialect) for name, q in statements.items()})


class _Rows(Protocol):
    """What a hot statement's caller reads: the driver's cursor or SQLAlchemy's result."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...  # noqa: ANN401 - a driver's row
    def fetchall(self) -> Sequence[Any]: ...


class _SqlTransaction:
    """A transaction on a :class:`SqlStorage`; see :class:`calltrack.ports.Transaction`."""

    def __init__(self, conn: Connection, shown_url: str, hot: _Hot) -> None:
        self._conn = conn
        self._shown = shown_url
        self._pg = conn.dialect.name == "postgresql"
        self._hot = hot
        self._cursor: DBAPICursor | None = None
        # Someone watches the statements (tracing, a test's fault): run hot ones in view.
        dispatch = conn.dispatch
        self._watched = bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)

    # --- helpers ----------------------------------------------------------------------
    def _fast(self, statement: Prepared, values: Mapping[str, Any]) -> _Rows:
        """Run a hot statement on the driver's cursor, translating the driver's errors.

        With SQLAlchemy's cursor events listened to, it goes through SQLAlchemy instead,
        so that those listeners see it.
        """
        if self._watched:
            try:
                return self._conn.exec_driver_sql(statement.sql, statement.parameters(values))
            except sa.exc.DBAPIError as exc:
                raise _conflict_or_error(exc, self._shown) from exc
        cursor = self._cursor
        if cursor is None:
            cursor = self._cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            statement.run(cursor, values)
        except self._conn.dialect.loaded_dbapi.Error as exc:
            raise self._driver_error(statement, exc) from exc
        return cursor

    def _driver_error(self, statement: Prepared, exc: Exception) -> StorageError:
        dialect = self._conn.dialect
        dbapi = self._conn.connection.dbapi_connection
        lost = dialect.is_disconnect(exc, dbapi, self._cursor)  # type: ignore[arg-type]
        if lost:
            self._conn.invalidate(exc)
        return _conflict_or_error(_wrapped(exc, statement.sql, dialect, lost=lost), self._shown)

    def _fast_one(self, statement: Prepared, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """Run a hot query; its one row, converted, or ``None``."""
        raw = self._fast(statement, values).fetchone()
        return statement.row(raw) if raw is not None else None

    def close(self) -> None:
        """Close the driver's cursor, if one was opened (a lost connection took it already)."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            try:
                cursor.close()
            except self._conn.dialect.loaded_dbapi.Error:
                if not self._conn.invalidated:
                    raise

    def _run(self, statement: sa.Executable, params: Any = None) -> sa.CursorResult[Any]:  # noqa: ANN401 - one dict or a list of them
        try:
            return self._conn.execute(statement, params)
        except sa.exc.DBAPIError as exc:
            raise _conflict_or_error(exc, self._shown) from exc
        except sa.exc.StatementError as exc:  # a value the column cannot take (a naive time)
            if isinstance(exc.orig, ValueError):
                raise exc.orig from None
            raise

    def _insert(self, table: sa.Table) -> Any:  # noqa: ANN401 - the dialect's Insert
        return postgresql.insert(table) if self._pg else sqlite.insert(table)

    def _rows(self, query: sa.Select[Any]) -> list[sa.RowMapping]:
        return list(self._run(query).mappings())

    # --- the pool ---------------------------------------------------------------------
    def add_numbers(self, numbers: Sequence[PoolNumber]) -> int:
        rows: dict[str, dict[str, Any]] = {}
        for number in numbers:
            if number.assigned:
                raise StorageError(f"{number.number} cannot be added as assigned")
            rows.setdefault(number.number, attrs.asdict(number))
        if not rows:
            return 0
        t = s.pool_numbers
        statement = self._insert(t).on_conflict_do_nothing().returning(t.c.number)
        return len(self._run(statement, list(rows.values())).all())

    def get_number(self, number: str) -> PoolNumber | None:
        row = self._fast_one(self._hot.get_number, {"number": number})
        return _number(row) if row is not None else None

    def _first_free(self, country: str, area: str | None, now: datetime) -> str | None:
        t = s.pool_numbers
        query = sa.select(t.c.number).where(t.c.country == country, _FREE)
        if area is not None:
            query = query.where(t.c.area == area)
        query = query.where(t.c.available_from <= now).order_by(t.c.idle_since, t.c.number).limit(1)
        if self._pg:
            query = query.with_for_update(skip_locked=True)
        return self._run(query).scalar()

    def claim_number(self, country: str, area: str | None, now: datetime) -> PoolNumber | None:
        chosen = self._first_free(country, area, now) if area is not None else None
        if chosen is None:
            chosen = self._first_free(country, None, now)
        if chosen is None:
            return None
        t = s.pool_numbers
        row = (
            self._run(
                sa.update(t)
                .where(t.c.number == chosen, _FREE)
                .values(assigned=True)
                .returning(*t.c)
            )
            .mappings()
            .first()
        )
        if row is None:  # taken between the choice and the update: only without row locks
            raise StorageConflict(f"{chosen} was claimed by a concurrent transaction")
        return _number(row)

    def free_number(self, number: str, idle_since: datetime, available_from: datetime) -> None:
        t = s.pool_numbers
        done = self._run(
            sa.update(t)
            .where(t.c.number == number, t.c.assigned == sa.true())
            .values(assigned=False, idle_since=idle_since, available_from=available_from)
        )
        if done.rowcount != 1:
            raise StorageError(f"{number} is not an assigned number of the pool")

    def remove_number(self, number: str) -> bool:
        t = s.pool_numbers
        done = self._run(sa.delete(t).where(t.c.number == number, _FREE))
        if done.rowcount == 1:
            return True
        if self.get_number(number) is not None:
            raise StorageError(f"{number} is assigned; untrack its vacancy before removing it")
        return False

    def list_numbers(
        self, *, country: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[PoolNumber]:
        t = s.pool_numbers
        query = sa.select(t).order_by(t.c.number).limit(limit)
        if country is not None:
            query = query.where(t.c.country == country)
        if after is not None:
            query = query.where(t.c.number > after)
        return [_number(row) for row in self._rows(query)]

    def pool_counts(self, now: datetime, country: str | None = None) -> PoolCounts:
        t = s.pool_numbers
        assigned = sa.func.coalesce(
            sa.func.sum(sa.case((t.c.assigned == sa.true(), 1), else_=0)), 0
        )
        resting = sa.func.coalesce(
            sa.func.sum(
                sa.case((sa.and_(t.c.assigned == sa.false(), t.c.available_from > now), 1), else_=0)
            ),
            0,
        )
        query = sa.select(sa.func.count(), assigned, resting).select_from(t)
        if country is not None:
            query = query.where(t.c.country == country)
        total, held, quarantined = tuple(self._run(query).one())
        total, held, quarantined = int(total), int(held), int(quarantined)
        return PoolCounts(total, held, quarantined, total - held - quarantined)

    # --- vacancies and assignments ------------------------------------------------------
    def save_vacancy(self, vacancy: Vacancy) -> None:
        values = attrs.asdict(vacancy)
        statement = self._insert(s.vacancies).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[s.vacancies.c.vacancy_id],
            set_={k: v for k, v in values.items() if k != "vacancy_id"},
        )
        self._run(statement)

    def get_vacancy(self, vacancy_id: str) -> Vacancy | None:
        row = self._fast_one(self._hot.get_vacancy, {"vacancy_id": vacancy_id})
        if row is None:
            return None
        return Vacancy(row["vacancy_id"], row["employer_id"], row["title"], bool(row["tracked"]))

    def active_assignments(self, vacancy_id: str) -> list[Assignment]:
        t = s.assignments
        query = (
            sa.select(t)
            .where(t.c.vacancy_id == vacancy_id, t.c.released_at.is_(None))
            .order_by(t.c.assigned_at, t.c.real_number)
        )
        return [_assignment(row) for row in self._rows(query)]

    def add_assignment(self, assignment: Assignment) -> None:
        t = s.assignments
        statement = self._insert(t).values(attrs.asdict(assignment)).on_conflict_do_nothing()
        if self._run(statement.returning(t.c.id)).first() is not None:
            return
        holder = self.assignment_by_virtual(assignment.virtual_number)
        if holder is not None and holder.active:
            raise StorageConflict(
                f"{assignment.virtual_number} is held by vacancy {holder.vacancy_id!r}"
            )
        raise StorageConflict(
            f"vacancy {assignment.vacancy_id!r} already has a number for {assignment.real_number}"
        )

    def end_assignment(self, vacancy_id: str, real_number: str, at: datetime) -> None:
        t = s.assignments
        done = self._run(
            sa.update(t)
            .where(
                t.c.vacancy_id == vacancy_id,
                t.c.real_number == real_number,
                t.c.released_at.is_(None),
            )
            .values(released_at=at)
        )
        if done.rowcount != 1:
            raise StorageError(f"vacancy {vacancy_id!r} has no number for {real_number}")

    def assignment_by_virtual(self, number: str) -> Assignment | None:
        row = self._fast_one(self._hot.assignment_by_virtual, {"virtual_number": number})
        return _assignment(row) if row is not None else None

    def routing_for(
        self, number: str, caller: str | None = None, since: datetime | None = None
    ) -> Routing | None:
        statement = self._hot.routing_for
        if caller is None or since is None:
            caller, since = None, _NEVER  # joins no call: one row, no history
        values = {"virtual_number": number, "caller": caller, "since": since}
        rows = self._fast(statement, values).fetchall()
        if not rows:
            return None
        first = statement.row(rows[0])
        vacancy = None
        if first["v_vacancy_id"] is not None:
            vacancy = Vacancy(
                first["v_vacancy_id"],
                first["v_employer_id"],
                first["v_title"],
                bool(first["v_tracked"]),
            )
        history = tuple(
            (row["h_started_at"], row["h_vacancy_id"])
            for row in map(statement.row, rows)
            if row["h_started_at"] is not None
        )
        return Routing(_assignment(first), vacancy, history)

    # --- calls ------------------------------------------------------------------------
    def add_call(self, call: Call) -> bool:
        return self._fast(self._hot.add_call, _values(call)).rowcount == 1

    def get_call(self, call_id: str) -> Call | None:
        row = self._fast_one(self._hot.get_call, {"call_id": call_id})
        return _call(row) if row is not None else None

    def update_call(self, call: Call) -> None:
        if self._fast(self._hot.update_call, _values(call)).rowcount != 1:
            raise StorageError(f"call {call.call_id!r} is not stored")

    def calls_from(self, caller: str, since: datetime) -> list[tuple[datetime, str | None]]:
        statement = self._hot.calls_from
        rows = self._fast(statement, {"caller": caller, "since": since}).fetchall()
        return [(row["started_at"], row["vacancy_id"]) for row in map(statement.row, rows)]

    def call_page(
        self, vacancy_id: str, where: CallFilter, limit: int, after: Cursor | None
    ) -> CallPage:
        return self.scan_calls(Scope.vacancy(vacancy_id), where, Period(), limit, after)

    # --- events, responses, notifications, statistics ----------------------------------
    def claim_event(self, key: str, at: datetime) -> bool:
        return self._fast(self._hot.claim_event, {"key": key, "at": at}).fetchone() is not None

    def get_response(self, response_id: str) -> Response | None:
        row = self._fast_one(self._hot.get_response, {"response_id": response_id})
        return _response(row) if row is not None else None

    def add_response(self, response: Response) -> None:
        if self._fast(self._hot.add_response, _response_values(response)).fetchone() is None:
            raise StorageConflict(
                f"vacancy {response.vacancy_id!r} already has a response of candidate "
                f"{response.candidate.candidate_id!r}"
            )

    def update_response(self, response: Response) -> None:
        done = self._fast(self._hot.update_response, _response_values(response))
        if done.rowcount != 1:
            raise StorageError(f"response {response.response_id!r} is not stored")

    def list_responses(
        self,
        *,
        vacancy_id: str | None = None,
        employer_id: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        t = s.responses
        query = sa.select(t).order_by(t.c.created_at.desc(), t.c.response_id.desc())
        if vacancy_id is not None:
            query = query.where(t.c.vacancy_id == vacancy_id)
        if employer_id is not None:
            query = query.where(t.c.employer_id == employer_id)
        if status is not None:
            query = query.where(t.c.status == status.value)
        return [_response(row) for row in self._rows(query)]

    def add_notification(self, notification: Notification) -> bool:
        values = attrs.asdict(notification)
        return self._fast(self._hot.add_notification, values).fetchone() is not None

    def pending_notifications(self, limit: int) -> list[Notification]:
        t = s.notifications
        query = (
            sa.select(t).where(_PENDING).order_by(t.c.created_at, t.c.notification_id).limit(limit)
        )
        if self._pg:  # two workers delivering at once take different notifications
            query = query.with_for_update(skip_locked=True)
        return [_notification(row) for row in self._rows(query)]

    def set_notification_sent(self, notification_id: str, at: datetime | None) -> None:
        t = s.notifications
        done = self._run(
            sa.update(t).where(t.c.notification_id == notification_id).values(sent_at=at)
        )
        if done.rowcount != 1:
            raise StorageError(f"notification {notification_id!r} is not queued")

    def list_notifications(self) -> list[Notification]:
        t = s.notifications
        query = sa.select(t).order_by(t.c.created_at, t.c.notification_id)
        return [_notification(row) for row in self._rows(query)]

    def stats(self, *, vacancy_id: str | None = None, employer_id: str | None = None) -> CallStats:
        if (vacancy_id is None) == (employer_id is None):
            raise ValueError("stats() needs exactly one of vacancy_id and employer_id")
        c, r = s.calls, s.responses

        def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

        call_query = sa.select(
            sa.func.count(),
            sa.func.count(sa.distinct(c.c.caller)),
            count(c.c.dial_status == DialStatus.ANSWERED.value),
            count(c.c.is_missed == sa.true()),
            count(c.c.mark == Mark.NO_RESUME.value),
            count(c.c.route == CallRoute.SPAM.value),
            count(c.c.route == CallRoute.VACANCY_CLOSED.value),
        ).select_from(c)
        response_query = sa.select(
            sa.func.count(),
            count(
                sa.and_(
                    r.c.mark == Mark.MISSED_CALL.value,
                    r.c.status == ResponseStatus.PENDING.value,
                )
            ),
        ).select_from(r)
        if vacancy_id is not None:
            call_query = call_query.where(c.c.vacancy_id == vacancy_id)
            response_query = response_query.where(r.c.vacancy_id == vacancy_id)
        else:
            call_query = call_query.where(c.c.employer_id == employer_id)
            response_query = response_query.where(r.c.employer_id == employer_id)
        total, callers, answered, missed, no_resume, spam, closed = tuple(
            self._run(call_query).one()
        )
        made, pending = tuple(self._run(response_query).one())
        return CallStats(
            calls=int(total),
            unique_callers=int(callers),
            answered=int(answered),
            missed=int(missed),
            missed_pending=int(pending),
            responses=int(made),
            no_resume=int(no_resume),
            spam_blocked=int(spam),
            after_close=int(closed),
        )

    # --- analytics: aggregates and scans live in _sql_analytics -------------------------
    def call_analytics(self, scope: Scope, period: Period) -> CallAnalytics:
        return _sql_analytics.call_analytics(self._run, scope, period, postgres=self._pg)

    def vacancy_metrics(self, employer_id: str, period: Period) -> dict[str, CallMetrics]:
        return _sql_analytics.vacancy_metrics(self._run, employer_id, period, postgres=self._pg)

    def scan_calls(
        self,
        scope: Scope,
        where: CallFilter,
        period: Period,
        limit: int,
        after: Cursor | None,
    ) -> CallPage:
        return _sql_analytics.scan_calls(
            self._run,
            _call,
            scope,
            where=where,
            period=period,
            limit=limit,
            after=after,
            postgres=self._pg,
        )


class SqlStorage:
    """Storage in SQLite or PostgreSQL; see :class:`calltrack.ports.Storage`.

    Making one opens nothing: the first transaction connects, and checks once that the
    database's schema is the one this code needs.

    Args:
        url: ``sqlite:///path/to/file.db`` or ``postgresql://user:password@host/dbname``
            (any ``postgresql`` URL is served by psycopg 3).
        busy_timeout: SQLite: seconds a transaction waits for another writer to finish.
        lock_timeout: PostgreSQL: seconds a statement waits for a row lock.
        connect_timeout: PostgreSQL: seconds to wait for the server to answer.
        pool_size: Connections kept open per process.
        check_schema: Refuse to work on a database whose schema is not current.

    Raises:
        ConfigurationError: If the URL is not a SQLite file or PostgreSQL URL.
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 30.0,
        lock_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        pool_size: int = 5,
        check_schema: bool = True,
    ) -> None:
        """Make the engine; nothing is connected yet."""
        self._url = _parse_url(url)
        self.url = mask_url(url)
        self._check = check_schema
        self._checked = False
        self._lock = threading.Lock()
        self._hot: _Hot | None = None
        # SQLite: this process's threads queue here for the write lock, and each gets in the
        # moment the previous one commits; waiting in SQLite's busy handler instead means
        # sleeping in steps of up to 100 ms, whatever the lock holder does.
        sqlite_file = self._url.get_backend_name() == "sqlite"
        self._writer = threading.RLock() if sqlite_file else None
        self._pinned: Connection | None = None
        self._pinned_pid = 0
        self._pinned_busy = False
        self._busy_timeout = busy_timeout
        self.engine = self._make_engine(busy_timeout, lock_timeout, connect_timeout, pool_size)

    def __repr__(self) -> str:
        """Show the URL, password masked."""
        return f"<SqlStorage {self.url}>"

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def _make_engine(
        self, busy_timeout: float, lock_timeout: float, connect_timeout: float, pool_size: int
    ) -> Engine:
        if self._url.get_backend_name() == "sqlite":
            engine = sa.create_engine(
                self._url,
                connect_args={"timeout": busy_timeout},
                pool_size=pool_size,
            )
            event.listen(engine, "connect", _sqlite_connected)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        options = f"-c lock_timeout={int(lock_timeout * 1000)}"
        engine = sa.create_engine(
            self._url,
            connect_args={"connect_timeout": max(1, round(connect_timeout)), "options": options},
            pool_size=pool_size,
        )
        event.listen(engine, "checkin", _rested)
        event.listen(engine, "checkout", _IdlePing(engine.dialect))
        return engine

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except sa.exc.DBAPIError as exc:
            error = _conflict_or_error(exc, self.url)
            if isinstance(error, StorageConflict):
                raise error from exc
            raise StorageUnavailable(
                f"cannot connect to the database {self.url}: {str(exc.orig).strip()}"
            ) from exc

    def _ensure_schema(self, conn: Connection) -> None:
        if self._checked or not self._check:
            return
        with self._lock:
            found = _current_revision(conn, self.url)
            needed = s.SCHEMA_REVISION
            if found != needed:
                known = found is None or found in _revisions()
                raise SchemaOutOfDate(self.url, found, needed, newer=not known)
            self._checked = True

    def check_schema(self) -> None:
        """Check now that the database's schema is the one this code needs.

        Raises:
            SchemaOutOfDate: If it is not, naming the command that upgrades it.
            StorageUnavailable: If the database cannot be reached.
        """
        self._checked = False
        with self._connect() as conn:
            self._ensure_schema(conn)

    @property
    def path(self) -> Path | None:
        """The SQLite file, made absolute; ``None`` on PostgreSQL."""
        if self.dialect != "sqlite" or not self._url.database:
            return None
        return Path(self._url.database).resolve()

    @contextmanager
    def transaction(self) -> Iterator[_SqlTransaction]:
        """Begin a unit of work; see :meth:`calltrack.ports.Storage.transaction`.

        Raises:
            StorageUnavailable: If the database cannot be reached.
            SchemaOutOfDate: If its schema is not the one this code needs.
            StorageConflict: If a concurrent transaction got in the way.
        """
        writer = self._writer
        if writer is None:
            with self._connect() as conn, self._unit_of_work(conn) as tx:
                yield tx
            return
        if not writer.acquire(timeout=max(self._busy_timeout, 0.0)):
            raise StorageConflict(
                f"the database {self.url} is busy: another thread of this process held it "
                f"for longer than the busy timeout ({self._busy_timeout:g} s)"
            )
        try:
            pinned = self._take_pinned()
            if pinned is None:  # a unit of work nested in another on this thread
                with self._connect() as own, self._unit_of_work(own) as tx:
                    yield tx
                return
            try:
                with self._unit_of_work(pinned) as tx:
                    yield tx
            finally:
                self._give_back_pinned(pinned)
        finally:
            writer.release()

    def _take_pinned(self) -> Connection | None:
        """SQLite: the connection units of work share, held under the writer lock.

        One unit of work at a time writes to a SQLite file, so one connection serves them
        all and the pool's checkout and reset are skipped. ``None`` while it is in use by an
        enclosing unit of work of the same thread. A connection made before a ``fork`` is
        left to the parent.
        """
        pinned = self._pinned
        if pinned is not None and self._pinned_pid != os.getpid():
            pinned = self._pinned = None
        if pinned is None:
            pinned = self._pinned = self._connect()
            self._pinned_pid = os.getpid()
        elif self._pinned_busy:
            return None
        self._pinned_busy = True
        return pinned

    def _give_back_pinned(self, conn: Connection) -> None:
        self._pinned_busy = False
        if conn.invalidated or conn.closed:
            self._pinned = None
            conn.close()

    @contextmanager
    def _unit_of_work(self, conn: Connection) -> Iterator[_SqlTransaction]:
        self._ensure_schema(conn)
        hot = self._hot
        if hot is None:  # compiled after the first connection has set the dialect up
            hot = self._hot = _Hot.compile(conn.dialect)
        try:
            conn.begin()
        except sa.exc.DBAPIError as exc:
            raise _conflict_or_error(exc, self.url) from exc
        except conn.dialect.loaded_dbapi.Error as exc:  # from _sqlite_begin
            wrapped = _wrapped(exc, "BEGIN IMMEDIATE", conn.dialect)
            raise _conflict_or_error(wrapped, self.url) from exc
        tx = _SqlTransaction(conn, self.url, hot)
        try:
            yield tx
        except BaseException:
            tx.close()
            _quiet_rollback(conn)
            raise
        tx.close()
        try:
            conn.commit()
        except sa.exc.DBAPIError as exc:
            _quiet_rollback(conn)
            raise _conflict_or_error(exc, self.url) from exc

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the database's schema to ``revision`` (the newest by default).

        Raises:
            StorageUnavailable: If the database cannot be reached.
        """
        from alembic import command  # noqa: PLC0415 - only migrations need Alembic

        with self._connect() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            try:
                command.upgrade(config, revision)
                conn.commit()
            except sa.exc.DBAPIError as exc:
                raise _conflict_or_error(exc, self.url) from exc
        self._checked = False

    def current_revision(self) -> str | None:
        """The schema revision the database is at; ``None`` if it has no calltrack schema.

        Raises:
            StorageUnavailable: If the database cannot be reached.
        """
        with self._connect() as conn:
            return _current_revision(conn, self.url)

    def is_new(self) -> bool:
        """Whether the database has no tables at all (a new, empty file or database).

        Raises:
            StorageUnavailable: If the database cannot be reached.
        """
        with self._connect() as conn:
            try:
                return not sa.inspect(conn).get_table_names()
            except sa.exc.DBAPIError as exc:
                raise _conflict_or_error(exc, self.url) from exc

    def close(self) -> None:
        """Close every pooled connection."""
        pinned, self._pinned = self._pinned, None
        if pinned is not None and self._pinned_pid == os.getpid():
            pinned.close()
        self.engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (the newest by default).

    The same as ``calltrack db upgrade --db URL``.

    Raises:
        ConfigurationError: If the URL is not a SQLite file or PostgreSQL URL.
        StorageUnavailable: If the database cannot be reached.
    """
    storage = SqlStorage(url, check_schema=False)
    try:
        storage.upgrade(revision)
    finally:
        storage.close()


def _alembic_config() -> Any:  # noqa: ANN401 - alembic.config.Config, imported lazily
    from alembic.config import Config  # noqa: PLC0415 - only migrations need Alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _revisions() -> set[str]:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - only migrations need Alembic

    script = ScriptDirectory.from_config(_alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _current_revision(conn: Connection, shown: str) -> str | None:
    try:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        found = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError as exc:
        raise _conflict_or_error(exc, shown) from exc
    finally:
        if conn.in_transaction():
            conn.rollback()
    return str(found) if found is not None else None


def _quiet_rollback(conn: Connection) -> None:
    """Roll back, ignoring a connection that is already broken."""
    try:
        conn.rollback()
    except sa.exc.DBAPIError:
        conn.invalidate()


PING_AFTER = 2.0
"""PostgreSQL: seconds a pooled connection may rest before it is checked on checkout."""


def _rested(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
    """Note when a connection went back to the pool."""
    del dbapi_connection
    record.info["rested_at"] = time.monotonic()


@attrs.frozen
class _IdlePing:
    """Check a pooled connection that rested a while, so a restarted server costs no error.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip per unit of work.
    A connection in steady use is known alive; one that rested may have been closed by the
    server, a proxy or a restart, and is pinged, then replaced if it does not answer.
    """

    dialect: Dialect

    def __call__(
        self, dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, proxy: object
    ) -> None:
        """Ping the connection if it rested longer than :data:`PING_AFTER`.

        Raises:
            sqlalchemy.exc.DisconnectionError: If it does not answer (the pool reconnects).
        """
        del proxy
        rested = record.info.get("rested_at")
        if rested is None or time.monotonic() - rested < PING_AFTER:
            return
        try:
            self.dialect.do_ping(dbapi_connection)
        except self.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc


def _sqlite_connected(dbapi_connection: Any, record: object) -> None:  # noqa: ANN401 - sqlite3.Connection
    """Set up a new SQLite connection: calltrack issues BEGIN itself; WAL; foreign keys."""
    del record
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Take the write lock at the start, so a unit of work never reads stale data.

    Sent on the driver's connection: through SQLAlchemy it costs more than it takes SQLite.
    """
    conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
