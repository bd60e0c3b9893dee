"""Plain Core statements on a unit of work's connection, for the rows of the hot path.

``session.execute(insert(Entity), rows)`` routes even a plain INSERT through the ORM's bulk
machinery (identity bookkeeping, primary-key fetching), which costs more than the statement
itself. Audit rows, outbox events, projection rows and timer rows are never loaded as ORM
objects in the unit that writes them, so they skip it. The flush first keeps what the ORM's
autoflush gave: the rows such a statement refers to (a new case, a new instance) exist first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def execute(session: Session, statement: Executable, params: Any = None) -> CursorResult[Any]:
    session.flush()
    return session.connection().execute(statement, params)


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name
