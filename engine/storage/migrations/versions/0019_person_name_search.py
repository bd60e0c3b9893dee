"""person search reads an index: on PostgreSQL a trigram index (pg_trgm) of people's names, so
that "a name containing this text" (ILIKE) finds its people without reading every person of
years of cases; elsewhere a plain index of the names

Made in the migration's transaction: CREATE INDEX (not CONCURRENTLY) blocks writes to
case_people while it runs (a few seconds per million people on the 2-core test machine).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("case_people", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_people_name_trgm",
            ["name"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        )


def downgrade() -> None:
    with op.batch_alter_table("case_people", schema=None) as batch_op:
        batch_op.drop_index("ix_case_people_name_trgm")
