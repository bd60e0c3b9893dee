"""What a PostgreSQL connection is set up with, and how the pool keeps its connections alive.
These run when CI sets a PostgreSQL URL: SQLite has no server to lose a connection."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

import engine.storage.db as engine_db
from conftest import POSTGRES_URL
from engine.storage.db import Database

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only: runs when CI sets a URL")


def test_postgresql_connections_plan_each_query_on_one_core(db: Database) -> None:
    with db.writer() as session:
        setting = session.execute(text("SHOW max_parallel_workers_per_gather")).scalar()
    assert setting == "0"


def _lose_the_pooled_connection(db: Database) -> None:
    """The server ends the pool's idle connection, as a restart or a firewall would."""
    with db.engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    other = create_engine(POSTGRES_URL or "")
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_a_connection_lost_while_idle_is_replaced_before_use(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    _lose_the_pooled_connection(db)

    with db.reader() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_a_connection_in_steady_use_is_not_pinged_and_a_loss_fails_one_statement(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_db, "PING_AFTER_IDLE_SECONDS", float("inf"))
    _lose_the_pooled_connection(db)

    with pytest.raises(OperationalError), db.reader() as session:
        session.execute(text("SELECT 1"))
    with db.reader() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_a_lone_read_runs_outside_a_transaction_and_leaves_the_pool_transactional(
    db: Database,
) -> None:
    with db.lone_reader() as session:
        # Each statement its own transaction: a fresh transaction id per statement.
        first = session.execute(text("SELECT pg_current_xact_id()")).scalar()
        second = session.execute(text("SELECT pg_current_xact_id()")).scalar()
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar()
    assert first != second

    # The same pooled connection, checked out again by a writer: atomic as ever.
    with db.writer() as session:
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() == backend
        session.execute(text("CREATE TEMP TABLE IF NOT EXISTS probe (n int)"))
        session.commit()
        session.execute(text("INSERT INTO probe VALUES (1)"))
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM probe")).scalar() == 0
        first = session.execute(text("SELECT pg_current_xact_id()")).scalar()
        second = session.execute(text("SELECT pg_current_xact_id()")).scalar()
    assert first == second


def test_a_readers_statements_read_one_snapshot(db: Database) -> None:
    with db.reader() as session:
        level = session.execute(text("SHOW transaction_isolation")).scalar()
    assert level == "repeatable read"
    with db.writer() as session:
        level = session.execute(text("SHOW transaction_isolation")).scalar()
    assert level == "read committed"  # writers lock what they change instead
