"""A designer's dry run: run a process in memory with a fake clock, answer its user tasks from a
file, move time forward to fire its timers, and report each step and where it stopped.

Nothing touches a database. Messages thrown between processes of the bundle are routed in
memory, as the engine would route them within one case.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.clock import ManualClock
from engine.definitions.bundle import Bundle
from engine.errors import Conflict, InvalidTaskData, NotFound
from engine.spiff.definitions import CompiledBundle, compile_bundle
from engine.spiff.runtime import Runtime, TaskView, Workflow
from engine.tasks.form_schemas import CONFIRMATION_SCHEMA, validate_task_data

MAX_STEPS = 2000


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: str
    text: str


@dataclass
class Simulation:
    steps: list[Step] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    completed: bool = False

    def log(self, at: datetime, kind: str, text: str) -> None:
        self.steps.append(Step(at, kind, text))


@dataclass
class _Instance:
    process_id: str
    workflow: Workflow


class _Answers:
    """Answers keyed by task id; a list answers successive occurrences in turn."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self._answers = {k: (list(v) if isinstance(v, list) else v) for k, v in answers.items()}

    def take(self, task_id: str) -> dict[str, Any] | None:
        answer = self._answers.get(task_id)
        if isinstance(answer, list):
            return answer.pop(0) if answer else None
        return answer if isinstance(answer, dict) else None


def simulate(
    bundle: Bundle,
    process_id: str,
    *,
    answers: dict[str, Any],
    advance: timedelta = timedelta(0),
    start: datetime,
    profile_id: str = "default",
    data: dict[str, Any] | None = None,
) -> Simulation:
    """Run ``process_id`` of ``bundle``. Raises InvalidDefinition or ScriptFailed."""
    compiled = compile_bundle(bundle)
    definition = compiled.process(process_id)
    if definition is None:
        raise NotFound(f"no process {process_id!r}; the bundle has {', '.join(compiled.processes)}")
    profile = compiled.profile(profile_id)
    if profile is None:
        raise NotFound(f"no jurisdiction profile {profile_id!r} in the bundle")
    clock = ManualClock(start)
    runtime = Runtime(clock)
    report = Simulation()
    end = start + advance
    given = _Answers(answers)
    start_data: dict[str, Any] = {
        "case_id": "simulation",
        "case_number": "SIM-1",
        "profile_id": profile_id,
    }
    start_data["children"] = []
    start_data.update(data or {})
    instances = [_Instance(process_id, runtime.start(definition, profile, start_data))]
    report.log(clock.now(), "start", f"{process_id}")

    for _ in range(MAX_STEPS):
        _route_messages(compiled, runtime, profile, instances, report, clock, start_data)
        answered = _answer_one(compiled, runtime, instances, given, report, clock)
        if answered:
            continue
        due = _next_timer(runtime, instances)
        if due is None or due > end:
            break
        clock.move_to(max(due + timedelta(seconds=1), clock.now()))
        for instance in instances:
            before = runtime.snapshot(instance.workflow).timers
            runtime.fire_timers(instance.workflow)
            after = {(t.task_id, t.due_at) for t in runtime.snapshot(instance.workflow).timers}
            for timer in before:
                if (timer.task_id, timer.due_at) not in after and timer.due_at <= clock.now():
                    report.log(
                        clock.now(),
                        "timer",
                        f"{instance.process_id}: {timer.bpmn_id} {timer.name!r} fired "
                        f"(due {timer.due_at.isoformat()})",
                    )
    _describe_stop(runtime, instances, report)
    return report


def _ready(runtime: Runtime, instances: list[_Instance]) -> Iterator[tuple[_Instance, TaskView]]:
    for instance in instances:
        for task in runtime.snapshot(instance.workflow).ready_tasks:
            yield instance, task


def _answer_one(
    compiled: CompiledBundle,
    runtime: Runtime,
    instances: list[_Instance],
    given: _Answers,
    report: Simulation,
    clock: ManualClock,
) -> bool:
    for instance, task in _ready(runtime, instances):
        answer = given.take(task.bpmn_id)
        if answer is None:
            continue
        schema = compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA
        try:
            validate_task_data(schema, answer)
        except InvalidTaskData as exc:
            details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            raise InvalidTaskData(
                f"the answer for task {task.bpmn_id!r} does not fit its form: {details}", exc.errors
            ) from None
        runtime.complete_task(instance.workflow, task.id, answer)
        lane = f" [{task.lane}]" if task.lane else ""
        report.log(clock.now(), "task", f"{task.bpmn_id} {task.name!r}{lane} completed")
        return True
    return False


def _route_messages(
    compiled: CompiledBundle,
    runtime: Runtime,
    profile: Any,
    instances: list[_Instance],
    report: Simulation,
    clock: ManualClock,
    start_data: dict[str, Any],
) -> None:
    pending = True
    while pending:
        pending = False
        for instance in list(instances):
            for message in runtime.take_thrown_messages(instance.workflow):
                pending = True
                target = next(
                    (
                        other
                        for other in instances
                        if message.name in runtime.snapshot(other.workflow).awaited_messages
                    ),
                    None,
                )
                if target is not None:
                    runtime.deliver_message(target.workflow, message.name, message.payload)
                    report.log(clock.now(), "message", f"{message.name} -> {target.process_id}")
                    continue
                starters = compiled.message_starts.get(message.name, [])
                if not starters:
                    raise Conflict(f"message {message.name!r} has no receiver")
                definition = compiled.processes[starters[0]]
                workflow = runtime.start(definition, profile, start_data)
                runtime.deliver_message(workflow, message.name, message.payload)
                instances.append(_Instance(definition.process_id, workflow))
                report.log(clock.now(), "message", f"{message.name} starts {definition.process_id}")


def _next_timer(runtime: Runtime, instances: list[_Instance]) -> datetime | None:
    dues = [t.due_at for i in instances for t in runtime.snapshot(i.workflow).timers]
    return min(dues, default=None)


def _describe_stop(runtime: Runtime, instances: list[_Instance], report: Simulation) -> None:
    report.completed = all(runtime.snapshot(i.workflow).completed for i in instances)
    for instance in instances:
        snapshot = runtime.snapshot(instance.workflow)
        for task in snapshot.ready_tasks:
            lane = f" [{task.lane}]" if task.lane else ""
            due = f", due {task.due_at.isoformat()}" if task.due_at else ""
            report.stopped.append(
                f"{instance.process_id}: waiting for task {task.bpmn_id} {task.name!r}{lane}{due}"
            )
        for timer in snapshot.timers:
            report.stopped.append(
                f"{instance.process_id}: timer {timer.bpmn_id} {timer.name!r} due "
                f"{timer.due_at.isoformat()}"
            )
        for name in snapshot.awaited_messages:
            report.stopped.append(f"{instance.process_id}: waiting for message {name!r}")
        if snapshot.completed:
            report.stopped.append(f"{instance.process_id}: completed")
