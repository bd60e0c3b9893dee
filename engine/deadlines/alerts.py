"""Alerts: the rungs of deadlines' escalation ladders raised when their moment comes, each to
the people its roles name for the case (the task's assignee or the case's worker, the team's
supervisor, the unit's program director); and a person's alerts, read and acknowledged.

An alert names its case: one about a case its recipient may no longer read (reassigned since)
is no longer theirs to see.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from engine.cases.reads import audit_listed
from engine.context import SYSTEM, EngineContext
from engine.deadlines import ladders
from engine.errors import Conflict, NotFound
from engine.identity import emergency
from engine.identity.access import visible_cases
from engine.identity.users import Principal
from engine.notifications.queue import notify
from engine.statuses import AlertStatus, DeadlineStatus, TaskStatus
from engine.storage import step_writes
from engine.storage.tables import (
    Alert,
    AlertRecipient,
    Case,
    Deadline,
    HumanTask,
    ProcessInstance,
    ScheduledAlert,
    Team,
    User,
)
from engine.storage.uow import UnitOfWork

LEASE = timedelta(seconds=60)


# -- raising -----------------------------------------------------------------------------


def raise_due_alerts(ctx: EngineContext, *, worker: str, batch: int = 100) -> int:
    """Raise every ladder alert whose moment has come; one unit of work per alert."""
    raised = 0
    while True:
        claimed = _claim_alerts(ctx, batch)
        if not claimed:
            return raised
        for alert_id in claimed:
            raised += _raise_one(ctx, alert_id)


def _claim_alerts(ctx: EngineContext, batch: int) -> list[uuid.UUID]:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        due = (
            select(ScheduledAlert.id)
            .where(
                ScheduledAlert.status == AlertStatus.PENDING,
                ScheduledAlert.due_at <= now,
                (ScheduledAlert.claimed_until.is_(None)) | (ScheduledAlert.claimed_until < now),
            )
            .order_by(ScheduledAlert.due_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        ids = list(
            uow.session.scalars(
                update(ScheduledAlert)
                .where(ScheduledAlert.id.in_(due.scalar_subquery()))
                .values(claimed_until=now + LEASE)
                .returning(ScheduledAlert.id)
            )
        )
        uow.commit()
    return ids


def _raise_one(ctx: EngineContext, alert_id: uuid.UUID) -> int:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        scheduled = session.get(ScheduledAlert, alert_id, with_for_update=True)
        if scheduled is None or scheduled.status != AlertStatus.PENDING:
            return 0
        deadline_row = session.get(Deadline, scheduled.deadline_row_id)
        assert deadline_row is not None
        task = session.get(HumanTask, deadline_row.task_id) if deadline_row.task_id else None
        # Done means completed; a task an interrupting deadline cancelled is the lateness itself.
        work_done = deadline_row.status == DeadlineStatus.MET or (
            task is not None and task.status == TaskStatus.COMPLETED
        )
        if work_done:
            scheduled.status = AlertStatus.SKIPPED
            uow.commit()
            return 0
        late = scheduled.kind in ("overdue", "escalation")
        if late and deadline_row.status == DeadlineStatus.OPEN:
            missed = step_writes.miss_deadlines(uow, Deadline.id == deadline_row.id)
            ladders.publish_missed(uow, missed)
        case = session.get(Case, deadline_row.case_id)
        assert case is not None
        alert = Alert(
            id=uuid.uuid4(),
            kind=scheduled.kind,
            case_id=deadline_row.case_id,
            task_id=deadline_row.task_id,
            deadline_id=deadline_row.deadline_id,
            message=_message(
                scheduled.kind, deadline_row, case, _zone_of(ctx, session, deadline_row)
            ),
            due_at=deadline_row.due_at,
            raised_at=now,
        )
        session.add(alert)
        session.flush()
        recipients = [_resolve(session, role, case, task) for role in scheduled.recipients]
        for role, user_id in zip(scheduled.recipients, recipients, strict=True):
            session.add(AlertRecipient(alert_id=alert.id, role=role, user_id=user_id))
        # The alert goes to them too, by email: the task's page when there is a task.
        path = f"/tasks/{task.id}" if task is not None else f"/cases/{case.id}"
        notify(session, recipients, scheduled.kind, case, path, now)
        scheduled.status = AlertStatus.RAISED
        uow.audit(
            at=now,
            actor_id=SYSTEM.id,
            actor_role=SYSTEM.role,
            action="alert.raised",
            case_id=case.id,
            task_id=deadline_row.task_id,
            kind=scheduled.kind,
            deadline=deadline_row.deadline_id,
            recipients=list(scheduled.recipients),
        )
        uow.publish(
            "alert.raised",
            now,
            case_id=case.id,
            alert_id=alert.id,
            kind=scheduled.kind,
            deadline_id=deadline_row.deadline_id,
            due_at=deadline_row.due_at,
            recipients=list(scheduled.recipients),
        )
        uow.commit()
    return 1


def _zone_of(ctx: EngineContext, session: Session, deadline_row: Deadline) -> ZoneInfo:
    """The time zone of the jurisdiction whose clock the deadline runs on."""
    instance = session.get(ProcessInstance, deadline_row.instance_id)
    case = session.get(Case, deadline_row.case_id)
    if instance is None or case is None:
        return ZoneInfo("UTC")
    profile = ctx.definitions.compiled(session, instance.version_id).profile(case.profile_id)
    return profile.calendar.zone if profile is not None else ZoneInfo("UTC")


def _message(kind: str, deadline_row: Deadline, case: Case, zone: ZoneInfo) -> str:
    """The alert in words, its time as the jurisdiction's clock shows it ("Tue 01 Dec 10:16")."""
    due = deadline_row.due_at.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")
    return {
        "reminder": f"Reminder: {deadline_row.title} for case {case.case_number} is due {due}",
        "due": f"Due now: {deadline_row.title} for case {case.case_number} ({due})",
        "overdue": f"OVERDUE: {deadline_row.title} for case {case.case_number} was due {due}",
        "escalation": (
            f"ESCALATION: {deadline_row.title} for case {case.case_number} is still not done "
            f"(due {due})"
        ),
    }.get(kind, f"{deadline_row.title} ({case.case_number})")


