"""Alembic environment: the connection comes from the caller (``engine.storage.schema.upgrade``)."""

from __future__ import annotations

from alembic import context

from engine.storage.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through engine.storage.schema (casework db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
