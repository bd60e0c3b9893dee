"""sign-in throttle and server-side web sessions: failed passwords are counted per user name in
one row that every attempt updates atomically, and a web session is a row that sign-out ends

Both tables are new: nothing existing is locked or rewritten. Cookies signed before this
migration carry no session id and sign no one in: everyone signs in once more.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "window_started_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("locked_until", engine.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_name"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))

    op.drop_table("web_sessions")
    op.drop_table("sign_in_throttle")
