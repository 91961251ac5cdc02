"""Make the Calls folder's "missed" and "with resume" indexes partial.

(vacancy_id, is_missed, started_at, call_id) and (vacancy_id, has_resume, started_at,
call_id) only ever served queries for missed calls and calls with a resume. They become
(vacancy_id, started_at, call_id) WHERE is_missed / WHERE has_resume: smaller, still serving
their filters, and not written at all when an inbound call is inserted (a new call is
neither missed nor with a resume yet). Each predicate is spelt the way the Calls folder's
query renders the filter on that database, which SQLite needs to use a partial index.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Index name, flag column, for the two filters.
_PARTIAL = [
    ("ix_calls_missed_vacancy_id_started_at_call_id", "is_missed"),
    ("ix_calls_with_resume_vacancy_id_started_at_call_id", "has_resume"),
]


def upgrade() -> None:
    """Apply this revision."""
    for name, flag in _PARTIAL:
        op.create_index(
            name,
            "calls",
            ["vacancy_id", "started_at", "call_id"],
            unique=False,
            sqlite_where=sa.text(f"{flag} = 1"),
            postgresql_where=sa.text(f"{flag} = true"),
        )
        op.drop_index(op.f(f"ix_calls_vacancy_id_{flag}_started_at_call_id"), table_name="calls")


def downgrade() -> None:
    """Undo this revision."""
    for name, flag in _PARTIAL:
        op.create_index(
            op.f(f"ix_calls_vacancy_id_{flag}_started_at_call_id"),
            "calls",
            ["vacancy_id", flag, "started_at", "call_id"],
            unique=False,
        )
        op.drop_index(name, table_name="calls")
