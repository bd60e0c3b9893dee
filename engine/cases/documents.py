"""Documents kept on a case: a medical report, a photograph of an injury, a signed safety plan,
a court order. Their bytes live in the database beside the record (one transaction writes both,
on PostgreSQL and SQLite alike), with a SHA-256 of the content, who kept them and when.

A file is what its bytes say it is: its type is read from its content (``filetype``) and must be
one a case keeps (PDF, images, office documents) and agree with what the sender declared, so a
page renamed to ``.pdf`` is refused rather than kept. Reading one is the case's access rule; a
document marked as identifying the reporter is, like the reporter, only for those who may see
them; every download is audited. Deleting is the supervision chain's act: the bytes go, the row
stays as a tombstone saying who, when and why."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import redaction
from engine.cases.reads import reading_case
from engine.cases.redaction import Redactor
from engine.context import EngineContext
from engine.deadlines.profiles import setting
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.identity.access import readable_case, supervises
from engine.identity.users import Principal
from engine.storage.tables import Allegation, Case, CasePerson, Contact, Document, RecordEntry
from engine.storage.uow import UnitOfWork

MAX_DOCUMENT_BYTES = 25 * 1024 * 1024
# What a case keeps, by the type its bytes show (and the names senders also use for them).
KEPT_TYPES: dict[str, set[str]] = {
    "application/pdf": set(),
    "image/jpeg": {"image/jpg", "image/pjpeg"},
    "image/png": set(),
    "image/gif": set(),
    "image/webp": set(),
    "image/heic": {"image/heif"},
    "image/tiff": set(),
    "application/msword": set(),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": set(),
    "application/vnd.ms-excel": set(),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": set(),
    "application/vnd.oasis.opendocument.text": set(),
    "application/vnd.oasis.opendocument.spreadsheet": set(),
}
# Senders that do not know a file's type say so; then the bytes alone decide.
UNDECLARED = {"", "application/octet-stream"}
# When the jurisdiction profile names none (``data.document_categories``).
DEFAULT_CATEGORIES = {"other": "Other"}
LINKS: dict[str, type[CasePerson | Allegation | Contact | RecordEntry]] = {
    "person": CasePerson,
    "allegation": Allegation,
    "contact": Contact,
    "entry": RecordEntry,
}


@dataclass(frozen=True)
class NewDocument:
    filename: str
    declared_type: str
    content: bytes
    title: str
    category: str
    identifies_reporter: bool = False
    link_kind: str | None = None
    link_id: str | None = None  # as sent: checked, with the case, by the engine


def kept_type(content: bytes, declared: str) -> str:
    """The type a file's bytes show, if a case keeps it and it agrees with the declared one."""
    if not content:
        raise InvalidInput("the file is empty")
    found = filetype.guess_mime(content)
    if found not in KEPT_TYPES:
        raise InvalidInput(
            "casework keeps PDF files, images and office documents; this file's content is "
            + (f"{found}" if found else "none of them")
        )
    declared = declared.split(";")[0].strip().lower()
    if declared not in UNDECLARED and declared != found and declared not in KEPT_TYPES[found]:
        raise InvalidInput(f"the file was sent as {declared}, but its content is {found}")
    return found


