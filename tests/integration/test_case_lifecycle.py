"""Open a case, run its phases, complete tasks: everything persisted at every step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import INVESTIGATOR, SCREENER
from engine.cases.opening import open_case
from engine.context import EngineContext
from engine.definitions.versions import Deployment
from engine.errors import Conflict, InvalidTaskData, NotFound
from engine.instances.lifecycle import start_instance
from engine.instances.messages import deliver_message
from engine.storage.tables import AuditEvent, AwaitedMessage, HumanTask, ProcessInstance, Timer
from engine.tasks import queries
from engine.tasks.completion import complete_task

REPORT = {"received_at": "2025-03-03T15:15:00Z", "severity": "serious", "youngest_age": 3}


def new_case(ctx: EngineContext, **extra: object) -> object:
    data = {
        "people": [
            {"ref": "c1", "role": "child", "name": "Ana", "birth_date": "2022-01-05"},
            {"ref": "c2", "role": "child", "name": "Ben", "birth_date": "2019-06-30"},
            {"ref": "m", "role": "caregiver", "name": "Maria"},
            {"ref": "ap", "role": "alleged_perpetrator", "name": "Rob"},
        ],
        "allegations": [
            {"victim": "c1", "perpetrator": "ap", "type": "PHAB", "narrative": "bruises"},
            {"victim": "c2", "perpetrator": "ap", "type": "NSUP"},
        ],
        **extra,
    }
    return open_case(ctx, SCREENER, data, start_process="intake")


def only_task(ctx: EngineContext, case_id: object, bpmn_id: str) -> queries.TaskRow:
    tasks = [t for t in queries.ready_tasks(ctx.db, case_id=case_id) if t.bpmn_id == bpmn_id]
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_opening_a_case_starts_intake_with_its_first_task_in_the_screeners_queue(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)

    tasks = queries.ready_tasks(ctx.db, role="intake_screener")

    assert [(t.bpmn_id, t.name, t.case_id, t.status) for t in tasks] == [
        ("record_report", "Record hotline report", case.id, "ready")
    ]
    assert tasks[0].created_at == ctx.clock.now()
    assert tasks[0].due_at is None


def test_completing_intake_hands_over_to_investigation_by_message_in_one_commit(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)
    task = only_task(ctx, case.id, "record_report")

    complete_task(ctx, SCREENER, task.id, REPORT)

    instances = queries.instances_of_case(ctx.db, case.id)
    assert sorted((i.process_id, i.status) for i in instances) == [
        ("intake", "completed"),
        ("investigation", "active"),
    ]
    contact = only_task(ctx, case.id, "first_contact")
    assert contact.role == "investigator"
    # The priority DMN decided P1: 24 elapsed hours from now bound the first contact.
    assert contact.due_at == datetime(2025, 3, 4, 15, 15, tzinfo=UTC)
    with ctx.db.reader() as session:
        timers = session.scalars(select(Timer).where(Timer.case_id == case.id)).all()
        awaited = session.scalars(select(AwaitedMessage.message_name)).all()
    assert [(t.bpmn_id, t.status, t.due_at, t.interrupting) for t in timers] == [
        ("contact_overdue", "pending", datetime(2025, 3, 4, 15, 15, tzinfo=UTC), False)
    ]
    assert awaited == []


def test_invalid_form_data_is_refused_field_by_field_and_changes_nothing(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)
    task = only_task(ctx, case.id, "record_report")
    before = queries.instances_of_case(ctx.db, case.id)

    with pytest.raises(InvalidTaskData) as refused:
        complete_task(
            ctx, SCREENER, task.id, {"severity": "awful", "youngest_age": -1, "colour": "red"}
        )

    fields = {e.field: e.validator for e in refused.value.errors}
    assert fields == {
        "/received_at": "required",
        "/severity": "enum",
        "/youngest_age": "minimum",
        "/colour": "additional",
    }
    assert queries.instances_of_case(ctx.db, case.id) == before
    assert only_task(ctx, case.id, "record_report").status == "ready"


def test_a_task_cannot_be_completed_twice(ctx: EngineContext, phases: Deployment) -> None:
    case = new_case(ctx)
    task = only_task(ctx, case.id, "record_report")
    complete_task(ctx, SCREENER, task.id, REPORT)
    versions = [i.lock_version for i in queries.instances_of_case(ctx.db, case.id)]

    with pytest.raises(Conflict, match="completed, not ready"):
        complete_task(ctx, SCREENER, task.id, REPORT)

    assert [i.lock_version for i in queries.instances_of_case(ctx.db, case.id)] == versions


def test_a_stale_task_version_is_a_conflict(ctx: EngineContext, phases: Deployment) -> None:
    case = new_case(ctx)
    task = only_task(ctx, case.id, "record_report")

    with pytest.raises(Conflict, match="version"):
        complete_task(ctx, SCREENER, task.id, REPORT, expected_version=task.version + 1)

    complete_task(ctx, SCREENER, task.id, REPORT, expected_version=task.version)


def test_unknown_task_is_not_found(ctx: EngineContext, phases: Deployment) -> None:
    import uuid

    with pytest.raises(NotFound):
        complete_task(ctx, SCREENER, uuid.uuid4(), {})


def test_multi_instance_interviews_one_task_per_child(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)
    complete_task(ctx, SCREENER, only_task(ctx, case.id, "record_report").id, REPORT)
    complete_task(
        ctx,
        INVESTIGATOR,
        only_task(ctx, case.id, "first_contact").id,
        {"contact_at": "2025-03-03T20:00:00Z", "location": "home"},
    )

    interviews = [
        t for t in queries.ready_tasks(ctx.db, case_id=case.id) if t.bpmn_id == "interview_child"
    ]

    assert len(interviews) == 2
    # Completing the first contact before the window passed cancelled its timer.
    with ctx.db.reader() as session:
        statuses = session.scalars(select(Timer.status).where(Timer.case_id == case.id)).all()
    assert statuses == ["cancelled"]


def test_a_message_from_outside_resumes_the_waiting_instance(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)
    complete_task(ctx, SCREENER, only_task(ctx, case.id, "record_report").id, REPORT)
    complete_task(
        ctx,
        INVESTIGATOR,
        only_task(ctx, case.id, "first_contact").id,
        {"contact_at": "2025-03-03T20:00:00Z", "location": "home"},
    )
    for task in queries.ready_tasks(ctx.db, case_id=case.id):
        complete_task(ctx, INVESTIGATOR, task.id, {"interview": {"summary": "seen"}})
    with ctx.db.reader() as session:
        assert session.scalars(select(AwaitedMessage.message_name)).all() == ["court_order"]

    receiver = deliver_message(ctx, INVESTIGATOR, case.id, "court_order", {"order": "TMC"})

    instance = next(i for i in queries.instances_of_case(ctx.db, case.id) if i.id == receiver)
    assert (instance.process_id, instance.status) == ("investigation", "completed")
    with pytest.raises(Conflict, match="no process"):
        deliver_message(ctx, INVESTIGATOR, case.id, "court_order", {}, may_start=False)


def test_each_step_bumps_the_instance_version_and_stores_lean_state(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)
    [intake] = queries.instances_of_case(ctx.db, case.id)

    complete_task(ctx, SCREENER, only_task(ctx, case.id, "record_report").id, REPORT)

    with ctx.db.reader() as session:
        row = session.get(ProcessInstance, intake.id)
        assert row is not None
        assert row.lock_version == intake.lock_version + 1
        state = json.loads(row.state)
        assert row.serializer_version == "1.5"
    assert "spec" not in state and "subprocess_specs" not in state


def test_instances_reload_from_stored_files_after_a_restart(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)
    ctx.definitions.forget()

    complete_task(ctx, SCREENER, only_task(ctx, case.id, "record_report").id, REPORT)

    assert only_task(ctx, case.id, "first_contact").status == "ready"


def test_audit_records_who_did_what_and_which_fields_changed(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)
    task = only_task(ctx, case.id, "record_report")
    ctx.clock.advance(timedelta(minutes=5))

    complete_task(ctx, SCREENER, task.id, REPORT)

    with ctx.db.reader() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)
        ).all()
    assert [e.action for e in events] == [
        "case.opened",
        "instance.started",
        "task.completed",
        "instance.completed",
        "instance.started",
    ]
    completion = events[2]
    assert (completion.actor, completion.actor_role, completion.task_id) == (
        "sam.screener",
        "intake_screener",
        task.id,
    )
    assert completion.at == ctx.clock.now()
    assert completion.details["changed_fields"] == ["received_at", "severity", "youngest_age"]
    assert events[4].details["by_message"] == "investigation_requested"


def test_audit_rows_cannot_be_changed(ctx: EngineContext, phases: Deployment) -> None:
    from sqlalchemy import delete
    from sqlalchemy.exc import DatabaseError

    new_case(ctx)

    with pytest.raises(DatabaseError), ctx.db.writer() as session:
        session.execute(delete(AuditEvent))
        session.commit()
    with ctx.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) > 0


def test_a_screen_out_goes_to_the_supervisor_and_no_investigation_starts(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)

    complete_task(
        ctx,
        SCREENER,
        only_task(ctx, case.id, "record_report").id,
        {**REPORT, "severity": "none"},
    )

    assert [(t.bpmn_id, t.role) for t in queries.ready_tasks(ctx.db, case_id=case.id)] == [
        ("approve_screen_out", "supervisor")
    ]
    assert [i.process_id for i in queries.instances_of_case(ctx.db, case.id)] == ["intake"]


def test_starting_a_message_started_process_directly_is_refused(
    ctx: EngineContext, phases: Deployment
) -> None:
    case = new_case(ctx)

    with pytest.raises(Conflict, match="started by a message"):
        start_instance(ctx, SCREENER, case.id, "investigation")


def test_a_case_number_is_unique(ctx: EngineContext, phases: Deployment) -> None:
    new_case(ctx, case_number="2025-000001")

    with pytest.raises(Conflict, match="already in use"):
        new_case(ctx, case_number="2025-000001")


def test_case_data_is_validated(ctx: EngineContext, phases: Deployment) -> None:
    with pytest.raises(InvalidTaskData) as refused:
        open_case(
            ctx,
            SCREENER,
            {
                "people": [{"ref": "m", "role": "caregiver"}],
                "allegations": [{"victim": "m", "type": "PHAB"}],
            },
        )

    assert [e.field for e in refused.value.errors] == ["/allegations/0/victim"]
    with ctx.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(HumanTask)) == 0
