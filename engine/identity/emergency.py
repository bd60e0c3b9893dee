"""Breaking the glass: an on-call worker opens a case that is not theirs, in an emergency.

Nobody's standing access widens. The worker states why and for how long (at most a night's
shift); the grant is audited at once, lets them read and work the case until it expires, and
the next morning the case's supervisor and the security group are told, by an alert they
acknowledge like any other (DOMAIN §5: "blocked (break-glass with reason + alert)").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import SYSTEM, EngineContext
from engine.errors import Conflict, FieldError, Forbidden, InvalidTaskData, NotFound
from engine.identity.access import visible_cases
from engine.identity.roles import INTAKE_ROLES, SUPERVISING_ROLES, WORKER_ROLES
from engine.identity.users import Principal
from engine.storage.tables import Alert, AlertRecipient, Case, EmergencyAccess, Team, User
from engine.storage.uow import UnitOfWork
from engine.tasks.form_schemas import field_errors

# People who work cases may break the glass; attorneys, independent reviewers (who chair and
# review, and do not work a case in an emergency) and the agency's set-up roles may not.
MAY_BREAK_GLASS = (
    (WORKER_ROLES - {"attorney", "independent_reviewer"}) | INTAKE_ROLES | SUPERVISING_ROLES
)
LONGEST = timedelta(hours=12)
# When the supervisor and the security group hear of it: the next morning, agency time.
MORNING = time(8, 0)
ALERT_KIND = "break_glass"

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["case_number", "reason"],
    "additionalProperties": False,
    "properties": {
        "case_number": {"type": "string", "minLength": 1, "maxLength": 64},
        "reason": {
            "type": "string",
            "minLength": 20,
            "maxLength": 2000,
            "description": "why the case must be opened now (at least 20 characters)",
        },
        "minutes": {"type": "integer", "minimum": 15, "maximum": 720, "default": 240},
    },
}


@dataclass(frozen=True)
class Grant:
    case_id: uuid.UUID
    case_number: str
    granted_at: datetime
    expires_at: datetime
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": str(self.case_id),
            "case_number": self.case_number,
            "granted_at": self.granted_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "reason": self.reason,
        }


def next_morning(moment: datetime, zone: ZoneInfo) -> datetime:
    """The first 08:00 in ``zone`` after ``moment``."""
    local = moment.astimezone(zone)
    morning = datetime.combine(local.date(), MORNING, tzinfo=zone)
    if morning <= local:
        morning = datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=zone)
    return morning


def break_glass(
    ctx: EngineContext, principal: Principal, request: dict[str, Any], zone: ZoneInfo
) -> Grant:
    """Open a case in an emergency: Forbidden for roles that may not, 422 for a request
    without a real reason, NotFound for no such case, Conflict when the case is already
    theirs to read (no grant is needed, and none is recorded)."""
    if not principal.roles & MAY_BREAK_GLASS:
        raise Forbidden("breaking the glass is for people who work cases")
    errors = field_errors(REQUEST_SCHEMA, request)
    if not errors and len(request["reason"].strip()) < 20:
        errors = [FieldError("/reason", "should say why, in at least 20 characters", "minLength")]
    if errors:
        raise InvalidTaskData("the emergency access request is not valid", errors)
    now = ctx.clock.now()
    expires = now + min(timedelta(minutes=request.get("minutes", 240)), LONGEST)
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        case = session.scalar(select(Case).where(Case.case_number == request["case_number"]))
        if case is None:
            raise NotFound(f"no case {request['case_number']}")
        readable = session.scalar(
            select(Case.id).where(Case.id == case.id, visible_cases(principal))
        )
        if readable is not None:
            raise Conflict(f"you can already read case {case.case_number}")
        session.add(
            EmergencyAccess(
                id=uuid.uuid4(),
                case_id=case.id,
                user_id=principal.id,
                reason=request["reason"],
                granted_at=now,
                expires_at=expires,
                notice_due_at=next_morning(now, zone),
            )
        )
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="case.emergency_access",
            case_id=case.id,
            reason=request["reason"],
            expires_at=expires.isoformat(),
        )
        uow.commit()
    return Grant(case.id, case.case_number, now, expires, request["reason"])


def my_grants(ctx: EngineContext, principal: Principal) -> list[Grant]:
    """The caller's grants still running, soonest to expire first."""
    if not principal.roles & MAY_BREAK_GLASS:
        raise Forbidden("breaking the glass is for people who work cases")
    with ctx.db.reader() as session:
        rows = session.execute(
            select(EmergencyAccess, Case.case_number)
            .join(Case, Case.id == EmergencyAccess.case_id)
            .where(
                EmergencyAccess.user_id == principal.id,
                EmergencyAccess.expires_at > ctx.clock.now(),
            )
            .order_by(EmergencyAccess.expires_at)
        ).all()
    return [Grant(g.case_id, number, g.granted_at, g.expires_at, g.reason) for g, number in rows]


