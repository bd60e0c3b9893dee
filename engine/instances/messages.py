"""Delivering a message to a case: to the instance that awaits it (or, when allowed, the process
it starts), as its own use case or inside another's (an inbound event); and by hand, when the
diagrams let one of the sender's roles send it (``casework:senders``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import Actor, EngineContext
from engine.errors import Conflict, Forbidden, NotFound
from engine.identity.access import readable_case
from engine.identity.users import Principal
from engine.instances.steps import Run, case_of, route
from engine.spiff.definitions import CompiledBundle
from engine.statuses import CaseStatus
from engine.storage.tables import (
    AwaitedMessage,
    Case,
    ProcessInstance,
)
from engine.storage.uow import UnitOfWork


def deliver_message(
    ctx: EngineContext,
    actor: Actor,
    case_id: uuid.UUID,
    name: str,
    payload: Any,
    *,
    may_start: bool = True,
) -> uuid.UUID:
    """Deliver a message to the instance of a case that awaits it or, when ``may_start``, start
    the process whose message start event catches it. Returns the instance that received it.

    Raises NotFound for an unknown case and Conflict when nothing takes the message.
    """
    with UnitOfWork(ctx.db.writer) as uow:
        run = Run(ctx, uow, actor, case_of(uow.session, case_id))
        instance_id = route(run, name, payload, require_waiting=not may_start)
        uow.commit()
    return instance_id


def deliver_message_in(
    ctx: EngineContext, uow: UnitOfWork, actor: Actor, case_id: uuid.UUID, name: str, payload: Any
) -> uuid.UUID:
    """A message from outside to the instance of a case that awaits it, as part of the caller's
    unit of work (it starts no process)."""
    run = Run(ctx, uow, actor, case_of(uow.session, case_id))
    return route(run, name, payload, require_waiting=True)


def send_message(
    ctx: EngineContext,
    principal: Principal,
    name: str,
    *,
    case_id: uuid.UUID | None = None,
    case_number: str | None = None,
    payload: Any = None,
) -> dict[str, Any]:
    """Deliver a message by hand to the instance of a (visible) case that awaits it, or start
    the process it starts (a placement change), if the diagrams let one of the sender's roles
    send it (``casework:senders``; nobody, unless they say so). NotFound for no such case;
    Forbidden for a sender the diagram does not name; Conflict, and nothing changed, for a
    closed case or when nothing of the case waits for it and no process starts on it."""
    if name.startswith("casework."):
        raise Forbidden("casework's own commands cannot be sent from outside")
    with ctx.db.reader() as session:
        if case_id is None:
            found = session.scalar(select(Case.id).where(Case.case_number == (case_number or "")))
            if found is None:
                raise NotFound(f"no case {case_number}")
            case_id = found
        case = readable_case(session, principal, case_id, f"no case {case_number or case_id}")
        senders = ctx.definitions.compiled(session, _version_for(ctx, session, case, name)).senders(
            name
        )
    if not principal.roles & senders:
        allowed = ", ".join(sorted(senders)) or "nobody (its diagram names no senders)"
        raise Forbidden(f"message {name!r} may be sent by hand by: {allowed}")
    if case.status != CaseStatus.OPEN:
        raise Conflict(f"case {case.case_number} is {case.status}")
    instance_id = deliver_message(ctx, principal.actor, case_id, name, payload)
    return {"case_id": str(case_id), "instance_id": str(instance_id), "message": name}


def startable(
    ctx: EngineContext, principal: Principal, profile_id: str | None = None
) -> list[dict[str, str]]:
    """The processes this person may start on a case by hand (a message start event whose
    message names one of their roles), in the newest deployed version; for a case of a
    jurisdiction, of the processes it runs."""
    with ctx.db.reader() as session:
        compiled = _bundle_of(ctx, session, profile_id)
    if compiled is None:
        return []
    found = []
    for message, process_ids in sorted(compiled.message_starts.items()):
        if principal.roles & compiled.senders(message):
            for process_id in process_ids:
                if profile_id is not None and not compiled.runs(profile_id, process_id):
                    continue
                definition = compiled.process(process_id)
                name = definition.name if definition is not None else process_id
                found.append({"message": message, "process_id": process_id, "name": name})
    return found


def _bundle_of(
    ctx: EngineContext, session: Session, profile_id: str | None
) -> CompiledBundle | None:
    """The version a jurisdiction's new work starts on, else the current one."""
    held = ctx.definitions.intake_of(session, profile_id) if profile_id is not None else None
    version = held[0] if held is not None else ctx.definitions.current_version_id(session)
    return ctx.definitions.compiled(session, int(version)) if version is not None else None


def _version_for(ctx: EngineContext, session: Session, case: Case, message: str) -> int:
    """The version whose diagrams say who may send a message to this case: the waiting
    instance's, or (with nothing waiting) the one the message would start a process of the
    case's jurisdiction on, else the current one."""
    waiting = session.scalar(
        select(ProcessInstance.version_id)
        .join(AwaitedMessage, AwaitedMessage.instance_id == ProcessInstance.id)
        .where(AwaitedMessage.case_id == case.id, AwaitedMessage.message_name == message)
        .order_by(ProcessInstance.created_at)
        .limit(1)
    )
    if waiting is not None:
        return int(waiting)
    route = ctx.definitions.newest_start_route(session, message, case.profile_id)
    if route is not None:
        return route.version_id
    current = ctx.definitions.current_version_id(session)
    if current is None:
        raise NotFound("nothing is deployed")
    return current
