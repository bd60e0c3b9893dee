"""caseload counts from an index: cases by (assigned_to, status)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_assigned_status", ["assigned_to", "status"], unique=False)
        batch_op.drop_index("ix_cases_assigned_to")


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_assigned_to", ["assigned_to"], unique=False)
        batch_op.drop_index("ix_cases_assigned_status")
