"""Reading a case's data: the access check first, and for a sensitive case (or one opened by
breaking the glass) an audit entry naming who read what (DOMAIN §5.10), whatever route or
page the read came through.

Every use case that shows a case's data reads it through ``reading_case`` (one case) or
reports what a list showed with ``audit_listed`` (worklists, case lists, alerts): the access
matrix test holds every route to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import NotFound
from engine.identity.access import readable_case
from engine.identity.users import Principal
from engine.storage.tables import Case, HumanTask
from engine.storage.uow import UnitOfWork

READ = "case.read"


@contextmanager
def reading_case(
    ctx: EngineContext,
    principal: Principal,
    case_id: uuid.UUID,
    what: str,
    missing: str | None = None,
) -> Iterator[tuple[Session, Case]]:
    """A read transaction with the case, if this principal may read it (NotFound, with
    ``missing`` as its message, otherwise); a sensitive case's read is audited once the block
    has read it without error."""
    with ctx.db.reader() as session:
        case = readable_case(session, principal, case_id, missing)
        yield session, case
    if watched(principal, case.id, case.sensitive):
        audit_reads(ctx, principal, [case.id], what)


@contextmanager
def reading_task(
    ctx: EngineContext, principal: Principal, task_id: uuid.UUID, what: str
) -> Iterator[tuple[Session, HumanTask, Case]]:
    """``reading_case`` for a task: the task and its case read in one transaction, and "not
    found" for both an unknown task and one whose case the principal may not read."""
    missing = f"no task {task_id}"
    with ctx.db.reader() as session:
        task = session.get(HumanTask, task_id)
        if task is None:
            raise NotFound(missing)
        case = readable_case(session, principal, task.case_id, missing)
        yield session, task, case
    if watched(principal, case.id, case.sensitive):
        audit_reads(ctx, principal, [case.id], what)


def watched(principal: Principal, case_id: uuid.UUID, sensitive: bool) -> bool:
    """Reads that leave a trace: of a sensitive case, and of a case opened by breaking the
    glass (every page the grant is used for)."""
    return sensitive or case_id in principal.emergency_cases


def audit_listed(
    ctx: EngineContext, principal: Principal, listed: Iterable[tuple[uuid.UUID, bool]], what: str
) -> None:
    """A list showed these (case id, sensitive) rows: audit the watched ones, once each."""
    sensitive = sorted({c for c, is_sensitive in listed if watched(principal, c, is_sensitive)})
    if sensitive:
        audit_reads(ctx, principal, sensitive, what)


def audit_reads(
    ctx: EngineContext, principal: Principal, case_ids: list[uuid.UUID], what: str
) -> None:
    with UnitOfWork(ctx.db.writer) as uow:
        now = ctx.clock.now()
        for case_id in case_ids:
            uow.audit(
                at=now,
                actor_id=principal.id,
                actor_role=principal.actor.role,
                action=READ,
                case_id=case_id,
                what=what,
            )
        uow.commit()
