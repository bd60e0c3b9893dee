"""by when a referral's provider should answer, and when its worker was told it had not

Two nullable columns on referrals and an index to find the unanswered; nothing existing is
rewritten (a referral made before has no answer date and raises no alert).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_INSTANT = engine.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.add_column(sa.Column("answer_due_at", _INSTANT, nullable=True))
        batch_op.add_column(sa.Column("alerted_at", _INSTANT, nullable=True))
    op.create_index("ix_referrals_unanswered", "referrals", ["status", "answer_due_at"])


def downgrade() -> None:
    op.drop_index("ix_referrals_unanswered", table_name="referrals")
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.drop_column("alerted_at")
        batch_op.drop_column("answer_due_at")
