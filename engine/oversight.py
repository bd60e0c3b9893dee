"""What supervisors, program directors, designers and auditors look at: alerts, caseloads, the
federal timeliness measures (DOMAIN §6), deployed definitions and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from engine import audit, emergency, outbox, redaction
from engine.access import readable_case, require, visible_cases
from engine.case_reads import audit_listed
from engine.context import EngineContext
from engine.errors import Conflict, Forbidden, NotFound
from engine.identity import Principal
from engine.instances import deliver_message
from engine.tables import (
    Alert,
    AlertRecipient,
    AuditEvent,
    AwaitedMessage,
    Case,
    CasePerson,
    Deadline,
    DefinitionFile,
    DefinitionVersion,
    HumanTask,
    ProcessInstance,
    Team,
    User,
)
from engine.uow import UnitOfWork

# -- alerts -------------------------------------------------------------------------------------


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
        audit.record(
            session,
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="alert.acknowledged",
            case_id=alert.case_id,
            alert=str(alert.id),
            kind=alert.kind,
        )
        outbox.publish(
            session,
            "alert.acknowledged",
            now,
            case_id=alert.case_id,
            alert_id=alert.id,
            by=principal.id,
        )
        uow.commit()
        return _alert(alert, case, [recipient])


# -- caseload and measures -------------------------------------------------------------------


def _overseen_teams(session: Any, principal: Principal) -> list[str]:
    teams = set(principal.supervised_teams)
    if principal.has("program_director") and principal.unit:
        teams |= set(session.scalars(select(Team.id).where(Team.unit == principal.unit)))
    if not teams:
        raise Forbidden("the caseload is for supervisors and program directors")
    return sorted(teams)


def caseload(
    ctx: EngineContext, principal: Principal, now: datetime | None = None
) -> dict[str, Any]:
    """Per worker of the teams I oversee: open cases, children, overdue tasks, due this week;
    and the teams' timeliness measures."""
    now = now or ctx.clock.now()
    week = now + timedelta(days=7)
    with ctx.db.reader() as session:
        teams = _overseen_teams(session, principal)
        workers = session.scalars(
            select(User).where(User.team_id.in_(teams), User.active.is_(True)).order_by(User.id)
        ).all()
        rows = []
        for worker in workers:
            if not set(worker.roles) & {
                "investigator",
                "ongoing_caseworker",
                "intake_screener",
                "attorney",
            }:
                continue
            open_cases = select(Case.id).where(
                Case.assigned_to == worker.id, Case.status.not_in(["closed", "screened_out"])
            )
            ready = select(func.count()).where(
                HumanTask.assignee == worker.id, HumanTask.status == "ready"
            )
            rows.append(
                {
                    "user_id": worker.id,
                    "name": worker.display_name,
                    "team": worker.team_id,
                    "roles": list(worker.roles),
                    "open_cases": session.scalar(
                        select(func.count()).select_from(open_cases.subquery())
                    ),
                    "children": session.scalar(
                        select(func.count()).where(
                            CasePerson.role == "child", CasePerson.case_id.in_(open_cases)
                        )
                    ),
                    "overdue_tasks": session.scalar(
                        ready.where(
                            or_(HumanTask.due_at < now, HumanTask.overdue_since.is_not(None))
                        )
                    ),
                    "due_this_week": session.scalar(
                        ready.where(HumanTask.due_at >= now, HumanTask.due_at < week)
                    ),
                }
            )
        measures = _measures(session, teams)
    return {"teams": teams, "workers": rows, "measures": measures}


def _measures(session: Any, teams: list[str]) -> dict[str, Any]:
    def share(measure: str) -> dict[str, Any]:
        ended: Select[Any] = (
            select(Deadline)
            .join(Case, Case.id == Deadline.case_id)
            .where(
                Case.team.in_(teams),
                Deadline.measure == measure,
                Deadline.status.in_(["met", "missed"]),
            )
        )
        rows = session.scalars(ended).all()
        on_time = sum(1 for d in rows if d.status == "met")
        return {
            "measure": measure,
            "on_time": on_time,
            "total": len(rows),
            "share": round(on_time / len(rows), 4) if rows else None,
        }

    return {
        "initiation_timeliness": share("initiation_timeliness")
        | {
            "description": "Investigations initiated (first face-to-face) within the "
            "priority's window (CFSR item 1)"
        },
        "caseworker_visits": share("caseworker_visits")
        | {"description": "Child-months in care with a caseworker visit (IV-B standard: 95%)"},
    }


# -- definitions ---------------------------------------------------------------------------------


