"""Starting a deployed process on a case by hand: any process with a plain start event (for
the roles its lanes name: who does its work may start it), or with a message start event (for
the roles the message names, as a message sent by hand). The case must be open and one the
person may read; the process starts on the live version that has it."""

from __future__ import annotations

import uuid
from typing import Any

from engine.context import EngineContext
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.identity.access import readable_case
from engine.identity.users import Principal
from engine.instances.lifecycle import start_instance
from engine.instances.messages import deliver_message
from engine.statuses import CaseStatus
from engine.tasks.form_schemas import validate_task_data

# What every instance starts with from its case: a start's own data may not say otherwise.
CASE_KEYS = frozenset(
    {"case_id", "case_number", "profile_id", "profile", "children", "allegations"}
)


def start_by_hand(
    ctx: EngineContext,
    principal: Principal,
    case_id: uuid.UUID,
    process_id: str,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start ``process_id`` on the case. In this order, so that each answer says only what the
    person may learn: NotFound for a case they may not read or a process nothing deploys;
    Forbidden for a role the diagram does not name; Conflict for a closed case; InvalidInput
    (or InvalidTaskData) for start data the process does not take."""
    data = dict(data or {})
    with ctx.db.reader() as session:
        case = readable_case(session, principal, case_id)
        version_id = ctx.definitions.newest_version_of(session, process_id, case.profile_id)
        compiled = ctx.definitions.compiled(session, version_id)
    definition = compiled.process(process_id)
    if definition is None:
        raise NotFound(f"no deployed process {process_id!r}")
    message = None
    if definition.has_plain_start:
        starters = compiled.roles_of(process_id)
        if not principal.roles & starters:
            allowed = ", ".join(sorted(starters)) or "nobody (it has no user task)"
            raise Forbidden(f"process {process_id!r} is started by its lanes' roles: {allowed}")
    else:
        message = next(
            (m for m in definition.start_messages if principal.roles & compiled.senders(m)), None
        )
        if message is None:
            senders = sorted({r for m in definition.start_messages for r in compiled.senders(m)})
            allowed = ", ".join(senders) or "nobody (its diagram names no senders)"
            raise Forbidden(f"process {process_id!r} starts on a message sent by: {allowed}")
    if case.status != CaseStatus.OPEN:
        raise Conflict(f"case {case.case_number} is {case.status}")
    reserved = sorted(CASE_KEYS & set(data))
    if reserved:
        raise InvalidInput(f"the case itself gives {', '.join(reserved)}: leave them out")
    if message is not None:
        instance_id = deliver_message(ctx, principal.actor, case_id, message, data)
        return _started(case_id, process_id, instance_id, version_id, message)
    _check_start_data(compiled.start_form(process_id), process_id, data)
    started = start_instance(ctx, principal.actor, case_id, process_id, data)
    return _started(case_id, process_id, started.id, started.version_id, None)


def _check_start_data(form: dict[str, Any] | None, process_id: str, data: dict[str, Any]) -> None:
    """Start data fits the start event's form; a process without one takes none."""
    if form is not None:
        validate_task_data(form, data)
    elif data:
        raise InvalidInput(
            f"process {process_id!r} takes no start data: give its start event a form "
            "(forms/<start event id>.schema.json) saying what it takes"
        )


def _started(
    case_id: uuid.UUID,
    process_id: str,
    instance_id: uuid.UUID,
    version_id: int,
    message: str | None,
) -> dict[str, Any]:
    return {
        "case_id": str(case_id),
        "process_id": process_id,
        "instance_id": str(instance_id),
        "version": version_id,
        "message": message,
    }
