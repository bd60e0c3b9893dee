"""Rows a unit of work appends and never reads back (audit entries, outbox events) wait in its
session and are written by its commit, together: on PostgreSQL in the commit's one extra round
trip, instead of one round trip each as they happen.

If the unit rolls back they are forgotten with it, and a savepoint that rolls back takes its
own with it. Only sessions of a factory passed to ``attach`` queue; ``queue`` says so, and a
caller holding another session writes its row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

_PENDING = "casework_appends"
_ATTACHED = "casework_appends_attached"

Pending = dict[str, list[Any]]
Writer = Callable[[Session, Pending], None]


def attach(factory: sessionmaker[Session], write: Writer) -> None:
    """Sessions of this factory queue appends, and ``write`` writes them as their commit
    begins (each commit, a savepoint's release included, writes what was queued before it)."""
    factory.configure(info={**factory.kw.get("info", {}), _ATTACHED: True})

    def before_commit(session: Session) -> None:
        pending: Pending = session.info.pop(_PENDING, {})
        if any(pending.values()):
            write(session, pending)

    event.listen(factory, "before_commit", before_commit)
    event.listen(factory, "after_transaction_end", _forget_at_the_end)


def queue(session: Session, kind: str, item: Any) -> bool:
    """Queue ``item`` for the commit; False when this session does not queue."""
    if not session.info.get(_ATTACHED):
        return False
    session.info.setdefault(_PENDING, {}).setdefault(kind, []).append(item)
    return True


def forget(session: Session, kind: str | None = None) -> None:
    """Drop what is queued (of one kind, or all): the unit will not write it."""
    if kind is None:
        session.info.pop(_PENDING, None)
    else:
        session.info.get(_PENDING, {}).pop(kind, None)


def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction: a savepoint's rollback fires this event too, and what
    # was queued before the savepoint stays (``savepoint`` drops what was queued within).
    if transaction.parent is None:
        forget(session)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A nested transaction whose queued appends go with it if it rolls back (the outer unit
    of work carries on and commits the rest)."""
    marks = {kind: len(items) for kind, items in session.info.get(_PENDING, {}).items()}
    try:
        with session.begin_nested():
            yield
    except Exception:
        pending: Pending = session.info.get(_PENDING, {})
        for kind, items in pending.items():
            del items[marks.get(kind, 0) :]
        raise