def definition_versions(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    require(principal, "process_designer", "administrator", "supervisor", "program_director")
    with ctx.db.reader() as session:
        running = dict(
            session.execute(
                select(ProcessInstance.version_id, func.count())
                .where(ProcessInstance.status == "active")
                .group_by(ProcessInstance.version_id)
            ).all()
        )
        result = []
        for version in session.scalars(
            select(DefinitionVersion).order_by(DefinitionVersion.id.desc())
        ):
            files = session.scalars(
                select(DefinitionFile.path)
                .where(DefinitionFile.version_id == version.id)
                .order_by(DefinitionFile.path)
            ).all()
            result.append(
                {
                    "id": version.id,
                    "content_hash": version.content_hash,
                    "process_ids": list(version.process_ids),
                    "deployed_at": version.deployed_at.isoformat(),
                    "deployed_by": version.deployed_by,
                    "files": list(files),
                    "active_instances": running.get(version.id, 0),
                }
            )
        return result


def definition_file(ctx: EngineContext, principal: Principal, version_id: int, path: str) -> bytes:
    require(principal, "process_designer", "administrator", "supervisor", "program_director")
    with ctx.db.reader() as session:
        found = session.get(DefinitionFile, (version_id, path))
        if found is None:
            raise NotFound(f"no file {path} in version {version_id}")
        return bytes(found.content)


def version_files(ctx: EngineContext, principal: Principal, version_id: int) -> dict[str, bytes]:
    """Every file of a version: the starting point of a designer's next version."""
    require(principal, "process_designer", "administrator")
    with ctx.db.reader() as session:
        files = {
            f.path: bytes(f.content)
            for f in session.scalars(
                select(DefinitionFile).where(DefinitionFile.version_id == version_id)
            )
        }
    if not files:
        raise NotFound(f"no version {version_id}")
    return files


def running_phases(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    """How many phases of each process run on each version: counts only, since a designer
    needs to know what a change would touch, not whose cases they are."""
    require(principal, "process_designer", "administrator")
    with ctx.db.reader() as session:
        rows = session.execute(
            select(ProcessInstance.process_id, ProcessInstance.version_id, func.count())
            .where(ProcessInstance.status == "active")
            .group_by(ProcessInstance.process_id, ProcessInstance.version_id)
            .order_by(ProcessInstance.process_id, ProcessInstance.version_id)
        ).all()
    return [{"process_id": p, "version_id": v, "running": n} for p, v, n in rows]


# -- messages from other systems ----------------------------------------------------------------


def send_message(
    ctx: EngineContext,
    principal: Principal,
    name: str,
    *,
    case_id: uuid.UUID | None = None,
    case_number: str | None = None,
    payload: Any = None,
) -> dict[str, Any]:
    """Deliver a message by hand to the instance of a (visible) case that awaits it, if the
    diagrams let one of the sender's roles send it (``casework:senders``; nobody, unless they
    say so). NotFound for no such case; Forbidden for a sender the diagram does not name;
    Conflict, and nothing changed, when nothing of the case waits for it."""
    if name.startswith("casework."):
        raise Forbidden("casework's own commands cannot be sent from outside")
    with ctx.db.reader() as session:
        if case_id is None:
            found = session.scalar(select(Case.id).where(Case.case_number == (case_number or "")))
            if found is None:
                raise NotFound(f"no case {case_number}")
            case_id = found
        readable_case(session, principal, case_id, f"no case {case_number or case_id}")
        senders = ctx.definitions.compiled(session, _version_for(session, case_id, name)).senders(
            name
        )
    if not principal.roles & senders:
        allowed = ", ".join(sorted(senders)) or "nobody (its diagram names no senders)"
        raise Forbidden(f"message {name!r} may be sent by hand by: {allowed}")
    instance_id = deliver_message(ctx, principal.actor, case_id, name, payload, may_start=False)
    return {"case_id": str(case_id), "instance_id": str(instance_id), "message": name}


def _version_for(session: Any, case_id: uuid.UUID, message: str) -> int:
    """The version whose diagrams say who may send a message to this case: the waiting
    instance's, or (with nothing waiting) the newest deployed."""
    waiting = session.scalar(
        select(ProcessInstance.version_id)
        .join(AwaitedMessage, AwaitedMessage.instance_id == ProcessInstance.id)
        .where(AwaitedMessage.case_id == case_id, AwaitedMessage.message_name == message)
        .order_by(ProcessInstance.created_at)
        .limit(1)
    )
    if waiting is not None:
        return int(waiting)
    newest = session.scalar(select(func.max(DefinitionVersion.id)))
    if newest is None:
        raise NotFound("nothing is deployed")
    return int(newest)


# -- audit ----------------------------------------------------------------------------------------


AUDIT_READ = "audit.read"


def audit_log(
    ctx: EngineContext,
    principal: Principal,
    *,
    case_id: uuid.UUID | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    require(principal, "auditor")
    query = select(AuditEvent)
    conditions = []
    if case_id:
        conditions.append(AuditEvent.case_id == case_id)
    if actor:
        conditions.append(AuditEvent.actor == actor)
    if action:
        conditions.append(AuditEvent.action == action)
    if since:
        conditions.append(AuditEvent.at >= since)
    if until:
        conditions.append(AuditEvent.at < until)
    if conditions:
        query = query.where(and_(*conditions))
    with ctx.db.reader() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = AuditEvent.id.desc() if newest_first else AuditEvent.id
        rows = session.scalars(query.order_by(order).offset(offset).limit(limit)).all()
        named = sorted({r.case_id for r in rows if r.case_id is not None})
        redactors = redaction.for_cases(session, principal, named)
        no_case = redaction.for_reader(principal)  # entries about no case name no reporter
        sensitive = session.scalars(
            select(Case.id).where(Case.id.in_(named), Case.sensitive.is_(True))
        ).all()
    if sensitive:
        # One entry for the look at the trail, naming the sensitive cases it showed, and not
        # in their own trails: there it would be shown by the next look, and audited again.
        _audit_trail_read(ctx, principal, sorted(sensitive))
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "actor_role": r.actor_role,
            "action": r.action,
            "case_id": str(r.case_id) if r.case_id else None,
            "instance_id": str(r.instance_id) if r.instance_id else None,
            "task_id": str(r.task_id) if r.task_id else None,
            "details": redactors.get(r.case_id, no_case).value(r.details or {}),
        }
        for r in rows
    ], total


def _audit_trail_read(ctx: EngineContext, principal: Principal, cases: list[uuid.UUID]) -> None:
    with UnitOfWork(ctx.db.writer) as uow:
        audit.record(
            uow.session,
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action=AUDIT_READ,
            sensitive_cases=[str(case_id) for case_id in cases],
        )
        uow.commit()
