"""Deadlines that fire: timers, the escalation ladder, retries and incidents, all driven by the
injected clock (no test sleeps)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import DESIGNER, FIXTURES, INVESTIGATOR, SCREENER
from engine.cases.opening import open_case
from engine.clock import ManualClock
from engine.context import EngineContext
from engine.deadlines.timers import TimerPolicy, fire_due_timers, retry_incident
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.instances.lifecycle import start_instance
from engine.spiff.runtime import Runtime
from engine.storage.tables import (
    Alert,
    AlertRecipient,
    AuditEvent,
    Deadline,
    HumanTask,
    Incident,
    ProcessInstance,
    ScheduledAlert,
    Timer,
)
from engine.tasks import queries
from engine.tasks.completion import complete_task

RECEIVED = datetime(2025, 3, 3, 15, 15, tzinfo=UTC)  # Mon 03-03 09:15 in Texas
CHILD = {"people": [{"ref": "c", "role": "child", "name": "Ana", "birth_date": "2022-01-01"}]}


@pytest.fixture
def clocks(ctx: EngineContext) -> Deployment:
    return deploy_bundle(ctx, DESIGNER, read_bundle([FIXTURES / "clocks"]))


def timers_of(ctx: EngineContext, case_id: uuid.UUID) -> list[tuple[str, str, datetime]]:
    with ctx.db.reader() as session:
        rows = session.scalars(
            select(Timer).where(Timer.case_id == case_id).order_by(Timer.due_at, Timer.bpmn_id)
        )
        return [(t.bpmn_id, t.status, t.due_at) for t in rows]


def alerts_of(ctx: EngineContext, case_id: uuid.UUID) -> list[tuple[str, datetime, list[str]]]:
    with ctx.db.reader() as session:
        alerts = session.scalars(
            select(Alert).where(Alert.case_id == case_id).order_by(Alert.raised_at, Alert.kind)
        ).all()
        return [
            (
                a.kind,
                a.raised_at,
                sorted(
                    session.scalars(
                        select(AlertRecipient.role).where(AlertRecipient.alert_id == a.id)
                    )
                ),
            )
            for a in alerts
        ]


def p1_report(ctx: EngineContext) -> uuid.UUID:
    """Scenario 1: P1 physical abuse, age 3, reported Mon 03-03 09:15 (Texas)."""
    case = open_case(
        ctx,
        SCREENER,
        {**CHILD, "profile_id": "us-tx", "assigned_to": "ivy.investigator"},
        start_process="intake",
    )
    [task] = queries.ready_tasks(ctx.db, case_id=case.id)
    complete_task(
        ctx,
        SCREENER,
        task.id,
        {"received_at": RECEIVED.isoformat(), "severity": "serious", "youngest_age": 3},
    )
    return case.id


def first_contact(ctx: EngineContext, case_id: uuid.UUID) -> queries.TaskRow:
    return next(
        t for t in queries.ready_tasks(ctx.db, case_id=case_id) if t.bpmn_id == "first_contact"
    )


def test_scenario_1_reminders_overdue_alert_and_lateness(
    ctx: EngineContext, phases: Deployment
) -> None:
    case_id = p1_report(ctx)
    due = datetime(2025, 3, 4, 15, 15, tzinfo=UTC)
    assert first_contact(ctx, case_id).due_at == due

    ctx.clock.move_to(datetime(2025, 3, 4, 3, 15, 1, tzinfo=UTC))  # 21:15 Texas time
    fire_due_timers(ctx, worker="w1")
    ctx.clock.move_to(datetime(2025, 3, 4, 9, 15, 1, tzinfo=UTC))  # 03:15 Texas time
    fire_due_timers(ctx, worker="w1")
    assert alerts_of(ctx, case_id) == [
        ("reminder", datetime(2025, 3, 4, 3, 15, 1, tzinfo=UTC), ["assignee"]),
        ("reminder", datetime(2025, 3, 4, 9, 15, 1, tzinfo=UTC), ["assignee"]),
    ]

    ctx.clock.move_to(due + timedelta(seconds=1))
    report = fire_due_timers(ctx, worker="w1")

    assert (report.fired, report.alerts) == (1, 1)
    assert alerts_of(ctx, case_id)[-1] == (
        "overdue",
        due + timedelta(seconds=1),
        ["assignee", "supervisor"],
    )
    ready = {t.bpmn_id: t for t in queries.ready_tasks(ctx.db, case_id=case_id)}
    assert set(ready) == {"first_contact", "review_overdue"}  # the contact task stays open
    assert ready["review_overdue"].role == "supervisor"
    with ctx.db.reader() as session:
        deadline = session.scalar(select(Deadline).where(Deadline.case_id == case_id))
        recipients = session.scalars(
            select(AlertRecipient.user_id).where(AlertRecipient.role == "assignee")
        ).all()
        assert deadline is not None
        assert (deadline.deadline_id, deadline.status, deadline.missed_at) == ("T06", "missed", due)
        assert deadline.started_at == RECEIVED
        task = session.get(HumanTask, ready["first_contact"].id)
        assert task is not None and task.overdue_since == due
    assert set(recipients) == {"ivy.investigator"}

    # Contact at 11:00 Texas time: the task closes, the lateness stays on record.
    ctx.clock.move_to(datetime(2025, 3, 4, 17, 0, tzinfo=UTC))
    complete_task(
        ctx,
        INVESTIGATOR,
        ready["first_contact"].id,
        {"contact_at": "2025-03-04T17:00:00Z", "location": "home"},
    )
    ctx.clock.move_to(datetime(2025, 3, 4, 18, 0, tzinfo=UTC))
    fire_due_timers(ctx, worker="w1")

    with ctx.db.reader() as session:
        deadline = session.scalar(select(Deadline).where(Deadline.case_id == case_id))
        assert deadline is not None
        assert (deadline.status, deadline.met_at) == (
            "missed",
            ctx.clock.now() - timedelta(hours=1),
        )
    # The escalation to the program director at 17:15 was not raised: the work was done.
    assert [kind for kind, _, _ in alerts_of(ctx, case_id)] == ["reminder", "reminder", "overdue"]


def test_contact_in_time_cancels_the_timer_and_the_rest_of_the_ladder(
    ctx: EngineContext, phases: Deployment
) -> None:
    case_id = p1_report(ctx)
    ctx.clock.move_to(datetime(2025, 3, 3, 20, 0, tzinfo=UTC))

    complete_task(
        ctx,
        INVESTIGATOR,
        first_contact(ctx, case_id).id,
        {"contact_at": "2025-03-03T20:00:00Z", "location": "home"},
    )
    ctx.clock.move_to(datetime(2025, 3, 6, tzinfo=UTC))
    report = fire_due_timers(ctx, worker="w1")

    assert (report.fired, report.alerts) == (0, 0)
    assert [(b, s) for b, s, _ in timers_of(ctx, case_id)] == [("contact_overdue", "cancelled")]
    with ctx.db.reader() as session:
        deadline = session.scalar(select(Deadline).where(Deadline.case_id == case_id))
        assert deadline is not None
        assert (deadline.status, deadline.met_at) == ("met", datetime(2025, 3, 3, 20, tzinfo=UTC))
        ladder = session.scalars(
            select(ScheduledAlert.status).where(ScheduledAlert.deadline_row_id == deadline.id)
        ).all()
    assert ladder and set(ladder) == {"cancelled"}  # closed with the deadline, not skipped later


def test_duration_date_and_cycle_timers_and_an_interrupting_boundary(
    ctx: EngineContext, clocks: Deployment
) -> None:
    case = open_case(ctx, SCREENER, {**CHILD, "profile_id": "default"})
    start_instance(ctx, SCREENER, case.id, "clocks")
    start = ctx.clock.now()
    assert timers_of(ctx, case.id) == [("wait_duration", "pending", start + timedelta(hours=2))]

    ctx.clock.advance(timedelta(hours=2, seconds=1))
    fire_due_timers(ctx, worker="w1")
    end_of_tomorrow = datetime(2025, 3, 4, 23, 59, 59, tzinfo=UTC)  # profile "default": UTC
    assert timers_of(ctx, case.id)[-1] == ("wait_date", "pending", end_of_tomorrow)

    ctx.clock.move_to(end_of_tomorrow + timedelta(seconds=1))
    fire_due_timers(ctx, worker="w1")
    [work] = queries.ready_tasks(ctx.db, case_id=case.id)
    armed = ctx.clock.now()
    assert work.due_at == armed + timedelta(days=2)  # the last bounding timer

    for _ in range(3):  # three nudges, one row each, every six hours
        ctx.clock.advance(timedelta(hours=6, seconds=1))
        fire_due_timers(ctx, worker="w1")
    nudges = [(s, d) for b, s, d in timers_of(ctx, case.id) if b == "nudge"]
    assert [s for s, _ in nudges] == ["fired", "fired", "fired"]
    assert nudges[1][1] - nudges[0][1] == timedelta(hours=6)
    assert queries.ready_tasks(ctx.db, case_id=case.id)[0].id == work.id  # still open

    ctx.clock.move_to(armed + timedelta(days=2, seconds=1))
    fire_due_timers(ctx, worker="w1")

    assert queries.ready_tasks(ctx.db, case_id=case.id) == []
    with ctx.db.reader() as session:
        row = session.get(HumanTask, work.id)
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
        assert row is not None and row.status == "cancelled"
        assert instance is not None and instance.status == "completed"
        assert instance.next_timer_due_at is None


def test_timers_due_during_downtime_fire_once_on_restart(
    ctx: EngineContext, clocks: Deployment
) -> None:
    cases = [open_case(ctx, SCREENER, CHILD) for _ in range(3)]
    for case in cases:
        start_instance(ctx, SCREENER, case.id, "clocks")
    ctx.clock.advance(timedelta(days=10))  # nothing ran for ten days

    first = fire_due_timers(ctx, worker="w1")
    second = fire_due_timers(ctx, worker="w1")

    assert (first.fired, second.fired) == (3, 0)
    with ctx.db.reader() as session:
        fired = session.scalar(select(func.count()).where(AuditEvent.action == "timer.fired"))
    assert fired == 3
    # The next wait was armed when the first fired, ten days late: it counts from then.
    assert {d for b, _, d in timers_of(ctx, cases[0].id) if b == "wait_date"} == {
        datetime(2025, 3, 14, 23, 59, 59, tzinfo=UTC)
    }


def test_a_failing_timer_is_retried_with_backoff_then_becomes_an_incident(
    ctx: EngineContext, clocks: Deployment
) -> None:
    case = open_case(ctx, SCREENER, CHILD)
    start_instance(ctx, SCREENER, case.id, "fragile", {"divisor": 0})
    policy = TimerPolicy(max_attempts=3, first_retry=timedelta(seconds=30))
    ctx.clock.advance(timedelta(hours=1, seconds=1))

    assert fire_due_timers(ctx, worker="w1", policy=policy).retried == 1
    assert fire_due_timers(ctx, worker="w1", policy=policy).retried == 0  # backing off
    ctx.clock.advance(timedelta(seconds=31))
    assert fire_due_timers(ctx, worker="w1", policy=policy).retried == 1
    ctx.clock.advance(timedelta(seconds=61))  # 30 s, then 60 s
    final = fire_due_timers(ctx, worker="w1", policy=policy)

    assert final.failed == 1
    with ctx.db.reader() as session:
        timer = session.scalar(select(Timer).where(Timer.case_id == case.id))
        incident = session.scalar(select(Incident).where(Incident.case_id == case.id))
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
        assert timer is not None and (timer.status, timer.attempts) == ("failed", 3)
        assert incident is not None
        assert incident.element_id == "fragile_wait"
        assert "ZeroDivisionError" in incident.error and "fragile_script" in incident.error
        assert instance is not None and instance.status == "active"  # nothing half-applied
        incident_id = incident.id

    retry_incident(ctx, incident_id, "admin")

    with ctx.db.reader() as session:
        timer = session.scalar(select(Timer).where(Timer.case_id == case.id))
        assert timer is not None and (timer.status, timer.attempts) == ("pending", 0)


def test_a_timer_the_engine_clock_calls_not_yet_due_stays_pending(
    ctx: EngineContext, clocks: Deployment
) -> None:
    case = open_case(ctx, SCREENER, CHILD)
    start_instance(ctx, SCREENER, case.id, "clocks")
    ctx.clock.advance(timedelta(hours=2, seconds=1))
    # A worker whose engine clock lags ours by ten seconds: the engine says "not yet".
    lagging = ManualClock(ctx.clock.now() - timedelta(seconds=10))
    skewed = EngineContext(ctx.db, Runtime(lagging), ctx.definitions, ctx.clock)

    report = fire_due_timers(skewed, worker="w1")

    assert (report.fired, report.not_yet) == (0, 1)
    assert timers_of(ctx, case.id)[0][1] == "pending"
    assert fire_due_timers(ctx, worker="w2").fired == 0  # looked at again a second later
    ctx.clock.advance(timedelta(seconds=2))
    assert fire_due_timers(ctx, worker="w2").fired == 1
