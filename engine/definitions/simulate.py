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
from engine.spiff.definitions import HOST_MESSAGE_PREFIX, CompiledBundle, compile_bundle
from engine.spiff.runtime import Runtime, TaskView, Workflow
from engine.spiff.views import Snapshot
from engine.tasks.form_schemas import CONFIRMATION_SCHEMA, validate_task_data

MAX_STEPS = 2000


@dataclass(frozen=True)
class Logged:
    """One line of a dry run's report: a task answered, a timer fired, a message passed."""

    at: datetime
    kind: str
    text: str


@dataclass(frozen=True)
class DryRun:
    """What to run: the process, the answers to its tasks (by task id; a list answers the same
    task each time it comes), from when and how far to move the clock, on which profile."""

    process_id: str
    answers: dict[str, Any]
    start: datetime
    advance: timedelta = timedelta(0)
    profile_id: str = "default"
    data: dict[str, Any] | None = None


@dataclass
class Simulation:
    steps: list[Logged] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    completed: bool = False
    fired: set[str] = field(default_factory=set)  # the timers that fired, by element id

    def log(self, at: datetime, kind: str, text: str) -> None:
        self.steps.append(Logged(at, kind, text))


@dataclass
class _Instance:
    process_id: str
    workflow: Workflow
    ended: bool = False  # finished: nothing of it waits or fires again
    seen: Snapshot | None = None  # where it stands, until the engine next moves it

    def state(self, runtime: Runtime) -> Snapshot:
        if self.seen is None:
            self.seen = runtime.snapshot(self.workflow)
        return self.seen

    def moved(self) -> None:
        self.seen = None


class _Answers:
    """Answers keyed by task id; a list answers successive occurrences in turn."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self._answers = {k: (list(v) if isinstance(v, list) else v) for k, v in answers.items()}

    def take(self, task_id: str) -> dict[str, Any] | None:
        answer = self._answers.get(task_id)
        if isinstance(answer, list):
            return answer.pop(0) if answer else None
        return answer if isinstance(answer, dict) else None


@dataclass
class Rehearsal:
    """A dry run under way: what every step of it reads and moves."""

    compiled: CompiledBundle
    runtime: Runtime
    profile: Any
    clock: ManualClock
    start_data: dict[str, Any]
    report: Simulation = field(default_factory=Simulation)
    instances: list[_Instance] = field(default_factory=list)


def simulate(bundle: Bundle, dry_run: DryRun) -> Simulation:
    """Run a process of ``bundle``. Raises InvalidDefinition or ScriptFailed."""
    run = begin(compile_bundle(bundle), dry_run)
    clock = run.clock
    given = _Answers(dry_run.answers)
    end = dry_run.start + dry_run.advance
    for _ in range(MAX_STEPS):
        _route_messages(run)
        if _answer_one(run, given):
            continue
        due = _next_timer(run.runtime, run.instances)
        if due is None or due > end:
            break
        clock.move_to(max(due + timedelta(seconds=1), clock.now()))
        _fire_timers(run)
    _describe_stop(run.runtime, run.instances, run.report)
    return run.report


def begin(compiled: CompiledBundle, dry_run: DryRun) -> Rehearsal:
    """A dry run started: its process waiting at its first stop, nothing answered yet."""
    process_id = dry_run.process_id
    definition = compiled.process(process_id)
    if definition is None:
        raise NotFound(f"no process {process_id!r}; the bundle has {', '.join(compiled.processes)}")
    profile = compiled.profile(dry_run.profile_id)
    if profile is None:
        raise NotFound(f"no jurisdiction profile {dry_run.profile_id!r} in the bundle")
    clock = ManualClock(dry_run.start)
    start_data: dict[str, Any] = {
        "case_id": "simulation",
        "case_number": "SIM-1",
        "profile_id": dry_run.profile_id,
        "children": [],
        "profile": profile.data,  # as the engine starts every process: the profile's data
        **(dry_run.data or {}),
    }
    run = Rehearsal(compiled, Runtime(clock), profile, clock, start_data)
    run.instances.append(_Instance(process_id, run.runtime.start(definition, profile, start_data)))
    run.report.log(clock.now(), "start", f"{process_id}")
    _route_messages(run)
    return run


def advance_to(run: Rehearsal, until: datetime) -> None:
    """Move the run's clock to ``until``, firing each timer due on the way, in order."""
    for _ in range(MAX_STEPS):
        due = _next_timer(run.runtime, run.instances)
        if due is None or due > until:
            break
        run.clock.move_to(max(due + timedelta(seconds=1), run.clock.now()))
        _fire_timers(run)
        _route_messages(run)
    if until > run.clock.now():
        run.clock.move_to(until)


def complete(run: Rehearsal, task_id: str, answer: dict[str, Any]) -> bool:
    """Answer the ready task ``task_id`` (the first, if several); False if none is ready."""
    done = _answer_one(run, _Answers({task_id: answer}))
    _route_messages(run)
    return done


def complete_task(run: Rehearsal, task: TaskView, answer: dict[str, Any]) -> None:
    """Answer this ready task (one of several with the same element id, say)."""
    _answer(run, _holding(run, task), task, answer)
    _route_messages(run)


def check_answer(run: Rehearsal, task: TaskView, answer: dict[str, Any]) -> None:
    """Raises InvalidTaskData unless the answer fits the task's form."""
    _check_answer(run.compiled, task, answer)


def route_messages(run: Rehearsal) -> None:
    """Hand each message the run's instances threw to the instance or process it is for."""
    _route_messages(run)


def next_timer(run: Rehearsal) -> datetime | None:
    """When the next timer of the run is due; None when none is set."""
    return _next_timer(run.runtime, run.instances)


