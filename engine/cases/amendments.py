"""Correcting the record without losing it: an amendment is a new entry naming the entry it
corrects and why. The original stays as it was typed; the case page and the API show the
current version, the amendments (who, when, why) and the original. Only the person who entered
the fact, or the case's supervision chain, may amend it; each amendment is audited.

A deadline the amended work answered is judged again by the amended event time (a first
contact's time corrected to after its deadline makes it missed, visibly). The process itself
is not rewound: what it decided from the original stays decided, and later clocks the process
computed from it keep their dates."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import record
from engine.cases.reads import reading_case
from engine.cases.redaction import REDACTED, for_case
from engine.cases.subjects import form_for_case
from engine.context import EngineContext
from engine.deadlines.event_time import judge_by_event_time
from engine.errors import Conflict, FieldError, Forbidden, InvalidTaskData, NotFound
from engine.events.audit import changed_fields
from engine.identity.access import readable_case, supervises
from engine.identity.users import Principal
from engine.storage.tables import Case, RecordEntry
from engine.storage.uow import UnitOfWork
from engine.tasks.form_schemas import spec_of, validate_task_data

MIN_REASON = 10
DECISION = "decision"


@dataclass(frozen=True)
class Amendment:
    case_id: uuid.UUID
    entry_id: uuid.UUID
    data: dict[str, Any]
    reason: str


def amendable(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID, entry_id: uuid.UUID
) -> dict[str, Any]:
    """An entry as the amendment form starts from: its current data and the form it was typed
    in. NotFound and Forbidden as ``amend``."""
    with reading_case(ctx, principal, case_id, "record entry") as (session, case):
        original = _original(session, case.id, entry_id)
        _may_amend(session, principal, case, original)
        redactor = for_case(session, principal, case.id)
        forms = record.forms_typed_in(ctx, session, case, {})
        shown = record.entry_as_shown(session, case.id, redactor, forms, original)
        return {"entry": shown, "form": forms(original), "case_number": case.case_number}


def _original(session: Session, case_id: uuid.UUID, entry_id: uuid.UUID) -> RecordEntry:
    entry = session.get(RecordEntry, entry_id)
    if entry is None or entry.case_id != case_id:
        raise NotFound(f"no entry {entry_id} in this case")
    if entry.amends_id is not None:
        entry = session.get(RecordEntry, entry.amends_id)
        assert entry is not None
    return entry


def _may_amend(session: Session, principal: Principal, case: Case, entry: RecordEntry) -> None:
    if entry.entered_by != principal.id and not supervises(session, principal, case):
        raise Forbidden("only who entered it, or the case's supervisor, may amend an entry")
    if entry.version_id is None or entry.element_id is None:
        raise Conflict("the report as filed is corrected through Record hotline report")
    if entry.kind == DECISION:
        raise Conflict("a decision table's outcome is not amended: amend what it decided from")


def amend(ctx: EngineContext, principal: Principal, change: Amendment) -> dict[str, Any]:
    """Amend an entry; returns the entry as the record now shows it. Raises NotFound (no such
    entry in a case this person may read), Forbidden (not theirs to amend), Conflict (the
    report as filed: it is corrected through *Record hotline report*) or InvalidTaskData (the
    reason, or the form's own field errors); nothing changes then."""
    reason = change.reason.strip()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        case = readable_case(session, principal, change.case_id)
        original = _original(session, case.id, change.entry_id)
        _may_amend(session, principal, case, original)
        assert original.version_id is not None and original.element_id is not None
        if len(reason) < MIN_REASON:
            raise InvalidTaskData(
                "an amendment needs a reason",
                [FieldError("/reason", f"say why, in at least {MIN_REASON} characters", "reason")],
            )
        compiled = ctx.definitions.compiled(session, original.version_id)
        profile = compiled.profile(case.profile_id)
        if profile is None:
            raise Conflict(f"profile {case.profile_id!r} is not in the entry's version")
        now = ctx.clock.now()
        form = form_for_case(
            session, compiled.form(original.element_id) or {}, case.id, profile, now
        )
        validate_task_data(form, change.data)
        if REDACTED in json.dumps(change.data):
            # What this reader was shown as [redacted] is not theirs to write back.
            raise InvalidTaskData(
                "the amendment carries a redaction mark",
                [FieldError("/data", f"{REDACTED} stands for what you may not see", "redacted")],
            )
        spec = spec_of(form, original.element_id)
        happened = record.event_time(spec, change.data, profile.calendar, profile.records, now)
        latest = session.scalar(
            select(RecordEntry)
            .where(RecordEntry.amends_id == original.id)
            .order_by(RecordEntry.entered_at.desc(), RecordEntry.id.desc())
            .limit(1)
        )
        before = latest or original
        actor = principal.actor
        session.add(
            RecordEntry(
                id=uuid.uuid4(),
                case_id=case.id,
                kind=original.kind,
                title=original.title,
                task_id=original.task_id,
                version_id=original.version_id,
                process_id=original.process_id,
                element_id=original.element_id,
                subject_id=original.subject_id,
                subject=original.subject,
                data=change.data,
                occurred_at=happened.at,
                occurred_on=happened.on,
                entered_at=now,
                entered_by=actor.id,
                entered_role=actor.role,
                late_entry=record.is_late(happened, original.entered_at, profile.records),
                amends_id=original.id,
                amendment_reason=reason,
            )
        )
        uow.audit(
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="record.amended",
            case_id=case.id,
            entry=str(original.id),
            kind=original.kind,
            changed_fields=changed_fields(dict(before.data), change.data),
            reason=reason,
        )
        moved = (happened.at, happened.on) != (before.occurred_at, before.occurred_on)
        if moved and original.task_id is not None:
            judge_by_event_time(
                uow,
                task_id=original.task_id,
                happened_at=happened.at,
                happened_on=happened.on,
                entered_at=original.entered_at,
                now=now,
                calendar=profile.calendar,
                actor=actor,
                reason=f"the event time was amended: {reason}",
            )
        redactor = for_case(session, principal, case.id)
        forms = record.forms_typed_in(ctx, session, case, {})
        session.flush()
        shown = record.entry_as_shown(session, case.id, redactor, forms, original)
        uow.commit()
    return shown
