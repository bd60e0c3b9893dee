"""emergency access (break the glass), and drafts only while their task is open

A new table for the grants. Drafts of tasks already completed or cancelled are cleared: a
draft is a step towards what was then recorded, and kept it was a second, unchecked copy of
the form that could still hold what the record redacts (the reporter). Only those rows are
rewritten.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergency_access",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "notice_due_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("noticed_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_emergency_access_case_id", "emergency_access", ["case_id"])
    op.create_index("ix_emergency_access_user", "emergency_access", ["user_id", "expires_at"])
    op.create_index(
        "ix_emergency_access_notice", "emergency_access", ["noticed_at", "notice_due_at"]
    )
    tasks = sa.table(
        "human_tasks",
        sa.column("status", sa.String),
        sa.column("draft", sa.JSON),
        sa.column("draft_saved_by", sa.String),
    )
    op.execute(
        tasks.update()
        .where(
            tasks.c.status != "ready",
            sa.or_(tasks.c.draft.is_not(None), tasks.c.draft_saved_by.is_not(None)),
        )
        .values(draft=sa.null(), draft_saved_by=None)
    )


def downgrade() -> None:
    op.drop_index("ix_emergency_access_notice", table_name="emergency_access")
    op.drop_index("ix_emergency_access_user", table_name="emergency_access")
    op.drop_index("ix_emergency_access_case_id", table_name="emergency_access")
    op.drop_table("emergency_access")