def _resolve(session: Session, role: str, case: Case, task: HumanTask | None) -> str | None:
    """The user a ladder role means for this case: the task's assignee or the case worker, the
    team's supervisor, the unit's program director, the team's attorney."""
    if role == "assignee":
        return (task.assignee if task is not None else None) or case.assigned_to
    team = session.get(Team, case.team) if case.team else None
    if team is None:
        return None
    if role == "supervisor":
        return team.supervisor_id
    candidates = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    for user in candidates:
        if role not in user.roles:
            continue
        if role == "program_director" and user.unit == team.unit:
            return user.id
        if role != "program_director" and user.team_id == team.id:
            return user.id
    return None


# -- reading and acknowledging ------------------------------------------------------------


def _alert(alert: Alert, case: Case, roles: list[str]) -> dict[str, Any]:
    return {
        "id": str(alert.id),
        "kind": alert.kind,
        "case_id": str(alert.case_id),
        "case_number": case.case_number,
        "task_id": str(alert.task_id) if alert.task_id else None,
        "deadline_id": alert.deadline_id,
        "message": alert.message,
        "due_at": alert.due_at.isoformat() if alert.due_at else None,
        "raised_at": alert.raised_at.isoformat(),
        "as": roles,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


def open_alert_count(ctx: EngineContext, principal: Principal) -> int:
    """How many alerts wait for this person's acknowledgement (for the page header)."""
    query = (
        select(Alert.id)
        .join(Case, Case.id == Alert.case_id)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(
            AlertRecipient.user_id == principal.id,
            _still_theirs(principal),
            Alert.acknowledged_at.is_(None),
        )
        .distinct()
    )
    with ctx.db.reader() as session:
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def my_alerts(
    ctx: EngineContext,
    principal: Principal,
    *,
    open_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    query = (
        select(Alert, Case)
        .join(Case, Case.id == Alert.case_id)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(AlertRecipient.user_id == principal.id, _still_theirs(principal))
        .distinct()
    )
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    with ctx.db.reader() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(
            query.order_by(Alert.raised_at.desc(), Alert.id).offset(offset).limit(limit)
        ).all()
        roles: dict[uuid.UUID, list[str]] = {}
        for alert_id, role in session.execute(
            select(AlertRecipient.alert_id, AlertRecipient.role)
            .where(
                AlertRecipient.alert_id.in_([alert.id for alert, _ in rows]),
                AlertRecipient.user_id == principal.id,
            )
            .order_by(AlertRecipient.role)
        ):
            roles.setdefault(alert_id, []).append(role)
        result = [_alert(alert, case, roles.get(alert.id, [])) for alert, case in rows]
    audit_listed(ctx, principal, [(case.id, case.sensitive) for _, case in rows], "alerts")
    return result, total


def _still_theirs(principal: Principal) -> ColumnElement[bool]:
    """An alert about a case the recipient may no longer read (reassigned since) is not
    theirs to see: it would name the case. A break-the-glass notice is: it is addressed to the
    security group, whose members need not read the case to review who opened it."""
    return or_(visible_cases(principal), Alert.kind == emergency.ALERT_KIND)


def acknowledge(ctx: EngineContext, principal: Principal, alert_id: uuid.UUID) -> dict[str, Any]:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        alert = session.get(Alert, alert_id, with_for_update=True)
        recipient = session.scalar(
            select(AlertRecipient.role).where(
                AlertRecipient.alert_id == alert_id, AlertRecipient.user_id == principal.id
            )
        )
        if alert is None or recipient is None:
            raise NotFound(f"no alert {alert_id} for you")
        case = session.scalar(
            select(Case)
            .join(Alert, Alert.case_id == Case.id)
            .where(Alert.id == alert_id, _still_theirs(principal))
        )
        if case is None:
            raise NotFound(f"no alert {alert_id} for you")
        if alert.acknowledged_at is not None:
            raise Conflict(f"alert {alert_id} was acknowledged by {alert.acknowledged_by}")
        alert.acknowledged_by = principal.id
        alert.acknowledged_at = now
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="alert.acknowledged",
            case_id=alert.case_id,
            alert=str(alert.id),
            kind=alert.kind,
        )
        uow.publish(
            "alert.acknowledged",
            now,
            case_id=alert.case_id,
            alert_id=alert.id,
            by=principal.id,
        )
        uow.commit()
        return _alert(alert, case, [recipient])
