"""Plain Core statements on a unit of work's connection, for the rows of the hot path.

``session.execute(insert(Entity), rows)`` routes even a plain INSERT through the ORM's bulk
machinery (identity bookkeeping, primary-key fetching), which costs more than the statement
itself. Audit rows, outbox events, projection rows and timer rows are never loaded as ORM
objects in the unit that writes them, so they skip it. The flush first keeps what the ORM's
autoflush gave: the rows such a statement refers to (a new case, a new instance) exist first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CursorResult,
    Executable,
    Insert,
    Row,
    Select,
    Table,
    bindparam,
    column,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session


def execute(session: Session, statement: Executable, params: Any = None) -> CursorResult[Any]:
    session.flush()
    return session.connection().execute(statement, params)


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


class Inserts:
    """New rows of several tables, written together when the caller is done: on PostgreSQL
    in one statement (one round trip), elsewhere one executemany per table, in the order the
    tables were first added (parents before the rows that refer to them)."""

    def __init__(self) -> None:
        self._rows: dict[Table, list[dict[str, Any]]] = {}

    def add(self, entity: type[Any], rows: list[dict[str, Any]]) -> None:
        """Rows of a mapped class's table."""
        if rows:
            self._rows.setdefault(entity.__table__, []).extend(rows)

    def write(
        self,
        session: Session,
        then: Select[Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[Row[Any]]:
        """Write the rows; with ``then``, run that query (with ``params``) after them and
        return its rows (on PostgreSQL in the same statement, the INSERTs in its WITH clause;
        ``then`` may carry writes of its own there, on rows other than these)."""
        batches = [(table, _complete(table, rows)) for table, rows in self._rows.items()]
        self._rows = {}
        if batches and dialect(session) == "postgresql":
            shape = tuple((table, names) for table, (names, _) in batches)
            result = execute(
                session,
                _one_statement(shape, then),
                {
                    **(params or {}),
                    **{
                        f"rows_{i}": [json_row(row) for row in rows]
                        for i, (_, (_, rows)) in enumerate(batches)
                    },
                },
            )
            return [] if then is None else list(result.all())
        for table, (_, rows) in batches:
            execute(session, _plain_insert(table), rows)
        return [] if then is None else list(execute(session, then, params).all())


@cache
def _defaults(table: Table) -> dict[str, Any]:
    """Each column's scalar default (None where it has none, or a callable one)."""
    defaults = {}
    for c in table.columns:
        default = c.default
        scalar = default is not None and default.is_scalar
        defaults[c.name] = getattr(default, "arg", None) if scalar else None
    return defaults


def _complete(
    table: Table, rows: list[dict[str, Any]]
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    # An executemany takes its columns from the first row and drops keys the others add; so
    # every row gets every key any row has, with the column's default where it has none.
    defaults = _defaults(table)
    named = {name for row in rows for name in row}
    names = tuple(n for n, default in defaults.items() if n in named or default is not None)
    return names, [{n: row.get(n, defaults[n]) for n in names} for row in rows]


@cache
def _plain_insert(table: Table) -> Insert:
    return insert(table)


@cache
def _one_statement(
    shape: tuple[tuple[Table, tuple[str, ...]], ...], then: Select[Any] | None
) -> Executable:
    """The tables' INSERTs as one statement: all in the WITH clause of ``then``, or all but
    the last in the WITH clause of the last (PostgreSQL runs an INSERT placed there even when
    the query never reads it, and checks foreign keys at the end of the whole statement)."""
    if then is None:
        *first, (last_table, last_names) = shape
        statement: Any = insert_from_json(last_table, last_names, f"rows_{len(first)}")
    else:
        first, statement = list(shape), then
    for i, (table, names) in enumerate(first):
        statement = statement.add_cte(insert_from_json(table, names, f"rows_{i}").cte(f"rows_{i}"))
    return statement


def insert_from_json(table: Table, names: tuple[str, ...], param: str) -> Insert:
    """INSERT of the rows of a JSON array bound as one parameter (PostgreSQL's
    jsonb_to_recordset): the statement is the same whatever the number of rows, so it is
    compiled once, where a multi-row VALUES is compiled again every time."""
    rows = (
        func.jsonb_to_recordset(bindparam(param, type_=JSONB))
        .table_valued(*(column(name, table.c[name].type) for name in names))
        .render_derived(with_types=True)
    )
    return insert(table).from_select(list(names), select(*(rows.c[name] for name in names)))


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row's values as JSON for ``insert_from_json``: ids and instants as text."""
    return {name: _json_value(value) for name, value in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime given where an aware one is required")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
