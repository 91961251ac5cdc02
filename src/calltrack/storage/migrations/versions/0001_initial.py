"""The first schema: pool, assignments, calls, events, responses, notifications.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "assignments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vacancy_id", sa.String(length=255), nullable=False),
        sa.Column("employer_id", sa.String(length=255), nullable=False),
        sa.Column("real_number", sa.String(length=32), nullable=False),
        sa.Column("virtual_number", sa.String(length=32), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(
        op.f("ix_assignments_virtual_number_released_at"),
        "assignments",
        ["virtual_number", "released_at"],
        unique=False,
    )
    op.create_index(
        "uq_assignments_active_phone",
        "assignments",
        ["vacancy_id", "real_number"],
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_index(
        "uq_assignments_active_virtual",
        "assignments",
        ["virtual_number"],
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )

    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_call_id", sa.String(length=255), nullable=False),
        sa.Column("virtual_number", sa.String(length=255), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("vacancy_id", sa.String(length=255), nullable=True),
        sa.Column("employer_id", sa.String(length=255), nullable=True),
        sa.Column("real_number", sa.String(length=32), nullable=True),
        sa.Column("spam_reason", sa.String(length=32), nullable=True),
        sa.Column("dial_status", sa.String(length=32), nullable=True),
        sa.Column("mark", sa.String(length=32), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recording_url", sa.Text(), nullable=True),
        sa.Column("candidate_id", sa.String(length=255), nullable=True),
        sa.Column("candidate_name", sa.Text(), nullable=True),
        sa.Column("candidate_resume_url", sa.Text(), nullable=True),
        sa.Column("response_id", sa.String(length=255), nullable=True),
        sa.Column("is_spam", sa.Boolean(), nullable=False),
        sa.Column("is_missed", sa.Boolean(), nullable=False),
        sa.Column("has_resume", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
    )
    op.create_index(
        op.f("ix_calls_caller_started_at"), "calls", ["caller", "started_at"], unique=False
    )
    op.create_index(op.f("ix_calls_employer_id"), "calls", ["employer_id"], unique=False)
    op.create_index(
        op.f("ix_calls_vacancy_id_has_resume_started_at_call_id"),
        "calls",
        ["vacancy_id", "has_resume", "started_at", "call_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_calls_vacancy_id_is_missed_started_at_call_id"),
        "calls",
        ["vacancy_id", "is_missed", "started_at", "call_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_calls_vacancy_id_is_spam_started_at_call_id"),
        "calls",
        ["vacancy_id", "is_spam", "started_at", "call_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_calls_vacancy_id_started_at_call_id"),
        "calls",
        ["vacancy_id", "started_at", "call_id"],
        unique=False,
    )

    op.create_table(
        "events",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_events")),
    )
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.String(length=255), nullable=False),
        sa.Column("response_id", sa.String(length=255), nullable=False),
        sa.Column("candidate_id", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("vacancy_id", sa.String(length=255), nullable=False),
        sa.Column("vacancy_title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_notifications")),
    )
    op.create_index(
        op.f("ix_notifications_created_at_notification_id"),
        "notifications",
        ["created_at", "notification_id"],
        unique=False,
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )

    op.create_table(
        "pool_numbers",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("area", sa.String(length=16), nullable=True),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_pool_numbers")),
    )
    op.create_index(
        op.f("ix_pool_numbers_country_area_idle_since_number"),
        "pool_numbers",
        ["country", "area", "idle_since", "number"],
        unique=False,
        sqlite_where=sa.text("NOT assigned"),
        postgresql_where=sa.text("NOT assigned"),
    )
    op.create_index(
        op.f("ix_pool_numbers_country_idle_since_number"),
        "pool_numbers",
        ["country", "idle_since", "number"],
        unique=False,
        sqlite_where=sa.text("NOT assigned"),
        postgresql_where=sa.text("NOT assigned"),
    )

    op.create_table(
        "responses",
        sa.Column("response_id", sa.String(length=255), nullable=False),
        sa.Column("vacancy_id", sa.String(length=255), nullable=False),
        sa.Column("employer_id", sa.String(length=255), nullable=False),
        sa.Column("candidate_id", sa.String(length=255), nullable=False),
        sa.Column("candidate_name", sa.Text(), nullable=False),
        sa.Column("candidate_resume_url", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("mark", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_responses")),
        sa.UniqueConstraint(
            "vacancy_id", "candidate_id", name=op.f("uq_responses_vacancy_id_candidate_id")
        ),
    )
    op.create_index(
        op.f("ix_responses_employer_id_created_at"),
        "responses",
        ["employer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_responses_status_created_at"), "responses", ["status", "created_at"], unique=False
    )

    op.create_table(
        "vacancies",
        sa.Column("vacancy_id", sa.String(length=255), nullable=False),
        sa.Column("employer_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("vacancy_id", name=op.f("pk_vacancies")),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("vacancies")
    op.drop_index(op.f("ix_responses_status_created_at"), table_name="responses")
    op.drop_index(op.f("ix_responses_employer_id_created_at"), table_name="responses")

    op.drop_table("responses")
    op.drop_index(
        op.f("ix_pool_numbers_country_idle_since_number"),
        table_name="pool_numbers",
        sqlite_where=sa.text("NOT assigned"),
        postgresql_where=sa.text("NOT assigned"),
    )
    op.drop_index(
        op.f("ix_pool_numbers_country_area_idle_since_number"),
        table_name="pool_numbers",
        sqlite_where=sa.text("NOT assigned"),
        postgresql_where=sa.text("NOT assigned"),
    )

    op.drop_table("pool_numbers")
    op.drop_index(
        op.f("ix_notifications_created_at_notification_id"),
        table_name="notifications",
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )

    op.drop_table("notifications")
    op.drop_table("events")
    op.drop_index(op.f("ix_calls_vacancy_id_started_at_call_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_vacancy_id_is_spam_started_at_call_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_vacancy_id_is_missed_started_at_call_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_vacancy_id_has_resume_started_at_call_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_employer_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_caller_started_at"), table_name="calls")

    op.drop_table("calls")
    op.drop_index(
        "uq_assignments_active_virtual",
        table_name="assignments",
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_index(
        "uq_assignments_active_phone",
        table_name="assignments",
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_index(op.f("ix_assignments_virtual_number_released_at"), table_name="assignments")

    op.drop_table("assignments")
