"""The sign-in lockout: five failed passwords for one user name within fifteen minutes lock
the name for fifteen minutes from the fifth.

Each attempt reserves its slot before its password is checked: one UPDATE … RETURNING counts
it in the name's window (or starts afresh once the window, or the lock, has passed), sets the
lock when it is the fifth, and answers with its place. Simultaneous attempts therefore queue
on the row and each learns its own place; counting failures already audited let thirty
simultaneous guesses all read zero and all be checked. An attempt past the limit is refused
unchecked; one whose password is right gives its slot back (and the lock it set), so only
failures count. Plain statements that SQLite (3.35 and later) and PostgreSQL run alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, insert, or_, update
from sqlalchemy.exc import IntegrityError

from engine.context import EngineContext
from engine.storage.tables import SignInThrottle, UTCDateTime
from engine.storage.uow import UnitOfWork

LIMIT = 5  # failed passwords per user name in one window; the next attempts are refused
WINDOW = timedelta(minutes=15)
NAME_LENGTH = 200  # as users.id: every real user name fits, a longer guess is cut


@dataclass(frozen=True)
class Reservation:
    """One attempt's slot: its place in the name's current window, counting from 1, and until
    when the name is locked (None when it is not)."""

    user_name: str
    place: int
    window_started_at: datetime
    locked_until: datetime | None = None

    @property
    def allowed(self) -> bool:
        """Within the limit: the password may be checked."""
        return self.place <= LIMIT


_NOW = bindparam("now", type_=UTCDateTime())
_LOCK_OVER = SignInThrottle.locked_until <= _NOW
# Afresh: the lock has run out, or (never locked) the window has passed.
_AFRESH = or_(
    _LOCK_OVER,
    and_(
        SignInThrottle.locked_until.is_(None),
        SignInThrottle.window_started_at <= bindparam("window_opened_by", type_=UTCDateTime()),
    ),
)
# Built once; SET expressions read the row as it was before this UPDATE, on both databases.
_COUNT_ATTEMPT = (
    update(SignInThrottle)
    .where(SignInThrottle.user_name == bindparam("name"))
    .values(
        failures=case((_AFRESH, 1), else_=SignInThrottle.failures + 1),
        window_started_at=case((_AFRESH, _NOW), else_=SignInThrottle.window_started_at),
        locked_until=case(
            (_AFRESH, None),
            (SignInThrottle.locked_until.is_not(None), SignInThrottle.locked_until),
            (SignInThrottle.failures + 1 >= LIMIT, bindparam("lock_ends", type_=UTCDateTime())),
            else_=None,
        ),
    )
    .returning(
        SignInThrottle.failures, SignInThrottle.window_started_at, SignInThrottle.locked_until
    )
    .execution_options(synchronize_session=False)
)
_GIVE_BACK = (
    update(SignInThrottle)
    .where(
        SignInThrottle.user_name == bindparam("name"),
        # Only into the window it was taken from: a window opened since owes nothing.
        SignInThrottle.window_started_at == bindparam("reserved_in"),
        SignInThrottle.failures > 0,
    )
    .values(
        failures=SignInThrottle.failures - 1,
        # The fifth attempt set the lock; if it was no failure, there is no lock.
        locked_until=case(
            (SignInThrottle.failures - 1 < LIMIT, None), else_=SignInThrottle.locked_until
        ),
    )
    .execution_options(synchronize_session=False)
)


def reserve(ctx: EngineContext, user_name: str) -> Reservation:
    """Counts an attempt for this user name (known or not) before its password is checked."""
    name = user_name[:NAME_LENGTH]
    # Twice at most: the first attempt for a name can lose the race to create its row, and is
    # then counted in the row the winner created.
    for _ in range(2):
        reservation = _try_reserve(ctx, name)
        if reservation is not None:
            return reservation
    raise RuntimeError(f"no sign-in throttle row for {name!r} though one was just created")


def give_back(ctx: EngineContext, reservation: Reservation) -> None:
    """The password was right: the attempt was no failure and leaves the count as it was."""
    with UnitOfWork(ctx.db.writer) as uow:
        uow.session.execute(
            _GIVE_BACK,
            {"name": reservation.user_name, "reserved_in": reservation.window_started_at},
        )
        uow.commit()


def _try_reserve(ctx: EngineContext, name: str) -> Reservation | None:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        counted = uow.session.execute(
            _COUNT_ATTEMPT,
            {"name": name, "now": now, "window_opened_by": now - WINDOW, "lock_ends": now + WINDOW},
        ).one_or_none()
        if counted is not None:
            uow.commit()
            return Reservation(
                name, counted.failures, counted.window_started_at, counted.locked_until
            )
        try:
            uow.session.execute(
                insert(SignInThrottle).values(user_name=name, failures=1, window_started_at=now)
            )
            uow.commit()
        except IntegrityError:
            return None  # another attempt created the row meanwhile (PostgreSQL)
    return Reservation(name, 1, now)