def deliver(run: Rehearsal, name: str, payload: Any) -> bool:
    """A message from outside to the instance awaiting it; False if none awaits it."""
    for instance in run.instances:
        if name in instance.state(run.runtime).awaited_messages:
            run.runtime.deliver_message(instance.workflow, name, payload)
            instance.moved()
            run.report.log(run.clock.now(), "message", f"{name} -> {instance.process_id}")
            _route_messages(run)
            return True
    return False


def ready(run: Rehearsal) -> list[TaskView]:
    """The tasks waiting for a person, in every instance of the run."""
    return [task for _, task in _ready(run.runtime, run.instances)]


def data_at(run: Rehearsal, task: TaskView) -> dict[str, Any]:
    return run.runtime.task_data(_holding(run, task).workflow, task.id)


def _holding(run: Rehearsal, task: TaskView) -> _Instance:
    return next(
        i for i in run.instances if any(t.id == task.id for _, t in _ready(run.runtime, [i]))
    )


def finished(run: Rehearsal) -> bool:
    return all(i.state(run.runtime).completed for i in run.instances)


def _fire_timers(run: Rehearsal) -> None:
    runtime, now = run.runtime, run.clock.now()
    for instance, snapshot in list(_live(runtime, run.instances)):
        before = snapshot.timers
        if not before:
            continue
        runtime.fire_timers(instance.workflow)
        instance.moved()
        after = {(t.task_id, t.due_at) for t in instance.state(runtime).timers}
        for timer in before:
            if (timer.task_id, timer.due_at) not in after and timer.due_at <= now:
                run.report.fired.add(timer.bpmn_id)
                run.report.log(
                    now,
                    "timer",
                    f"{instance.process_id}: {timer.bpmn_id} {timer.name!r} fired "
                    f"(due {timer.due_at.isoformat()})",
                )


def _live(runtime: Runtime, instances: list[_Instance]) -> Iterator[tuple[_Instance, Snapshot]]:
    """The instances not yet finished, each with where it stands; a finished one is passed
    over from then on (a long run starts many phases, and most of them end)."""
    for instance in instances:
        if instance.ended:
            continue
        snapshot = instance.state(runtime)
        if snapshot.completed:
            instance.ended = True
            continue
        yield instance, snapshot


def _ready(runtime: Runtime, instances: list[_Instance]) -> Iterator[tuple[_Instance, TaskView]]:
    for instance, snapshot in _live(runtime, instances):
        for task in snapshot.ready_tasks:
            yield instance, task


def _answer_one(run: Rehearsal, given: _Answers) -> bool:
    for instance, task in _ready(run.runtime, run.instances):
        answer = given.take(task.bpmn_id)
        if answer is not None:
            _answer(run, instance, task, answer)
            return True
    return False


def _answer(run: Rehearsal, instance: _Instance, task: TaskView, answer: dict[str, Any]) -> None:
    """Complete the task with the answer, once it fits the task's form, and log it."""
    _check_answer(run.compiled, task, answer)
    run.runtime.complete_task(instance.workflow, task.id, answer)
    instance.moved()
    lane = f" [{task.lane}]" if task.lane else ""
    run.report.log(run.clock.now(), "task", f"{task.bpmn_id} {task.name!r}{lane} completed")


def _check_answer(compiled: CompiledBundle, task: TaskView, answer: dict[str, Any]) -> None:
    schema = compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA
    try:
        validate_task_data(schema, answer)
    except InvalidTaskData as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise InvalidTaskData(
            f"the answer for task {task.bpmn_id!r} does not fit its form: {details}", exc.errors
        ) from None


def _route_messages(run: Rehearsal) -> None:
    compiled, runtime, instances, report, clock = (
        run.compiled,
        run.runtime,
        run.instances,
        run.report,
        run.clock,
    )
    pending = True
    while pending:
        pending = False
        for instance in list(instances):
            for message in runtime.take_thrown_messages(instance.workflow):
                pending = True
                target = next(
                    (
                        other
                        for other, snapshot in _live(runtime, instances)
                        if message.name in snapshot.awaited_messages
                    ),
                    None,
                )
                if target is not None:
                    runtime.deliver_message(target.workflow, message.name, message.payload)
                    target.moved()
                    report.log(clock.now(), "message", f"{message.name} -> {target.process_id}")
                    continue
                if message.name.startswith(HOST_MESSAGE_PREFIX):
                    # A command to casework itself (a case's status, its restriction): the
                    # engine carries it out on the case; here it is only told.
                    report.log(clock.now(), "command", f"{message.name} {message.payload!r}")
                    continue
                # A jurisdiction's case starts only the processes it runs.
                starters = [
                    p
                    for p in compiled.message_starts.get(message.name, [])
                    if compiled.runs(run.profile.id, p)
                ]
                if not starters:
                    raise Conflict(f"message {message.name!r} has no receiver")
                definition = compiled.processes[starters[0]]
                workflow = runtime.start(definition, run.profile, run.start_data)
                runtime.deliver_message(workflow, message.name, message.payload)
                instances.append(_Instance(definition.process_id, workflow))
                report.log(clock.now(), "message", f"{message.name} starts {definition.process_id}")


def _next_timer(runtime: Runtime, instances: list[_Instance]) -> datetime | None:
    dues = [t.due_at for _, snapshot in _live(runtime, instances) for t in snapshot.timers]
    return min(dues, default=None)


def _describe_stop(runtime: Runtime, instances: list[_Instance], report: Simulation) -> None:
    report.completed = all(i.state(runtime).completed for i in instances)
    for instance in instances:
        snapshot = instance.state(runtime)
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
