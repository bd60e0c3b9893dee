"""which deployed version is the current one: the one most recently activated

A deployment activates its version; a designer may activate an earlier one again (a
rollback). Existing versions count as activated when they were deployed, so the newest stays
current.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_INSTANT = engine.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("definition_versions") as batch_op:
        batch_op.add_column(sa.Column("activated_at", _INSTANT, nullable=True))
    op.execute("UPDATE definition_versions SET activated_at = deployed_at")
    with op.batch_alter_table("definition_versions") as batch_op:
        batch_op.alter_column("activated_at", existing_type=_INSTANT, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("definition_versions") as batch_op:
        batch_op.drop_column("activated_at")
