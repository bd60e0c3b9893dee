"""each jurisdiction starts its work on its own versions; the process a case opened with

A deployed version records, by jurisdiction profile, the processes it runs, the hash of its
files and the version its new work starts on. A process instance says whether it is the one
the case opened with (intake staff read the case while it runs). Existing cases opened with
the process named ``intake``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("definition_versions") as batch_op:
        batch_op.add_column(
            sa.Column("jurisdictions", engine.storage.tables.JsonType, nullable=True)
        )
    with op.batch_alter_table("process_instances") as batch_op:
        batch_op.add_column(
            sa.Column("opens_case", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE process_instances SET opens_case = TRUE WHERE process_id = 'intake'")


def downgrade() -> None:
    with op.batch_alter_table("process_instances") as batch_op:
        batch_op.drop_column("opens_case")
    with op.batch_alter_table("definition_versions") as batch_op:
        batch_op.drop_column("jurisdictions")
