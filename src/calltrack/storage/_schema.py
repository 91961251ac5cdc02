"""The tables of :class:`~calltrack.storage.sql.SqlStorage`, declared with SQLAlchemy Core.

The migrations in :mod:`calltrack.storage.migrations` build exactly this schema; a test
compares the migrated database with :data:`metadata`.

Enums are stored as their string values (no database enum types, so adding a value needs
no migration). Times are stored in UTC (see :class:`UtcDateTime`). The Calls folder's
filters are stored as flag columns (``is_spam``, ``is_missed``, ``has_resume``) kept in step
with the call, so every filter is an equality on an indexed column or a partial index's
predicate.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "SCHEMA_REVISION",
    "UtcDateTime",
    "assignments",
    "calls",
    "events",
    "metadata",
    "notifications",
    "pool_numbers",
    "responses",
    "vacancies",
]

SCHEMA_REVISION = "0003"
"""The migration revision this code's schema corresponds to (the Alembic head)."""

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps ``timestamp with time zone``; SQLite keeps the UTC wall time as text,
    which sorts in time order. Naive datetimes are refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive UTC for SQLite).

        Raises:
            ValueError: For a naive datetime.
        """
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"calltrack stores timezone-aware datetimes only, not {value!r}")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ANN401 - whatever the driver returns
        """Return an aware UTC datetime."""
        del dialect
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _where(predicate: str, *, postgresql: str | None = None) -> dict[str, Any]:
    """Make an index partial: only rows where ``predicate`` holds.

    ``postgresql`` gives PostgreSQL its own spelling of the predicate, where the two
    dialects write a query's term differently. SQLite uses a partial index only when the
    query's WHERE holds the predicate's terms exactly as written here.
    """
    return {
        "sqlite_where": sa.text(predicate),
        "postgresql_where": sa.text(postgresql if postgresql is not None else predicate),
    }


# The Calls folder's indexes, one per filter. The missed and with-resume ones are partial:
# a call is inserted neither missed nor with a resume, so the inbound webhook's insert
# touches neither; their rows get in when the dial result is stored. Their predicates are
# the folder query's terms as each dialect renders them (``is_missed = 1`` on SQLite,
# ``is_missed = true`` on PostgreSQL; see ``_sql_analytics.scan_calls``).
FOLDER_ALL = "ix_calls_vacancy_id_started_at_call_id"
FOLDER_NO_SPAM = "ix_calls_vacancy_id_is_spam_started_at_call_id"
FOLDER_MISSED = "ix_calls_missed_vacancy_id_started_at_call_id"
FOLDER_RESUME = "ix_calls_with_resume_vacancy_id_started_at_call_id"

_ID = sa.String(255)
_PHONE = sa.String(32)
_WORD = sa.String(32)

pool_numbers = sa.Table(
    "pool_numbers",
    metadata,
    sa.Column("number", _PHONE, primary_key=True),
    sa.Column("provider", _WORD, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("area", sa.String(16), nullable=True),
    sa.Column("idle_since", UtcDateTime(), nullable=False),
    sa.Column("available_from", UtcDateTime(), nullable=False),
    sa.Column("assigned", sa.Boolean(create_constraint=False), nullable=False),
    # claim_number: the free numbers of a country (and area), idle longest first.
    sa.Index(None, "country", "area", "idle_since", "number", **_where("NOT assigned")),
    sa.Index(None, "country", "idle_since", "number", **_where("NOT assigned")),
)

vacancies = sa.Table(
    "vacancies",
    metadata,
    sa.Column("vacancy_id", _ID, primary_key=True),
    sa.Column("employer_id", _ID, nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("tracked", sa.Boolean(create_constraint=False), nullable=False),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("vacancy_id", _ID, nullable=False),
    sa.Column("employer_id", _ID, nullable=False),
    sa.Column("real_number", _PHONE, nullable=False),
    sa.Column("virtual_number", _PHONE, nullable=False),
    sa.Column("assigned_at", UtcDateTime(), nullable=False),
    sa.Column("released_at", UtcDateTime(), nullable=True),
    # The invariants: one active assignment per virtual number and per (vacancy, phone).
    sa.Index(
        "uq_assignments_active_virtual",
        "virtual_number",
        unique=True,
        **_where("released_at IS NULL"),
    ),
    sa.Index(
        "uq_assignments_active_phone",
        "vacancy_id",
        "real_number",
        unique=True,
        **_where("released_at IS NULL"),
    ),
    # Routing: the active assignment of a number, else its latest released one.
    sa.Index(None, "virtual_number", "released_at"),
)

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", _ID, primary_key=True),
    sa.Column("provider", _WORD, nullable=False),
    sa.Column("provider_call_id", _ID, nullable=False),
    sa.Column("virtual_number", _ID, nullable=False),
    sa.Column("caller", _PHONE, nullable=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("route", _WORD, nullable=False),
    sa.Column("vacancy_id", _ID, nullable=True),
    sa.Column("employer_id", _ID, nullable=True),
    sa.Column("real_number", _PHONE, nullable=True),
    sa.Column("spam_reason", _WORD, nullable=True),
    sa.Column("dial_status", _WORD, nullable=True),
    sa.Column("mark", _WORD, nullable=True),
    sa.Column("talk_seconds", sa.Integer(), nullable=False),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("recording_url", sa.Text(), nullable=True),
    sa.Column("candidate_id", _ID, nullable=True),
    sa.Column("candidate_name", sa.Text(), nullable=True),
    sa.Column("candidate_resume_url", sa.Text(), nullable=True),
    sa.Column("response_id", _ID, nullable=True),
    # The Calls folder's filters, stored so that each is an indexed equality.
    sa.Column("is_spam", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("is_missed", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("has_resume", sa.Boolean(create_constraint=False), nullable=False),
    # The Calls folder, newest first: everything, spam hidden, missed only, with resume only.
    sa.Index(FOLDER_ALL, "vacancy_id", "started_at", "call_id"),
    sa.Index(FOLDER_NO_SPAM, "vacancy_id", "is_spam", "started_at", "call_id"),
    sa.Index(
        FOLDER_MISSED,
        "vacancy_id",
        "started_at",
        "call_id",
        **_where("is_missed = 1", postgresql="is_missed = true"),
    ),
    sa.Index(
        FOLDER_RESUME,
        "vacancy_id",
        "started_at",
        "call_id",
        **_where("has_resume = 1", postgresql="has_resume = true"),
    ),
    # Statistics, analytics and exports of an employer, in time order (a vacancy's use the
    # folder indexes).
    sa.Index(None, "employer_id", "started_at", "call_id"),
    # The spam policy's history of a caller.
    sa.Index(None, "caller", "started_at"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
)

responses = sa.Table(
    "responses",
    metadata,
    sa.Column("response_id", _ID, primary_key=True),
    sa.Column("vacancy_id", _ID, nullable=False),
    sa.Column("employer_id", _ID, nullable=False),
    sa.Column("candidate_id", _ID, nullable=False),
    sa.Column("candidate_name", sa.Text(), nullable=False),
    sa.Column("candidate_resume_url", sa.Text(), nullable=True),
    sa.Column("phone", _PHONE, nullable=False),
    sa.Column("mark", _WORD, nullable=False),
    sa.Column("status", _WORD, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("calls", sa.Integer(), nullable=False),
    sa.Column("folder", _WORD, nullable=False),
    sa.Column("source", _WORD, nullable=False),
    sa.UniqueConstraint("vacancy_id", "candidate_id"),
    sa.Index(None, "employer_id", "created_at"),
    sa.Index(None, "status", "created_at"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", _ID, primary_key=True),
    sa.Column("response_id", _ID, nullable=False),
    sa.Column("candidate_id", _ID, nullable=False),
    sa.Column("phone", _PHONE, nullable=False),
    sa.Column("vacancy_id", _ID, nullable=False),
    sa.Column("vacancy_title", sa.Text(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Index(None, "created_at", "notification_id", **_where("sent_at IS NULL")),
)
