"""The audit trail on PostgreSQL: one partition per calendar month (UTC) of ``audit_events.at``.

The trail is append-only and grows for as long as the agency runs. Partitioned by month, each
month's rows and indexes are a table of their own: the indexes a search walks stay the size of
a month, vacuum works on the month being written, and an old month can be detached and
archived (``ALTER TABLE audit_events DETACH PARTITION …``) as one table, should the agency's
rules ever allow it. casework itself never detaches or drops one: the trail of an old closed
case reads as before, through the parent table.

The partitions live in a schema of their own (``audit_partitions``), out of the tables the
models describe. A default partition takes a row no month's partition holds yet (a clock far
off, a month not created in time), so a write never fails for want of a partition; creating
that month later moves such rows into it.

The trail stays append-only (migration 0001's trigger refuses UPDATE and DELETE): the trigger is
made again on the partitioned table, which gives it to every partition, the default one too. So
rows are moved out of the default partition by copying them aside and emptying it (TRUNCATE,
which that trigger never refused), never by DELETE.

Everything here is PostgreSQL's own DDL (a BEFORE ROW trigger on a partitioned table needs
PostgreSQL 13); on SQLite the trail is one table and these do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

PARENT = "audit_events"
SCHEMA = "audit_partitions"
DEFAULT = "audit_events_default"
# Months created ahead of the clock: the worker's daily run keeps this many ready, so rows
# never wait in the default partition unless no worker ran for that long.
MONTHS_AHEAD = 3
# Serializes the creators (two workers, or a worker and the command): one creates, the other
# then finds the month there.
_LOCK_KEY = 0x61756469  # "audi"
# Migration 0001's guard, made again on whichever table is ``audit_events`` after a conversion.
_APPEND_ONLY = (
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
    " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
)


@dataclass(frozen=True)
class Partitions:
    """What the trail's storage holds: the months with a partition of their own, the rows
    waiting in the default partition, the upcoming months still to create."""

    partitioned: bool
    months: tuple[str, ...] = ()
    in_default: int = 0
    missing: tuple[str, ...] = ()


def is_partitioned(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c"
                " ON c.oid = p.partrelid WHERE c.oid = to_regclass(:parent))"
            ),
            {"parent": f"public.{PARENT}"},
        )
    )


def partition_existing_table(connection: Connection, now: datetime) -> None:
    """Turn the plain ``audit_events`` table into a partitioned one, rows and ids kept (the
    migration's work, once, on PostgreSQL). Its id sequence stays: new rows go on numbering."""
    if connection.dialect.name != "postgresql" or is_partitioned(connection):
        return
    old = f"{SCHEMA}.audit_events_unpartitioned"
    for statement in (
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        # The sequence is the table's: free it first, or it would go with the old table.
        "ALTER SEQUENCE audit_events_id_seq OWNED BY NONE",
        f"ALTER TABLE {PARENT} RENAME TO audit_events_unpartitioned",
        # Its indexes and key move with it, freeing their names for the new table's.
        f"ALTER TABLE audit_events_unpartitioned SET SCHEMA {SCHEMA}",
        f"CREATE TABLE {PARENT} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        " PARTITION BY RANGE (at)",
        # A partitioned table's unique key holds its partition column.
        f"ALTER TABLE {PARENT} ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id, at)",
        f"ALTER SEQUENCE audit_events_id_seq OWNED BY {PARENT}.id",
        f"CREATE INDEX ix_audit_events_at ON {PARENT} (at)",
        f"CREATE INDEX ix_audit_events_case_id ON {PARENT} (case_id)",
        f"CREATE TABLE {SCHEMA}.{DEFAULT} PARTITION OF {PARENT} DEFAULT",
    ):
        connection.execute(text(statement))
    first = connection.scalar(
        text("SELECT min(at) FROM audit_partitions.audit_events_unpartitioned")
    )
    start = _month_of(min(first, now) if first is not None else now)
    month = start
    while month <= _add_months(_month_of(now), MONTHS_AHEAD):
        _create(connection, month)
        month = _add_months(month, 1)
    connection.execute(
        text("INSERT INTO audit_events SELECT * FROM audit_partitions.audit_events_unpartitioned")
    )
    # The old table's append-only trigger goes with it; the new table gets its own.
    connection.execute(text("DROP TABLE audit_partitions.audit_events_unpartitioned"))
    connection.execute(text(_APPEND_ONLY))


def unpartition(connection: Connection) -> None:
    """The migration's way back: one plain table again, rows and ids kept."""
    if not is_partitioned(connection):
        return
    for statement in (
        "ALTER SEQUENCE audit_events_id_seq OWNED BY NONE",
        f"ALTER TABLE {PARENT} RENAME TO audit_events_partitioned",
        "ALTER INDEX ix_audit_events_at RENAME TO ix_audit_events_partitioned_at",
        "ALTER INDEX ix_audit_events_case_id RENAME TO ix_audit_events_partitioned_case_id",
        "ALTER TABLE audit_events_partitioned RENAME CONSTRAINT audit_events_pkey"
        " TO audit_events_partitioned_pkey",
        f"CREATE TABLE {PARENT} (LIKE audit_events_partitioned INCLUDING DEFAULTS"
        " INCLUDING CONSTRAINTS)",
        f"ALTER TABLE {PARENT} ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id)",
        f"ALTER SEQUENCE audit_events_id_seq OWNED BY {PARENT}.id",
        "INSERT INTO audit_events SELECT * FROM audit_events_partitioned",
        "DROP TABLE audit_events_partitioned",
        f"CREATE INDEX ix_audit_events_at ON {PARENT} (at)",
        f"CREATE INDEX ix_audit_events_case_id ON {PARENT} (case_id)",
        # The partitioned table's trigger went with it; the plain table gets its own.
        _APPEND_ONLY,
        f"DROP SCHEMA IF EXISTS {SCHEMA}",
    ):
        connection.execute(text(statement))


def survey(connection: Connection, now: datetime) -> Partitions:
    """What is there and what is due, changing nothing."""
    if not is_partitioned(connection):
        return Partitions(False)
    months = _months(connection)
    upcoming = [_add_months(_month_of(now), i) for i in range(MONTHS_AHEAD + 1)]
    return Partitions(
        True,
        tuple(sorted(months)),
        connection.scalar(text("SELECT count(*) FROM audit_partitions.audit_events_default")) or 0,
        tuple(_name(m) for m in upcoming if _name(m) not in months),
    )


def create_upcoming(connection: Connection, now: datetime) -> list[str]:
    """Create this month's partition and the next ``MONTHS_AHEAD`` where missing, and one for
    each month that rows in the default partition belong to (those rows move into it).
    Returns the partitions created."""
    if not is_partitioned(connection):
        return []
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    existing = _months(connection)
    upcoming = {_add_months(_month_of(now), i) for i in range(MONTHS_AHEAD + 1)}
    missing = {m for m in upcoming if _name(m) not in existing}
    if not missing and not connection.scalar(
        text("SELECT EXISTS (SELECT 1 FROM audit_partitions.audit_events_default)")
    ):
        return []
    # Attaching a month scans the default partition for rows of that month and fails on any:
    # no row may reach it meanwhile. Writers of months that have a partition never wait.
    connection.execute(
        text("LOCK TABLE audit_partitions.audit_events_default IN ACCESS EXCLUSIVE MODE")
    )
    # Every row the default partition holds is of a month with no partition (PostgreSQL keeps
    # it so), which this run creates: all of them move. Copied aside, the partition emptied
    # by TRUNCATE (the append-only trigger refuses DELETE), and put back through the parent.
    connection.execute(
        text(
            "CREATE TEMPORARY TABLE audit_events_moving ON COMMIT DROP"
            " AS SELECT * FROM audit_partitions.audit_events_default"
        )
    )
    stray = connection.scalars(
        text("SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') FROM audit_events_moving")
    )
    months = missing | {m.replace(tzinfo=UTC) for m in stray}
    connection.execute(text("TRUNCATE audit_partitions.audit_events_default"))
    created = []
    for month in sorted(months):
        _create(connection, month)
        created.append(_name(month))
    connection.execute(text("INSERT INTO audit_events SELECT * FROM audit_events_moving"))
    connection.execute(text("DROP TABLE audit_events_moving"))
    return created


def _create(connection: Connection, month: datetime) -> None:
    """One month's partition, attached to the trail. The default partition must hold no row of
    that month (the caller moved them aside)."""
    # The name and bounds are made of integers (see _name, _literal): DDL takes no bound
    # parameters, and nothing here comes from outside.
    name = f"{SCHEMA}.{_name(month)}"
    low, high = _literal(month), _literal(_add_months(month, 1))
    connection.execute(
        text(f"CREATE TABLE {name} (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    # Attaching gives it the parent's key, indexes and append-only trigger.
    bounds = f"FROM ('{low}') TO ('{high}')"
    connection.execute(
        text(f"ALTER TABLE audit_events ATTACH PARTITION {name} FOR VALUES {bounds}")
    )


def _months(connection: Connection) -> set[str]:
    return set(
        connection.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = to_regclass(:parent) AND c.relname <> :default"
            ),
            {"parent": f"public.{PARENT}", "default": DEFAULT},
        )
    )


def _month_of(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def _add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _name(month: datetime) -> str:
    return f"audit_events_y{month.year:04d}m{month.month:02d}"


def _literal(month: datetime) -> str:
    # Built from integers only: safe to write into DDL, which takes no bound parameters.
    return f"{month.year:04d}-{month.month:02d}-01 00:00:00+00"
