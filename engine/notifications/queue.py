"""What each person should hear of, queued with the change that causes it and taken by the
mailer: immediately, or gathered into one daily digest, as the person chose.

A notification names the case by number and links to casework; what it is about is said in
words that name no one (a task's name can carry a child's, so it is never used)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine.storage.tables import Case, Notification, User

# kind → what the message says happened (nothing of the case beyond its number).
SAID = {
    "assigned": "A task was given to you",
    "case_assigned": "A case is now yours",
    "reminder": "Reminder: work on a case is due soon",
    "due": "Work on a case is due now",
    "overdue": "Work on a case is overdue",
    "escalation": "Overdue work on a case was escalated to you",
    "break_glass": "A case was opened by breaking the glass",
    "referral": "A referral you made is still unanswered",
}
IMMEDIATE, DIGEST, NONE = "immediate", "digest", "none"
PREFERENCES = (IMMEDIATE, DIGEST, NONE)
LEASE = timedelta(minutes=5)


def notify(
    session: Session,
    user_ids: Iterable[str | None],
    kind: str,
    case: Case | None,
    path: str,
    at: datetime,
    *,
    acting: str | None = None,
) -> None:
    """Queue a notification for each person (not for the one acting: they know)."""
    for user_id in sorted({u for u in user_ids if u and u != acting}):
        session.add(
            Notification(
                id=uuid.uuid4(),
                user_id=user_id,
                kind=kind,
                case_id=case.id if case is not None else None,
                case_number=case.case_number if case is not None else None,
                path=path,
                created_at=at,
                attempts=0,
            )
        )


@dataclass(frozen=True)
class Outgoing:
    """One email to send: to whom, and the notifications it carries (one, or a digest's)."""

    user_id: str
    address: str
    notifications: list[Notification]
    digest: bool


def claim_immediate(session: Session, now: datetime, limit: int = 50) -> list[Outgoing]:
    """Unsent notifications of people who want them at once, leased to this mailer (others
    skip them) until sent or the lease runs out."""
    rows = session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.sent_at.is_(None),
            User.notify == IMMEDIATE,
            User.email.is_not(None),
            User.active.is_(True),
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .order_by(Notification.created_at, Notification.id)
        .limit(limit)
        .with_for_update(of=Notification, skip_locked=True)
    ).all()
    for notification, _ in rows:
        notification.claimed_until = now + LEASE
    return [Outgoing(user.id, str(user.email), [n], False) for n, user in rows]


def claim_digests(session: Session, now: datetime, digest_from: datetime) -> list[Outgoing]:
    """For each person who wants a daily digest and has had none since ``digest_from`` (today's
    digest hour), everything unsent, as one email."""
    users = session.scalars(
        select(User)
        .where(
            User.notify == DIGEST,
            User.email.is_not(None),
            User.active.is_(True),
            or_(User.last_digest_at.is_(None), User.last_digest_at < digest_from),
        )
        .with_for_update(skip_locked=True)
    ).all()
    found = []
    for user in users:
        pending = list(
            session.scalars(
                select(Notification)
                .where(Notification.user_id == user.id, Notification.sent_at.is_(None))
                .order_by(Notification.created_at, Notification.id)
            )
        )
        user.last_digest_at = now
        if pending:
            found.append(Outgoing(user.id, str(user.email), pending, True))
    return found


def mark_sent(session: Session, outgoing: Outgoing, now: datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id.in_([n.id for n in outgoing.notifications]))
        .values(sent_at=now, claimed_until=None, attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, outgoing: Outgoing, error: str) -> None:
    """Kept unsent: the lease runs out and the next run tries again."""
    session.execute(
        update(Notification)
        .where(Notification.id.in_([n.id for n in outgoing.notifications]))
        .values(attempts=Notification.attempts + 1, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
