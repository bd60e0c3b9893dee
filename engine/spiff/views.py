"""What the host reads of a workflow, as plain values: a snapshot of its ready tasks, waiting
timers, awaited messages and decisions, taken before and after each engine run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class TaskView:
    id: UUID
    bpmn_id: str
    name: str
    lane: str | None
    process_id: str
    due_at: datetime | None
    # The multi-instance item this task is for (a child, an allegation), as the diagram's
    # data holds it; None for a task that is not one of many.
    item: Any = None


@dataclass(frozen=True)
class TimerView:
    task_id: UUID
    bpmn_id: str
    name: str
    due_at: datetime
    kind: str  # "date", "duration" or "cycle"
    attached_to: UUID | None
    interrupting: bool


@dataclass(frozen=True)
class ThrownMessage:
    name: str
    payload: Any


@dataclass(frozen=True)
class DecisionView:
    task_id: UUID
    process_id: str
    bpmn_id: str
    outputs: dict[str, Any]
    # Why: the table's name, the inputs it read, the rows that matched and their annotations.
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CalledView:
    """A process a call activity runs inside the instance: where it stands, to be drawn from
    its own diagram beside the call activity's (which shows the call as one collapsed box)."""

    element_id: str  # the call activity
    element_name: str
    caller_process_id: str  # the process whose diagram holds the call activity
    process_id: str  # the called process
    active: list[str]
    completed: list[str]
    finished: bool


@dataclass(frozen=True)
class Snapshot:
    ready_tasks: list[TaskView]
    timers: list[TimerView]
    awaited_messages: list[str]
    completed: bool
    active_elements: list[str]
    # Decision tables evaluated so far (each business rule task run, with its outputs).
    decisions: list[DecisionView] = field(default_factory=list)
    # Timers that have fired. One armed already past its due instant (a report recorded after
    # its response window closed) fires in the run that arms it and is never seen waiting:
    # the host finds it here, to keep its deadline (missed) and the task's due date.
    fired_timers: list[TimerView] = field(default_factory=list)


EMPTY = Snapshot([], [], [], False, [])  # before a new instance's first run
