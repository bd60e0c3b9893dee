"""records retention: soft expunction of a case, and the audit trail partitioned by month

A case records when it was soft-expunged (an unsubstantiated report out of public and
background-check use). On PostgreSQL the audit trail becomes a table partitioned by month of
its time column, its rows and ids kept (engine.storage.audit_partitions); on SQLite it stays
one table.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import engine.storage.tables
from engine.storage import audit_partitions

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(
            sa.Column(
                "expunged_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True
            )
        )
    # Only PostgreSQL partitions; the function does nothing elsewhere.
    audit_partitions.partition_existing_table(op.get_bind(), datetime.now(UTC))


def downgrade() -> None:
    audit_partitions.unpartition(op.get_bind())
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("expunged_at")
