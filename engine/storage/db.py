"""Database engines and session factories for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Database:
    """A writer factory and a reader factory over the same database.

    On SQLite, writers start with ``BEGIN IMMEDIATE`` so that two read-then-write units of work
    queue up at BEGIN instead of failing with "database is locked" mid-way; readers keep a
    deferred BEGIN so that worklists are not serialized behind writers (WAL lets them read).
    On PostgreSQL both factories share one engine.
    """

    url: str
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]
    engine: Engine
    # For a read of one statement (a request's principal): on PostgreSQL it runs in
    # autocommit, the statement its own transaction, sparing the BEGIN and ROLLBACK round
    # trips. A read of several statements that must agree uses ``reader``.
    lone_reader: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()
        if self.is_sqlite:  # its readers have an engine of their own
            reader_engine = self.reader.kw.get("bind")
            if reader_engine is not None:
                reader_engine.dispose()


def connect(url: str, *, pool_size: int = 5) -> Database:
    if url.startswith("sqlite"):
        writer = _sqlite_engine(url, immediate=True)
        reader = _sqlite_engine(url, immediate=False)
    else:
        # Last in, first out: the connection just used is used again, and stays warm, so
        # that under light traffic too few checkouts find it idle long enough to be pinged.
        writer = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True)
        event.listen(writer, "connect", _serial_plans)
        _ping_when_idle(writer)
        reader = writer
    writers = sessionmaker(writer, expire_on_commit=False)
    if url.startswith("sqlite"):
        # A read transaction already reads one snapshot (WAL).
        readers = lone_readers = sessionmaker(reader, expire_on_commit=False)
    else:
        # A reader's statements read one snapshot, as on SQLite: a page and its total, counted
        # in two statements, agree though completions commit in between. Read-only, such a
        # transaction never fails to serialize.
        readers = sessionmaker(
            reader.execution_options(isolation_level="REPEATABLE READ"), expire_on_commit=False
        )
        lone_readers = sessionmaker(
            reader.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
    return Database(url, writers, readers, writer, lone_readers)


# A pooled connection idle this long is pinged before it is used again: the database may have
# restarted, or a firewall dropped the connection, meanwhile. One in steady use is not: a ping
# is a round trip at every checkout (two per API request). A connection lost within the last
# seconds fails its statement instead, which SQLAlchemy takes as a disconnect: it replaces the
# pool's connections, and the next request runs.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out another (SQLAlchemy's
            # pessimistic disconnect handling).
            raise DisconnectionError(str(exc)) from exc


def _serial_plans(dbapi_connection: Any, _record: Any) -> None:
    # Many short requests share the cores: a parallel plan's worker start-up cost more than
    # it saved (a team's worklist took 19 ms with a worker, 10 without). Set once per
    # connection, not in the URL's options, which a URL of the operator's may already hold.
    # Nor is JIT compilation worth it here: it starts above a plan cost that ten years of
    # cases reach (a person search's count over a unit's cases), and compiling took 20 ms to
    # several hundred where the statement itself ran in 2 ms.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module: its legacy mode emits no BEGIN
        # before a SELECT, which breaks read-then-write units of work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
