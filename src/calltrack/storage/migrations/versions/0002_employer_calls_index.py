"""Index an employer's calls by time, for analytics and exports over all their vacancies.

The new index (employer_id, started_at, call_id) serves everything the one on employer_id
alone did, so that one is dropped.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        op.f("ix_calls_employer_id_started_at_call_id"),
        "calls",
        ["employer_id", "started_at", "call_id"],
        unique=False,
    )
    op.drop_index(op.f("ix_calls_employer_id"), table_name="calls")


def downgrade() -> None:
    """Undo this revision."""
    op.create_index(op.f("ix_calls_employer_id"), "calls", ["employer_id"], unique=False)
    op.drop_index(op.f("ix_calls_employer_id_started_at_call_id"), table_name="calls")
