"""An engine step as a value: ``diff`` lists what appeared and ended between two snapshots,
with no database and no engine; and the runtime's ``step`` on a real workflow agrees."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from conftest import ROOT
from engine.clock import ManualClock
from engine.definitions.bundle import read_bundle
from engine.spiff.definitions import compile_bundle
from engine.spiff.runtime import Runtime
from engine.spiff.steps import TimerEnding, diff
from engine.spiff.views import EMPTY, DecisionView, Snapshot, TaskView, TimerView
from engine.statuses import TimerStatus

NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def task(name: str, due: datetime | None = None) -> TaskView:
    return TaskView(uuid.uuid5(uuid.NAMESPACE_OID, name), name, name, "investigator", "p", due)


def timer(name: str, due: datetime) -> TimerView:
    return TimerView(uuid.uuid5(uuid.NAMESPACE_OID, name), name, name, due, "duration", None, True)


def snapshot(tasks=(), timers=(), messages=(), decisions=(), fired=()) -> Snapshot:  # type: ignore[no-untyped-def]
    return Snapshot(
        list(tasks), list(timers), list(messages), False, [], list(decisions), list(fired)
    )


def test_a_completion_that_opens_new_work_and_ends_a_timer_in_time() -> None:
    contact, interview = task("first_contact"), task("interview_child")
    window = timer("response_window", NOW + timedelta(hours=3))
    before = snapshot([contact], [window], ["court_tmc_order"])
    after = snapshot([interview], [], [])

    changes = diff(before, after, NOW, completed=contact.id)

    assert changes.tasks_created == [interview]
    assert changes.tasks_cancelled == []  # the completed task is no cancellation
    assert changes.timers_ended == [
        TimerEnding(window.task_id, window.due_at, TimerStatus.CANCELLED, None)
    ]
    assert changes.messages_no_longer_awaited == ["court_tmc_order"]


def test_timers_that_came_due_fired_and_work_that_left_unfinished_was_cancelled() -> None:
    contact = task("first_contact")
    window = timer("response_window", NOW - timedelta(minutes=1))
    staffing = task("staff_late_contact")
    before = snapshot([contact], [window])
    after = snapshot([staffing], [], fired=[window])

    changes = diff(before, after, NOW)

    assert changes.tasks_cancelled == [contact.id]
    assert changes.timers_ended == [
        TimerEnding(window.task_id, window.due_at, TimerStatus.FIRED, NOW)
    ]
    assert changes.timers_born_fired == []  # it was seen waiting: it ended, not born fired


def test_a_timer_armed_past_due_is_born_fired_and_a_moved_due_date_is_a_move() -> None:
    late = timer("response_window", NOW - timedelta(hours=1))
    contact = task("first_contact", NOW)
    moved = TaskView(
        contact.id, contact.bpmn_id, contact.name, contact.lane, "p", NOW + timedelta(days=1)
    )
    decision = DecisionView(uuid.uuid4(), "intake", "screening", {"decision": "SCREEN_IN"})

    changes = diff(snapshot([contact]), snapshot([moved], decisions=[decision], fired=[late]), NOW)

    assert changes.timers_born_fired == [late]
    assert changes.tasks_moved == [moved] and changes.tasks_created == []
    assert changes.decisions == [decision]


def test_the_runtime_returns_the_step_of_a_real_start() -> None:
    clock = ManualClock(NOW)
    runtime = Runtime(clock, cpu_seconds=1.0)
    compiled = compile_bundle(read_bundle([ROOT / "bpmn"]))
    definition = compiled.process("intake")
    profile = compiled.profile("us-tx")
    assert definition is not None and profile is not None
    workflow = runtime.start(definition, profile, {"children": [], "allegations": []})

    step = runtime.step(workflow, EMPTY, NOW, data_for=profile.has_deadline_rules)

    assert [t.bpmn_id for t in step.changes.tasks_created] == ["record_report"]
    assert step.finished is False and step.thrown == []
    assert step.state.head.startswith("{") and step.serializer_version == runtime.serializer_version
    # The step is computed from the snapshots: the same run diffed again finds nothing new.
    again = diff(runtime.snapshot(workflow), runtime.snapshot(workflow), NOW)
    assert again.tasks_created == [] and again.timers_armed == []
