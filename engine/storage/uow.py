"""The unit of work: one use case, one transaction, one commit.

Nothing is written unless ``commit()`` is reached; any exception, any early return leaves the
database as it was. Functions that take part receive the unit (or its session, to read) and
never commit.

The unit also keeps the record of what happened: ``audit`` queues an audit entry and
``publish`` an event for other systems. Neither is read back by the use case, so they wait
here and ``commit`` writes them together with the change (``appended.write``); what a
``savepoint`` rolls back takes back what was queued within it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import Conflict
from engine.events.outbox import Published, published
from engine.storage import appended


class UnitOfWork:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self.session: Session
        self._audit: list[dict[str, Any]] = []
        self._events: list[Published] = []
        self._after_commit: dict[Hashable, Callable[[], None]] = {}

    def __enter__(self) -> Self:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._audit, self._events = [], []
        self._after_commit = {}
        self.session.rollback()
        self.session.close()

    def audit(
        self,
        *,
        at: datetime,
        actor_id: str,
        actor_role: str | None,
        action: str,
        case_id: uuid.UUID | None = None,
        instance_id: uuid.UUID | None = None,
        task_id: uuid.UUID | None = None,
        **details: Any,
    ) -> None:
        """Record who did what, when, to which case (written by ``commit``)."""
        self._audit.append(
            {
                "at": at,
                "actor": actor_id,
                "actor_role": actor_role,
                "action": action,
                "case_id": case_id,
                "instance_id": instance_id,
                "task_id": task_id,
                "details": details,
            }
        )

    def publish(
        self,
        topic: str,
        at: datetime,
        *,
        case_id: uuid.UUID | None = None,
        to_provider: str | None = None,
        **data: Any,
    ) -> None:
        """An event other systems hear of if (and only if) this unit commits; one addressed
        ``to_provider`` goes to that provider's subscriptions alone."""
        self._events.append(published(topic, at, case_id, data, to_provider))

    def after_commit(self, key: Hashable, action: Callable[[], None]) -> None:
        """Run ``action`` once this unit has committed (never if it does not); a later action
        under the same key replaces an earlier one."""
        self._after_commit[key] = action

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the unit that may fail alone: its writes and what it queued are taken
        back, the rest of the unit goes on."""
        marks = len(self._audit), len(self._events)
        after_commit = dict(self._after_commit)
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            del self._audit[marks[0] :]
            del self._events[marks[1] :]
            self._after_commit = after_commit
            raise

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def commit(self) -> None:
        appended.write(self.session, self._audit, self._events)
        self._audit, self._events = [], []
        try:
            self.session.commit()
        except StaleDataError as e:
            raise Conflict(
                "the record was changed by someone else meanwhile; reload and retry"
            ) from e
        except OperationalError as e:
            if "could not serialize" in str(e) or "deadlock" in str(e):
                raise Conflict("the record was changed by someone else meanwhile; retry") from e
            raise
        actions, self._after_commit = self._after_commit, {}
        for action in actions.values():
            action()