def upload(
    ctx: EngineContext,
    principal: Principal,
    case_id: uuid.UUID,
    new: NewDocument,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> dict[str, Any]:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        # Whoever may read the case may keep a document on it; the checks of the file follow,
        # so that a case one may not see answers "not found" whatever was sent.
        case = readable_case(uow.session, principal, case_id)
        if len(new.content) > max_bytes:
            raise InvalidInput(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
        content_type = kept_type(new.content, new.declared_type)
        title = new.title.strip() or new.filename.strip()
        if (
            not title
            or len(title) > 300
            or len(new.filename) > 300
            or "\x00" in title + new.filename
        ):
            raise InvalidInput("a document needs a title of at most 300 characters")
        categories = categories_of(ctx, uow.session, case)
        if new.category not in categories:
            raise InvalidInput(f"choose a category: {', '.join(categories.values())}")
        linked = _check_link(uow.session, case, new.link_kind, new.link_id)
        row = Document(
            id=uuid.uuid4(),
            case_id=case.id,
            title=title,
            category=new.category,
            filename=new.filename.strip()[:300] or "document",
            content_type=content_type,
            size=len(new.content),
            sha256=hashlib.sha256(new.content).hexdigest(),
            content=new.content,
            link_kind=new.link_kind,
            link_id=linked,
            identifies_reporter=new.identifies_reporter,
            uploaded_by=principal.id,
            uploaded_at=now,
        )
        uow.session.add(row)
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="document.added",
            case_id=case.id,
            document=str(row.id),
            category=row.category,
            content_type=content_type,
            size=row.size,
            sha256=row.sha256,
        )
        uow.commit()
        return _json(row)


def documents_of(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The case's documents, deleted ones as tombstones; those identifying the reporter only
    for readers who may see the reporter."""
    found: list[dict[str, Any]] = shelf(ctx, principal, case_id)["documents"]
    return found


def shelf(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
    """The case's documents and the categories a new one may take."""
    with reading_case(ctx, principal, case_id, "documents") as (session, case):
        return on_shelf(ctx, session, principal, case)


def on_shelf(
    ctx: EngineContext, session: Session, principal: Principal, case: Case
) -> dict[str, Any]:
    """``shelf`` inside a read of the case already made (the case page reads it once)."""
    redactor = redaction.for_case(session, principal, case.id)
    rows = session.scalars(
        select(Document).where(Document.case_id == case.id).order_by(Document.uploaded_at)
    ).all()
    return {
        # Free text (a title, a file name, a reason) may name the reporter too: cut as elsewhere.
        "documents": [
            _cut(_json(row), redactor)
            for row in rows
            if not (redactor.hides and row.identifies_reporter)
        ],
        "categories": categories_of(ctx, session, case),
    }


def content_of(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[dict[str, Any], bytes]:
    """A document and its bytes, for a download (audited, whoever reads it)."""
    with UnitOfWork(ctx.db.writer) as uow:
        case = readable_case(uow.session, principal, case_id)
        row = _document(uow.session, principal, case, document_id)
        if row.deleted_at is not None or row.content is None:
            raise NotFound(f"document {row.title!r} was deleted")
        uow.audit(
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="document.read",
            case_id=case.id,
            document=str(row.id),
        )
        content = bytes(row.content)
        described = _json(row)
        uow.commit()
    return described, content


def delete(
    ctx: EngineContext,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    reason: str,
) -> dict[str, Any]:
    """The supervision chain removes a document's bytes; the record keeps that it was there."""
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        case = readable_case(uow.session, principal, case_id)
        if not supervises(uow.session, principal, case):
            raise Forbidden("deleting a document is for the case's supervisor or program director")
        # Locked: of two deletions at once, the second waits and finds it deleted already.
        row = _document(uow.session, principal, case, document_id, lock=True)
        if not 10 <= len(reason.strip()) <= 2000:
            raise InvalidInput("say why the document is deleted (10 to 2000 characters)")
        if row.deleted_at is not None:
            raise Conflict(f"“{row.title}” was deleted already")
        row.content = None
        row.deleted_at, row.deleted_by, row.delete_reason = now, principal.id, reason.strip()
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="document.deleted",
            case_id=case.id,
            document=str(row.id),
            sha256=row.sha256,
            reason=row.delete_reason,
        )
        uow.commit()
        return _json(row)


def categories_of(ctx: EngineContext, session: Session, case: Case) -> dict[str, str]:
    """The kinds of document the case's jurisdiction keeps (code → title)."""
    from engine.cases.jurisdictions import profile_of

    named = setting(profile_of(ctx, session, case.profile_id), "document_categories", None)
    return dict(named) if isinstance(named, dict) and named else dict(DEFAULT_CATEGORIES)


def _check_link(
    session: Session, case: Case, kind: str | None, link_id: str | None
) -> uuid.UUID | None:
    """The id of what the document concerns, checked to be of this case."""
    if kind is None and link_id is None:
        return None
    table = LINKS.get(kind or "")
    if table is None or link_id is None:
        raise InvalidInput(f"a document concerns one of: {', '.join(LINKS)} (with its id)")
    try:
        linked = uuid.UUID(link_id)
    except ValueError:
        raise InvalidInput(f"{link_id!r} is not the id of a {kind}") from None
    if session.scalar(select(table.case_id).where(table.id == linked)) != case.id:
        raise InvalidInput(f"no {kind} {link_id} on this case")
    return linked


def _document(
    session: Session,
    principal: Principal,
    case: Case,
    document_id: uuid.UUID,
    lock: bool = False,
) -> Document:
    row = session.get(Document, document_id, with_for_update=lock, populate_existing=lock)
    if row is None or row.case_id != case.id:
        raise NotFound(f"no document {document_id} on this case")
    if row.identifies_reporter and redaction.for_case(session, principal, case.id).hides:
        raise NotFound(f"no document {document_id} on this case")  # as the reporter: unseen
    return row


def _cut(described: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    for key in ("title", "filename", "delete_reason"):
        if described[key]:
            described[key] = redactor.text(described[key])
    return described


def _json(row: Document) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "case_id": str(row.case_id),
        "title": row.title,
        "category": row.category,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "link_kind": row.link_kind,
        "link_id": str(row.link_id) if row.link_id else None,
        "identifies_reporter": row.identifies_reporter,
        "uploaded_by": row.uploaded_by,
        "uploaded_at": row.uploaded_at.isoformat(),
        "deleted": row.deleted_at is not None,
        "deleted_by": row.deleted_by,
        "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
        "delete_reason": row.delete_reason,
    }
