"""Extensions: a supervisor moves a statutory deadline later (an investigation extension, a
safety-plan extension). The deadline, its engine timer, the task's due date and the rest of its
escalation ladder move together, in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update

from engine.context import Actor, EngineContext
from engine.deadlines import ladders
from engine.errors import Conflict, InvalidInput, NotFound
from engine.instances.steps import reschedule
from engine.statuses import AlertStatus, DeadlineStatus
from engine.storage.tables import Deadline, HumanTask, ScheduledAlert
from engine.storage.uow import UnitOfWork


def extend_deadline(
    ctx: EngineContext,
    actor: Actor,
    case_id: uuid.UUID,
    deadline_id: str,
    due_at: datetime,
    reason: str,
) -> Deadline:
    """An approved extension: the deadline, its engine timer, the task's due date and the
    rest of its ladder all move to ``due_at``. Only an open deadline can be extended, and only
    to a later moment."""
    if due_at.tzinfo is None:
        raise InvalidInput("the new due moment needs a time zone")
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        row = session.scalar(
            select(Deadline)
            .where(
                Deadline.case_id == case_id,
                Deadline.deadline_id == deadline_id,
                Deadline.status == DeadlineStatus.OPEN,
            )
            .order_by(Deadline.started_at.desc())
            .limit(1)
            .with_for_update()
        )
        if row is None:
            raise NotFound(f"no open deadline {deadline_id} in case {case_id}")
        if due_at <= row.due_at:
            raise Conflict(f"an extension must move {deadline_id} later than {row.due_at}")
        previous = row.due_at
        profile = reschedule(ctx, uow, row.instance_id, row.timer_id, due_at)
        row.due_at = due_at
        session.execute(
            update(ScheduledAlert)
            .where(
                ScheduledAlert.deadline_row_id == row.id,
                ScheduledAlert.status == AlertStatus.PENDING,
            )
            .values(status=AlertStatus.CANCELLED)
        )
        rule = next(r for r in profile.deadlines if r.id == deadline_id)
        ladders.schedule(session, row, profile, rule.ladder, now)
        if row.task_id is not None:
            session.execute(
                update(HumanTask)
                .where(HumanTask.id == row.task_id)
                .values(due_at=due_at, version=HumanTask.version + 1)
            )
        uow.audit(
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="deadline.extended",
            case_id=case_id,
            instance_id=row.instance_id,
            task_id=row.task_id,
            deadline=deadline_id,
            previous_due=previous.isoformat(),
            due=due_at.isoformat(),
            reason=reason,
        )
        uow.commit()
    return row