def send_due_notices(ctx: EngineContext, batch: int = 100) -> int:
    """Tell the case's supervisor and the security group of every grant whose morning has
    come: one alert each, raised once however many workers tick. Returns the alerts raised."""
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        due = session.scalars(
            select(EmergencyAccess)
            .where(EmergencyAccess.noticed_at.is_(None), EmergencyAccess.notice_due_at <= now)
            .order_by(EmergencyAccess.notice_due_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        raised = 0
        for grant in due:
            raised += _notify(uow, grant, now)
            grant.noticed_at = now
        uow.commit()
    return raised


def _notify(uow: UnitOfWork, grant: EmergencyAccess, now: datetime) -> int:
    """One alert per person told, so that each acknowledges their own; returns how many."""
    session = uow.session
    case = session.get(Case, grant.case_id)
    assert case is not None
    # The reason is free text (it may name anyone): it stays in the audit entry, redacted
    # there for whoever may not see the reporter; the alert says where to read it.
    message = (
        f"Emergency access: {grant.user_id} opened case {case.case_number} at "
        f"{grant.granted_at.isoformat()} until {grant.expires_at.isoformat()}; the reason "
        "given is in the case's audit trail."
    )
    recipients = _recipients(session, case)
    if not recipients:
        uow.audit(
            at=now,
            actor_id=SYSTEM.id,
            actor_role=SYSTEM.role,
            action="case.emergency_access_untold",
            case_id=case.id,
            grant_holder=grant.user_id,
            why="the case's team has no supervisor and the security group is empty",
        )
    for role, user_id in recipients:
        alert = Alert(
            id=uuid.uuid4(),
            kind=ALERT_KIND,
            case_id=case.id,
            message=message,
            raised_at=now,
        )
        session.add(alert)
        session.flush()
        session.add(AlertRecipient(alert_id=alert.id, role=role, user_id=user_id))
        uow.audit(
            at=now,
            actor_id=SYSTEM.id,
            actor_role=SYSTEM.role,
            action="alert.raised",
            case_id=case.id,
            kind=ALERT_KIND,
            recipients=[role],
            grant_holder=grant.user_id,
        )
        uow.publish(
            "alert.raised",
            now,
            case_id=case.id,
            alert_id=alert.id,
            kind=ALERT_KIND,
            deadline_id=None,
            due_at=None,
            recipients=[role],
        )
    return len(recipients)


def _recipients(session: Session, case: Case) -> list[tuple[str, str]]:
    """Who is told: the case team's supervisor and every active member of the security group,
    each once, as (the role the alert names them by, user id)."""
    told: dict[str, str] = {}
    team = session.get(Team, case.team) if case.team else None
    if team is not None and team.supervisor_id:
        told[team.supervisor_id] = "supervisor"
    for user_id in session.scalars(
        select(User.id).where(User.active.is_(True), User.security_group.is_(True))
    ):
        told.setdefault(user_id, "security_group")
    return [(role, user_id) for user_id, role in sorted(told.items())]
