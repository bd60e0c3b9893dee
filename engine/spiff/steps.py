"""An engine step as a value: what one run of SpiffWorkflow changed in an instance.

A step is whatever moves an instance: its start, a task completed, a message delivered,
timers come due. ``diff`` compares the snapshots taken before and after the run and lists
what appeared and what ended; it reads no database and writes none, so it is tested on its
own (tests/unit/test_steps.py). The record is written from the step by
``engine.storage.step_writes``; the events it implies are published by the instance's unit
of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The views a snapshot is made of (defined beside the runtime that takes them).
from engine.spiff.state_json import StoredState
from engine.spiff.views import DecisionView, Snapshot, TaskView, ThrownMessage, TimerView
from engine.statuses import TimerStatus


@dataclass(frozen=True)
class TimerEnding:
    """A timer the engine no longer waits on: it fired if its time had come, and was
    cancelled otherwise (its task finished first)."""

    task_id: uuid.UUID
    due_at: datetime
    status: TimerStatus
    fired_at: datetime | None


@dataclass(frozen=True)
class Changes:
    """What appeared and ended between two snapshots."""

    tasks_created: list[TaskView] = field(default_factory=list)
    # Open tasks whose due date moved (an extension moved their deadline's timer).
    tasks_moved: list[TaskView] = field(default_factory=list)
    # Left ready without a person completing them: an interrupting event or an end took them.
    tasks_cancelled: list[uuid.UUID] = field(default_factory=list)
    timers_armed: list[TimerView] = field(default_factory=list)
    # Armed already past due (a report recorded after its window closed): fired in the run
    # that armed them, never seen waiting.
    timers_born_fired: list[TimerView] = field(default_factory=list)
    timers_ended: list[TimerEnding] = field(default_factory=list)
    messages_awaited: list[str] = field(default_factory=list)
    messages_no_longer_awaited: list[str] = field(default_factory=list)
    decisions: list[DecisionView] = field(default_factory=list)  # tables run in this step


@dataclass(frozen=True)
class Step:
    """One run's outcome: the instance's new state, what changed, the messages it threw for
    other instances of the case, and the data each newly armed timer sees (deadline rules read
    it: which rule applies, when the statutory clock started)."""

    state: StoredState
    serializer_version: str
    finished: bool
    next_timer_due_at: datetime | None
    changes: Changes
    thrown: list[ThrownMessage] = field(default_factory=list)
    timer_data: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)


def diff(
    before: Snapshot, after: Snapshot, now: datetime, completed: uuid.UUID | None = None
) -> Changes:
    """What changed from ``before`` to ``after``; ``completed`` is the task a person just
    completed (it left READY, but was not cancelled)."""
    was_ready = {t.id: t for t in before.ready_tasks}
    is_ready = {t.id for t in after.ready_tasks}
    was_waiting = {(t.task_id, t.due_at) for t in before.timers}
    now_waiting = {(t.task_id, t.due_at) for t in after.timers}
    seen = {t.task_id for t in before.timers} | {t.task_id for t in before.fired_timers}
    decided = {d.task_id for d in before.decisions}
    return Changes(
        tasks_created=[t for t in after.ready_tasks if t.id not in was_ready],
        tasks_moved=[
            t for t in after.ready_tasks if t.id in was_ready and was_ready[t.id].due_at != t.due_at
        ],
        tasks_cancelled=[t for t in was_ready if t not in is_ready and t != completed],
        timers_armed=[t for t in after.timers if (t.task_id, t.due_at) not in was_waiting],
        timers_born_fired=[t for t in after.fired_timers if t.task_id not in seen],
        timers_ended=[
            TimerEnding(task_id, due_at, TimerStatus.FIRED, now)
            if due_at <= now
            else TimerEnding(task_id, due_at, TimerStatus.CANCELLED, None)
            for task_id, due_at in sorted(was_waiting - now_waiting)
        ],
        messages_awaited=sorted(set(after.awaited_messages) - set(before.awaited_messages)),
        messages_no_longer_awaited=sorted(
            set(before.awaited_messages) - set(after.awaited_messages)
        ),
        decisions=[d for d in after.decisions if d.task_id not in decided],
    )
