"""an instance's finished tasks are stored once, each in a row of its own

A step used to rewrite the whole engine state of its instance, every finished task of it
included, so a step cost as much as the instance's history. Existing instances keep their
state as it is: their finished tasks move to rows at their next step.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "finished_tasks",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("tree", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("instance_id", "task_id"),
    )
    op.create_index("ix_finished_tasks_case_id", "finished_tasks", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_finished_tasks_case_id", table_name="finished_tasks")
    op.drop_table("finished_tasks")
