"""One task as its page and the API show it: its form, the data the process holds for it, its
draft, deadline and comments, the reporter redacted for the reader (a sensitive case's read
audited)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import record, redaction, referrals
from engine.cases.facts import value_in_words
from engine.cases.reads import reading_task
from engine.cases.subjects import form_for_case
from engine.context import EngineContext
from engine.deadlines.profiles import setting
from engine.identity.users import Principal
from engine.instances import stored
from engine.statuses import InstanceStatus, TaskStatus
from engine.storage.tables import (
    Case,
    Deadline,
    HumanTask,
    ProcessInstance,
    RecordEntry,
    TaskComment,
)
from engine.tasks.form_schemas import (
    CONFIRMATION_SCHEMA,
    files_court_report,
    referrals_mode,
    reviewed_kinds,
)
from engine.tasks.worklists import task_json

# On a task's form as served: the time zone its local date-times are in.
ZONE_KEY = "x-casework-time-zone"


def task_detail(ctx: EngineContext, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
    """A task with its form, current data, deadline, draft and comments, the reporter
    redacted for this reader; reading a sensitive case's task is audited."""
    with reading_task(ctx, principal, task_id, "task") as (session, task, case):
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        compiled = ctx.definitions.compiled(session, instance.version_id)
        result = task_json(task, case.case_number, ctx.clock.now())
        result["form"] = _form(ctx, session, compiled, task, case)
        # A task of the process the case opened with (its intake).
        result["opens_case"] = instance.opens_case
        data: dict[str, Any] = {}
        if task.status == TaskStatus.READY and instance.status == InstanceStatus.ACTIVE:
            definition = compiled.process(instance.process_id)
            profile = compiled.profile(case.profile_id)
            if definition is not None and profile is not None:
                workflow = stored.read_workflow(ctx, session, instance, definition, profile)
                data = ctx.runtime.task_data(workflow, task.id)
        redactor = redaction.for_case(session, principal, case.id)
        properties = result["form"].get("properties", {})
        fields = set(properties)
        # A decision the form asks afresh each time (writeOnly) never starts answered.
        fresh = {
            k for k, sub in properties.items() if isinstance(sub, dict) and sub.get("writeOnly")
        }
        # A field starts with what the process holds under its name only when no form
        # recorded that answer (the report as filed) or this same form did (its answer, sent
        # back for another try): another form's "notes" are that form's, not this one's.
        recorded, own = _recorded_answers(session, case.id, task.bpmn_id)
        result["data"] = redactor.value(
            {
                k: v
                for k, v in data.items()
                if (k in fields or k == "reporter")
                and k not in fresh
                and (k not in recorded or (k in own and own[k] == v))
            }
        )
        result["context"] = redactor.value(
            {k: v for k, v in data.items() if k not in fields and _plain(v)}
        )
        # The same, as a person reads it: codes in the jurisdiction's words, yes or no.
        codes = setting(compiled.profile(case.profile_id), "code_labels", {})
        result["context_in_words"] = {
            key.replace("_", " ").capitalize(): value_in_words(value, codes)
            for key, value in result["context"].items()
            if not key.endswith("_id")  # the process's own references, not the family's facts
        }
        # A decision asked afresh is not carried over by a draft either (another holder's).
        result["draft"] = redactor.value(
            {k: v for k, v in task.draft.items() if k not in fresh} if task.draft else task.draft
        )
        result["subject_id"], result["subject"] = task.subject_id, task.subject
        # The supervisor's reasons, when an approval sent this work back.
        result["returned_notes"] = redactor.text(str(data.get("returned_notes") or ""))
        # A plan's referrals: made from its task, or followed on it (their outcomes are the
        # plan's progress).
        result["referrals_mode"] = referrals_mode(result["form"])
        result["referrals"] = (
            referrals.on_case(ctx, session, case, redactor) if result["referrals_mode"] else []
        )
        # A report task: the page offers the report as the record makes it now, to read first.
        result["files_court_report"] = files_court_report(result["form"])
        forms = record.forms_typed_in(ctx, session, case, {})
        # What was submitted, by whom and when (a completed task)…
        result["record"] = record.entries(session, case.id, redactor, forms, task_id=task.id)
        # …and, on an approval, the work it decides on.
        reviews = reviewed_kinds(result["form"])
        result["reviewing"] = (
            record.entries(session, case.id, redactor, forms, kinds=reviews) if reviews else []
        )
        deadline = session.scalar(
            select(Deadline).where(Deadline.task_id == task.id).order_by(Deadline.due_at)
        )
        result["deadline"] = (
            {
                "id": deadline.deadline_id,
                "title": deadline.title,
                "due_at": deadline.due_at.isoformat(),
                "status": deadline.status,
            }
            if deadline
            else None
        )
        result["comments"] = [
            {"author": c.author, "at": c.at.isoformat(), "text": redactor.text(c.text)}
            for c in session.scalars(
                select(TaskComment).where(TaskComment.task_id == task.id).order_by(TaskComment.at)
            )
        ]
    return result


def task_form(ctx: EngineContext, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
    """The task's form alone: what a submission is read against (no instance is loaded)."""
    with reading_task(ctx, principal, task_id, "task form") as (session, task, case):
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        compiled = ctx.definitions.compiled(session, instance.version_id)
        return _form(ctx, session, compiled, task, case)


def _form(
    ctx: EngineContext, session: Session, compiled: Any, task: HumanTask, case: Case
) -> dict[str, Any]:
    form = compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA
    profile = compiled.profile(case.profile_id)
    if profile is None:
        return dict(form)
    shown = form_for_case(session, form, case.id, profile, ctx.clock.now())
    # The zone its local times are typed in: the case's jurisdiction's (an annotation, which
    # validation passes over).
    return {**shown, ZONE_KEY: profile.calendar.time_zone}


def _recorded_answers(
    session: Session, case_id: uuid.UUID, element_id: str
) -> tuple[set[str], dict[str, Any]]:
    """The answers any form recorded on the case (by name), and this form's own last ones."""
    recorded: set[str] = set()
    own: dict[str, Any] = {}
    for written_by, data in session.execute(
        select(RecordEntry.element_id, RecordEntry.data)
        .where(RecordEntry.case_id == case_id, RecordEntry.element_id.is_not(None))
        .order_by(RecordEntry.entered_at)
    ):
        if isinstance(data, dict):
            recorded.update(data)
            if written_by == element_id:
                own.update(data)
    return recorded, own


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
