"""Rows a unit of work appends and never reads back (audit entries, outbox events) wait in its
session and are written by its commit, together: on PostgreSQL in the commit's one extra round
trip, instead of one round trip each as they happen.

If the unit rolls back they are forgotten with it, and a savepoint (``begin_nested``) that
rolls back takes what was queued within it. Only sessions of a factory passed to ``attach``
queue; ``queue`` says so, and a caller holding another session writes its row at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

_PENDING = "casework_appends"
_MARKS = "casework_appends_marks"
_ATTACHED = "casework_appends_attached"

Pending = dict[str, list[Any]]
Writer = Callable[[Session, Pending], None]


def attach(factory: sessionmaker[Session], write: Writer) -> None:
    """Sessions of this factory queue appends, and ``write`` writes them as the outermost
    commit begins."""
    factory.configure(info={**factory.kw.get("info", {}), _ATTACHED: True})

    def before_commit(session: Session) -> None:
        # A savepoint's release commits nothing yet: its rows wait for the real commit, so
        # that an enclosing savepoint that rolls back can still take them back.
        if session.in_nested_transaction():
            return
        pending: Pending = session.info.pop(_PENDING, {})
        if any(pending.values()):
            write(session, pending)

    event.listen(factory, "before_commit", before_commit)
    event.listen(factory, "after_transaction_create", _mark_savepoint)
    event.listen(factory, "after_soft_rollback", _take_back)
    event.listen(factory, "after_transaction_end", _end)


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


def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        pending: Pending = session.info.get(_PENDING, {})
        marks = {kind: len(items) for kind, items in pending.items()}
        session.info.setdefault(_MARKS, {})[transaction] = marks


def _take_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint rolled back: what was queued within it goes with it. (This event comes
    after the savepoint's ``after_transaction_end``, so its marks are kept until here.)"""
    marks = session.info.get(_MARKS, {}).pop(previous_transaction, None)
    if marks is None:
        return
    for kind, items in session.info.get(_PENDING, {}).items():
        del items[marks.get(kind, 0) :]


def _end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_MARKS, None)
        forget(session)
