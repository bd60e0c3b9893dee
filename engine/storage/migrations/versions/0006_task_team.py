"""tasks carry their case's team, so a team's worklist reads one index in due order

The backfill rewrites every task row in one transaction: run it in a release window. Tasks
that an older release inserts afterwards have no team and miss the team view until this
release runs (their cases are unaffected).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE human_tasks SET team = "
        "(SELECT cases.team FROM cases WHERE cases.id = human_tasks.case_id)"
    )
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_human_tasks_team", ["team", "status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_team")
        batch_op.drop_column("team")
