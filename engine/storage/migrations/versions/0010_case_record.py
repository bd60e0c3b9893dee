"""the case record: what completed tasks recorded, with event and entry time; whom per-child
work is for; when deadline work was entered; one person across cases

A new append-only table for record entries (amendments are rows naming what they amend). Two
nullable columns on human tasks (the subject of per-child work), one on deadlines (when the
work that met it was entered) and one on case people (the key linked people share): nothing
existing is rewritten.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INSTANT = engine.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "record_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.String(length=200), nullable=True),
        sa.Column("element_id", sa.String(length=200), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("data", engine.storage.tables.JsonType, nullable=False),
        sa.Column("occurred_at", _INSTANT, nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("entered_at", _INSTANT, nullable=False),
        sa.Column("entered_by", sa.String(length=200), nullable=False),
        sa.Column("entered_role", sa.String(length=100), nullable=True),
        sa.Column("late_entry", sa.Boolean(), nullable=False),
        sa.Column("amends_id", sa.Uuid(), nullable=True),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["amends_id"], ["record_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_record_entries_case", "record_entries", ["case_id", "kind", "occurred_at"])
    op.create_index("ix_record_entries_task_id", "record_entries", ["task_id"])
    with op.batch_alter_table("human_tasks") as batch_op:
        batch_op.add_column(sa.Column("subject_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=300), nullable=True))
    with op.batch_alter_table("deadlines") as batch_op:
        batch_op.add_column(sa.Column("entered_at", _INSTANT, nullable=True))
    with op.batch_alter_table("case_people") as batch_op:
        batch_op.add_column(sa.Column("person_key", sa.Uuid(), nullable=True))
        batch_op.create_index("ix_case_people_person_key", ["person_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_people") as batch_op:
        batch_op.drop_index("ix_case_people_person_key")
        batch_op.drop_column("person_key")
    with op.batch_alter_table("deadlines") as batch_op:
        batch_op.drop_column("entered_at")
    with op.batch_alter_table("human_tasks") as batch_op:
        batch_op.drop_column("subject")
        batch_op.drop_column("subject_id")
    op.drop_index("ix_record_entries_task_id", table_name="record_entries")
    op.drop_index("ix_record_entries_case", table_name="record_entries")
    op.drop_table("record_entries")
