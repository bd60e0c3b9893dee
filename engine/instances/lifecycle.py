"""Starting a process for a case, as its own use case (the CLI, tests, another system); most
instances start from a message a phase throws (``steps.route``) or with their case
(``engine.cases.opening``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from engine.context import Actor, EngineContext
from engine.instances.steps import Run, case_of, start_in
from engine.storage.uow import UnitOfWork


@dataclass(frozen=True)
class StartedInstance:
    id: uuid.UUID
    case_id: uuid.UUID
    process_id: str
    version_id: int


def start_instance(
    ctx: EngineContext,
    actor: Actor,
    case_id: uuid.UUID,
    process_id: str,
    data: dict[str, Any] | None = None,
) -> StartedInstance:
    with UnitOfWork(ctx.db.writer) as uow:
        case = case_of(uow.session, case_id)
        instance = start_in(Run(ctx, uow, actor, case), process_id, data or {})
        uow.commit()
    return StartedInstance(instance.id, case.id, instance.process_id, instance.version_id)
