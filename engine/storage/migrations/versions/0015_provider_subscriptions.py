"""a webhook subscription may be a provider's own: it hears the referrals made to it

One nullable column on webhook_subscriptions naming the provider; nothing existing is
rewritten (a subscription made before is the agency's, as it was).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.String(100), nullable=True))
        batch_op.create_foreign_key(
            "fk_webhook_subscriptions_provider", "providers", ["provider_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch_op:
        batch_op.drop_constraint("fk_webhook_subscriptions_provider", type_="foreignkey")
        batch_op.drop_column("provider_id")
