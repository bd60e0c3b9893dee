"""The sign-in lockout: five failed passwords for one user name lock the name until fifteen
minutes have passed since the first of them.

Each attempt reserves its slot before its password is checked: one UPDATE … RETURNING counts
it in the name's window (or opens a new window once the old one has passed) and answers with
its place. Simultaneous attempts therefore queue on the row and each learns its own place;
counting failures already audited let thirty simultaneous guesses all read zero and all be
checked. An attempt past the limit is refused unchecked; one whose password is right gives
its slot back, so only failures count. Plain statements that SQLite (3.35 and later) and
PostgreSQL run alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, insert, update
from sqlalchemy.exc import IntegrityError

from engine.context import EngineContext
from engine.tables import SignInThrottle, UTCDateTime
from engine.uow import UnitOfWork

LIMIT = 5  # failed passwords per user name in one window; the next attempts are refused
WINDOW = timedelta(minutes=15)
NAME_LENGTH = 200  # as users.id: every real user name fits, a longer guess is cut


@dataclass(frozen=True)
class Reservation:
    """One attempt's slot: its place in the name's current window, counting from 1."""

    user_name: str
    place: int
    window_started_at: datetime

    @property
    def allowed(self) -> bool:
        """Within the limit: the password may be checked."""
        return self.place <= LIMIT


_WINDOW_PASSED = SignInThrottle.window_started_at <= bindparam("passed_if_opened_by")
# Built once; SET expressions read the row as it was before this UPDATE, on both databases.
_COUNT_ATTEMPT = (
    update(SignInThrottle)
    .where(SignInThrottle.user_name == bindparam("name"))
    .values(
        failures=case((_WINDOW_PASSED, 1), else_=SignInThrottle.failures + 1),
        window_started_at=case(
            (_WINDOW_PASSED, bindparam("now", type_=UTCDateTime())),
            else_=SignInThrottle.window_started_at,
        ),
    )
    .returning(SignInThrottle.failures, SignInThrottle.window_started_at)
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
    .values(failures=SignInThrottle.failures - 1)
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
            _COUNT_ATTEMPT, {"name": name, "now": now, "passed_if_opened_by": now - WINDOW}
        ).one_or_none()
        if counted is not None:
            uow.commit()
            return Reservation(name, counted.failures, counted.window_started_at)
        try:
            uow.session.execute(
                insert(SignInThrottle).values(user_name=name, failures=1, window_started_at=now)
            )
            uow.commit()
        except IntegrityError:
            return None  # another attempt created the row meanwhile (PostgreSQL)
    return Reservation(name, 1, now)
