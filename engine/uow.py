"""The unit of work: one use case, one transaction, one commit.

Nothing is written unless ``commit()`` is reached; any exception, any early return leaves the
database as it was. Functions that take part receive the unit's session and never commit.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine import core_writes
from engine.errors import Conflict


class UnitOfWork:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self.session: Session

    def __enter__(self) -> Self:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    @property
    def dialect(self) -> str:
        return core_writes.dialect(self.session)

    def commit(self) -> None:
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
