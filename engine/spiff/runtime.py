"""The engine adapter: the one place that drives SpiffWorkflow workflows.

Callers get plain snapshots (``TaskView``, ``TimerView``, ``ThrownMessage``) and never touch
SpiffWorkflow objects, so the rest of casework does not depend on the library's API. Every
engine run happens under the injected clock, the restricted script environment and a CPU
budget; every failure comes out as an ``engine.errors`` exception.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity as CallActivityMixin
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import (
    MessageEventDefinition as SpiffMessageEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from engine.clock import Clock
from engine.deadlines.calendars import BusinessCalendar
from engine.deadlines.profiles import Profile
from engine.errors import Conflict, NotFound, ScriptFailed
from engine.spiff import clock_hook, state_json, task_walk
from engine.spiff.decisions import EXPLANATION
from engine.spiff.definitions import ProcessDefinition
from engine.spiff.sandbox import RestrictedEnvironment, SandboxViolation
from engine.spiff.script_functions import script_functions
from engine.spiff.steps import Step, diff
from engine.spiff.views import (
    CalledView,
    DecisionView,
    Snapshot,
    TaskView,
    ThrownMessage,
    TimerView,
)
from engine.spiff.watchdog import BudgetExceeded, cpu_budget
from engine.spiff.workflow_cache import StoredAt, WorkflowCache
from engine.stopwatch import engine_time

Workflow = BpmnWorkflow
SERIALIZER_VERSION = "1.5"


class _LeanWorkflowConverter(state_json.DeferredTasks, BpmnWorkflowConverter):
    """Stores a workflow without its spec; the spec is deployed once and cached in memory."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _SubWorkflowConverter(state_json.DeferredTasks, BpmnSubWorkflowConverter):
    """A subprocess's tasks, written like the top workflow's (``state_json``)."""


def _serializer() -> BpmnWorkflowSerializer:
    config = {
        **SPIFF_CONFIG,
        BpmnWorkflow: _LeanWorkflowConverter,
        BpmnSubWorkflow: _SubWorkflowConverter,
    }
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"])
    )
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    return BpmnWorkflowSerializer(registry, version=SERIALIZER_VERSION)


class Runtime:
    def __init__(self, clock: Clock, cpu_seconds: float = 2.0) -> None:
        clock_hook.install()
        task_walk.install()
        self.clock = clock
        self.serializer_version = SERIALIZER_VERSION
        self.cpu_seconds = cpu_seconds
        self._serializer = _serializer()
        self.workflows = WorkflowCache()
        self._engines: dict[tuple[BusinessCalendar, Any], PythonScriptEngine] = {}

    # -- life cycle ------------------------------------------------------------------------

    @engine_time
    def start(
        self, definition: ProcessDefinition, profile: Profile, data: Mapping[str, Any]
    ) -> BpmnWorkflow:
        """A new workflow, run until it waits. Message-started processes wait for their message."""
        workflow = BpmnWorkflow(
            definition.spec, definition.subprocess_specs, script_engine=self._engine(profile)
        )
        workflow.task_tree.data.update(copy.deepcopy(dict(data)))
        with self._run():
            _advance(workflow)
        return workflow

    @engine_time
    def load(
        self,
        definition: ProcessDefinition,
        profile: Profile,
        state: str,
        finished: Sequence[Any] | Callable[[], Sequence[Any]] = (),
    ) -> BpmnWorkflow:
        """A workflow read from its head (``state``) and its finished tasks' rows (or what
        reads them, asked only if the head goes with any)."""
        dct, rows = state_json.read(state, finished)
        self._serializer.migrate(dct)
        workflow: BpmnWorkflow = self._serializer.from_dict(
            dct, spec=definition.spec, subprocess_specs=definition.subprocess_specs
        )
        state_json.adopt(workflow, dct, rows)
        workflow.script_engine = self._engine(profile)
        return workflow

    @engine_time
    def resume(
        self,
        instance_id: UUID,
        stored_at: StoredAt,
        definition: ProcessDefinition,
        profile: Profile,
        state: str,
        finished: Callable[[], Sequence[Any]],
    ) -> BpmnWorkflow:
        """An instance's workflow to run a step on: the one this process kept when the
        instance's last step committed here, if the row is still as it left it; else read
        from ``state`` and the ``finished`` rows. Give it back with ``keep`` once the step
        commits."""
        workflow = self.workflows.take(instance_id, stored_at)
        if workflow is None:
            return self.load(definition, profile, state, finished)
        workflow.script_engine = self._engine(profile)
        return workflow

    def keep(self, instance_id: UUID, stored_at: StoredAt, workflow: BpmnWorkflow) -> None:
        """Keep a workflow whose step committed, for the instance's next step."""
        self.workflows.keep(instance_id, stored_at, workflow)

    @engine_time
    def load_onto(
        self,
        definition: ProcessDefinition,
        profile: Profile,
        state: str,
        renamed: Mapping[str, str],
        finished: Sequence[Any] | Callable[[], Sequence[Any]] = (),
    ) -> BpmnWorkflow:
        """A workflow stored under one version, read onto another version's definition: each
        task finds its element by id (or by the id ``renamed`` gives it), its state, data,
        history and timers kept. Raises Conflict naming the elements the definition lacks.
        Its next dump writes every finished task's row again (their elements' names moved)."""
        dct, rows = state_json.read(state, finished)
        self._serializer.migrate(dct)
        known = set(definition.spec.task_specs)
        for subprocess in definition.subprocess_specs.values():
            known |= set(subprocess.task_specs)
        missing: set[str] = set()
        for tasks in [dct["tasks"], *(sub["tasks"] for sub in dct["subprocesses"].values())]:
            for task in tasks.values():
                # Derived names ("first_contact.BoundaryEventJoin") follow their element.
                element, dot, rest = task["task_spec"].partition(".")
                task["task_spec"] = renamed.get(element, element) + dot + rest
                if task["task_spec"] not in known:
                    missing.add(task["task_spec"])
        if missing:
            raise Conflict(
                "elements not in the new version: "
                + ", ".join(sorted(missing))
                + " (map a renamed element to its new id)"
            )
        try:
            workflow: BpmnWorkflow = self._serializer.from_dict(
                dct, spec=definition.spec, subprocess_specs=definition.subprocess_specs
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Conflict(f"the instance does not fit the new version: {exc}") from exc
        state_json.adopt(workflow, dct, rows, stored=False)
        workflow.script_engine = self._engine(profile)
        return workflow

    @engine_time
    def dump(self, workflow: BpmnWorkflow) -> state_json.StoredState:
        """The head to store in the instance row, and the finished tasks' rows to add."""
        try:
            return state_json.dump(self._serializer, workflow)
        except (TypeError, ValueError) as exc:
            raise ScriptFailed(
                f"process data cannot be stored: {exc}; scripts must keep task data to plain "
                "values (text, numbers, lists, objects)",
                reason="unserializable",
            ) from exc

    def dump_in_full(self, workflow: BpmnWorkflow) -> str:
        """The library's own dump, every task converted afresh (what ``dump`` must equal)."""
        return str(self._serializer.serialize_json(workflow))

    # -- what users and events do -----------------------------------------------------------

    @engine_time
    def complete_task(self, workflow: BpmnWorkflow, task_id: UUID, data: Mapping[str, Any]) -> None:
        task = _find_task(workflow, task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise Conflict(f"task {task_id} is not ready to be completed")
        with self._run():
            task.data.update(copy.deepcopy(dict(data)))
            task.run()
            _advance(workflow)

    @engine_time
    def deliver_message(self, workflow: BpmnWorkflow, name: str, payload: Any) -> None:
        event = BpmnEvent(SpiffMessageEventDefinition(name), copy.deepcopy(payload))
        with self._run():
            try:
                workflow.send_event(event)
            except WorkflowException as exc:
                raise Conflict(f"the instance is not waiting for message {name!r}") from exc
            _advance(workflow)

    @engine_time
    def fire_timers(self, workflow: BpmnWorkflow) -> None:
        with self._run():
            _advance(workflow)

    @engine_time
    def reschedule_timer(self, workflow: BpmnWorkflow, task_id: UUID, due_at: datetime) -> None:
        """Move a waiting date or duration timer to a new due instant.

        The engine fixes a timer's due instant when it is armed and keeps it in the waiting
        task; an approved extension rewrites that value (cycles cannot be moved).
        """
        task = _find_task(workflow, task_id)
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition) or isinstance(
            definition, CycleTimerEventDefinition
        ):
            raise Conflict(f"task {task_id} is not a date or duration timer")
        if task.state != TaskState.WAITING:
            raise Conflict(f"timer {task.task_spec.bpmn_id} is no longer waiting")
        task.internal_data["event_value"] = due_at.astimezone(UTC).isoformat()

    # -- what a run made of an instance -------------------------------------------------------

    def step(
        self,
        workflow: BpmnWorkflow,
        before: Snapshot,
        now: datetime,
        *,
        completed: UUID | None = None,
        data_for: Callable[[str], bool] = lambda _: False,
    ) -> Step:
        """The step the run just took, as a value (``engine.spiff.steps``): what changed since
        ``before``, the messages thrown (taken from the workflow, so each is handed on once),
        the new state, and the data each newly armed timer ``data_for`` names sees."""
        after = self.snapshot(workflow)
        changes = diff(before, after, now, completed)
        armed = [*changes.timers_armed, *changes.timers_born_fired]
        thrown = self.take_thrown_messages(workflow)
        return Step(
            state=self.dump(workflow),
            serializer_version=self.serializer_version,
            finished=after.completed,
            next_timer_due_at=min((t.due_at for t in after.timers), default=None),
            changes=changes,
            thrown=thrown,
            timer_data={
                t.task_id: self.task_data(workflow, t.task_id) for t in armed if data_for(t.bpmn_id)
            },
        )

    # -- what the host reads ----------------------------------------------------------------

    @engine_time
    def snapshot(self, workflow: BpmnWorkflow) -> Snapshot:
        task_walk.mark_settled(workflow)
        ready = [
            _task_view(task) for task in workflow.get_tasks(state=TaskState.READY, manual=True)
        ]
        waiting = list(workflow.event_manager.tasks.values())
        timers = [view for task in waiting if (view := _timer_view(task)) is not None]
        awaited = sorted(
            {name for task in waiting for name in _message_names(task.task_spec.event_definition)}
        )
        active: set[str] = set()
        decisions = []
        fired = []
        for task in _all_tasks(workflow):
            state = task._state
            if state & _ACTIVE:
                if task.task_spec.bpmn_id:
                    active.add(task.task_spec.bpmn_id)
            elif state == TaskState.COMPLETED:
                decision, fired_timer = _completed_views(task)
                if decision is not None:
                    decisions.append(decision)
                elif fired_timer is not None:
                    fired.append(fired_timer)
        return Snapshot(
            ready, timers, awaited, workflow.is_completed(), sorted(active), decisions, fired
        )

    @engine_time
    def take_thrown_messages(self, workflow: BpmnWorkflow) -> list[ThrownMessage]:
        """Messages the workflow threw that nothing inside it caught; taking them empties the
        workflow's queue, so each is handed on exactly once."""
        return [
            ThrownMessage(event.event_definition.name, event.payload)
            for event in workflow.get_events()
            if isinstance(event.event_definition, MessageEventDefinition)
        ]

    @engine_time
    def completed_elements(self, workflow: BpmnWorkflow) -> list[str]:
        """The BPMN elements the instance has passed through (for drawing its path)."""
        return sorted(
            {
                task.task_spec.bpmn_id
                for task in _all_tasks(workflow)
                if task.state == TaskState.COMPLETED and task.task_spec.bpmn_id
            }
        )

    @engine_time
    def waiting_at(self, workflow: BpmnWorkflow) -> list[str]:
        """The names of the work the instance waits on, as the diagrams call it: its open tasks
        (inside called processes too), not the gateways and events around them."""
        names = set()
        for task in _all_tasks(workflow):
            spec = task.task_spec
            kind = type(spec).__name__
            if (
                task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED)
                and spec.bpmn_name
                and not kind.endswith(("Event", "Gateway"))
                and not isinstance(spec, CallActivityMixin)  # what it runs is named instead
            ):
                names.add(spec.bpmn_name)
        return sorted(names)

    @engine_time
    def called_processes(self, workflow: BpmnWorkflow) -> list[CalledView]:
        """Each process the instance's call activities ran or run, once per call activity (a
        call repeated for each child shows the union of where its runs stand)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for sub in workflow.subprocesses.values():
            caller = workflow.get_task_from_id(sub.parent_task_id)
            if caller is None or not isinstance(caller.task_spec, CallActivityMixin):
                continue  # an embedded sub-process is drawn in its parent's diagram
            spec = caller.task_spec
            seen = found.setdefault(
                (spec.bpmn_id, sub.spec.name),
                {
                    "name": spec.bpmn_name or spec.bpmn_id,
                    "caller": caller.workflow.spec.name,
                    "active": set(),
                    "completed": set(),
                    "finished": True,
                },
            )
            for task in sub.tasks.values():
                if not task.task_spec.bpmn_id:
                    continue
                if task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                    seen["active"].add(task.task_spec.bpmn_id)
                elif task.state == TaskState.COMPLETED:
                    seen["completed"].add(task.task_spec.bpmn_id)
            seen["finished"] = seen["finished"] and sub.is_completed()
        return [
            CalledView(
                element_id,
                seen["name"],
                seen["caller"],
                process_id,
                sorted(seen["active"]),
                sorted(seen["completed"]),
                seen["finished"],
            )
            for (element_id, process_id), seen in found.items()
        ]

    @engine_time
    def task_data(self, workflow: BpmnWorkflow, task_id: UUID) -> dict[str, Any]:
        """A copy of a task's data (the process data as that task sees it)."""
        return copy.deepcopy(_find_task(workflow, task_id).data)

    # -- internals --------------------------------------------------------------------------

    def _engine(self, profile: Profile) -> PythonScriptEngine:
        # Helpers depend only on the calendar and the periods (and the clock), so profiles
        # alike share engines.
        key = (profile.calendar, profile.periods)
        engine = self._engines.get(key)
        if engine is None:
            helpers = script_functions(profile.calendar, self.clock, profile.period_by_id)
            engine = PythonScriptEngine(environment=RestrictedEnvironment(helpers))
            self._engines[key] = engine
        return engine

    @contextmanager
    def _run(self) -> Iterator[None]:
        """One engine run: our clock, the CPU budget, and errors in casework's terms."""
        try:
            with clock_hook.using(self.clock), cpu_budget(self.cpu_seconds):
                yield
        except BudgetExceeded:
            raise ScriptFailed(
                f"a script or expression used more than {self.cpu_seconds:g} s of CPU and was "
                "stopped; nothing was changed",
                reason="timeout",
            ) from None
        except WorkflowTaskException as exc:
            raise _script_failure(exc) from exc
        except SandboxViolation as exc:
            raise ScriptFailed(f"refused by the sandbox: {exc}", reason="refused") from exc
        except MemoryError:
            raise ScriptFailed(
                "a script asked for more memory than allowed", reason="memory"
            ) from None
        except RecursionError:
            raise ScriptFailed("the process nested too deeply to run", reason="depth") from None
        except (Conflict, NotFound, ScriptFailed):
            raise
        except SpiffWorkflowException as exc:
            raise ScriptFailed(_clean(str(exc))) from exc
        except Exception as exc:
            # Some engine paths (message correlations, for one) evaluate expressions without
            # wrapping their errors; they are still the process's errors, not casework's.
            raise ScriptFailed(f"{type(exc).__name__}: {_clean(str(exc))}") from exc


# SpiffWorkflow's task iterator stops descending at depth 1000: past it, READY tasks become
# invisible and is_completed() wrongly answers True. A run that takes an instance this deep
# (a loop in the design) is refused before the engine can mistake it for an end.
DEPTH_LIMIT = 900


def _advance(workflow: BpmnWorkflow) -> None:
    task_walk.mark_settled(workflow)
    # refresh_timers first, or a timer that came due only becomes READY and runs next time.
    workflow.refresh_timers()
    workflow.do_engine_steps()
    trees = [workflow, *workflow.subprocesses.values()]
    # A tree cannot be deeper than it has tasks: most runs need no walk at all.
    if any(len(t.tasks) >= DEPTH_LIMIT and _deepest(t) >= DEPTH_LIMIT for t in trees):
        raise ScriptFailed(
            f"the process went more than {DEPTH_LIMIT} steps deep in one instance (a loop in "
            "the design?) and was stopped; nothing was changed",
            reason="depth",
        )


def _deepest(tree: Any) -> int:
    """The depth of the tree's deepest task. The depths found so far are kept on the tree
    object, so a run works out only those of the tasks created since the last one asked."""
    known: dict[UUID, int] = tree.__dict__.setdefault("_casework_depths", {})
    deepest: int = tree.__dict__.get("_casework_deepest", 0)
    tasks: dict[UUID, Any] = tree.tasks
    # Tasks are kept in creation order, parents first: the new ones are at the end.
    new = []
    for task_id in reversed(tasks):
        if task_id in known:
            break
        new.append(task_id)
    for task_id in reversed(new):
        task = tasks[task_id]
        if task._parent is None:
            depth = 0
        elif task._parent in known:
            depth = known[task._parent] + 1
        else:
            depth = task.depth
        known[task_id] = depth
        deepest = max(deepest, depth)
    tree._casework_deepest = deepest
    return deepest


def _script_failure(exc: WorkflowTaskException) -> ScriptFailed:
    # The engine keeps the original error in different places depending on the path.
    cause = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    reason = "error"
    if isinstance(cause, SandboxViolation):
        reason = "refused"
    elif isinstance(cause, MemoryError):
        reason = "memory"
    element_id = getattr(getattr(exc, "task_spec", None), "bpmn_id", None)
    line = getattr(exc, "line_number", None) or None
    message = _clean(str(exc))
    if reason == "refused":
        message = f"refused by the sandbox: {cause}. {message}"
    return ScriptFailed(message, element_id=element_id, line=line, reason=reason)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _decision_view(task: Any) -> DecisionView:
    table = task.task_spec.dmnEngine.decision_table
    # Output names may be dotted ("screening.decision"): the top-level variable holds them.
    names = sorted({output.name.split(".")[0] for output in table.outputs if output.name})
    return DecisionView(
        task.id,
        task.workflow.spec.name,
        task.task_spec.bpmn_id,
        {name: copy.deepcopy(task.data.get(name)) for name in names},
        copy.deepcopy(task.internal_data.get(EXPLANATION, {})),
    )


def _find_task(workflow: BpmnWorkflow, task_id: UUID) -> Any:
    try:
        task = workflow.get_task_from_id(task_id)
    except Exception as exc:
        raise NotFound(f"no task {task_id} in this instance") from exc
    if task is None:
        raise NotFound(f"no task {task_id} in this instance")
    return task


_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_VIEWS = "_casework_views"


def _completed_views(task: Any) -> tuple[DecisionView | None, TimerView | None]:
    # A completed task does not change again: its views are read once and kept on it.
    kept: tuple[DecisionView | None, TimerView | None] | None = task.__dict__.get(_VIEWS)
    if kept is None:
        if isinstance(task.task_spec, BusinessRuleTaskMixin):
            kept = (_decision_view(task), None)
        else:
            kept = (None, _timer_view(task))
        setattr(task, _VIEWS, kept)
    return kept


def _all_tasks(workflow: BpmnWorkflow) -> Iterator[Any]:
    # The flat dicts: get_tasks() does not descend below WAITING parents.
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def _task_view(task: Any) -> TaskView:
    spec = task.task_spec
    return TaskView(
        id=task.id,
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        process_id=task.workflow.spec.name,
        due_at=_due_of(task),
        item=_multi_instance_item(task),
    )


def _multi_instance_item(task: Any) -> Any:
    parent = task.parent
    spec = parent.task_spec if parent is not None else None
    if not isinstance(spec, MultiInstanceTask) or spec.input_item is None:
        return None
    return copy.deepcopy(task.data.get(spec.input_item.bpmn_id))


def _boundary_split_of(task: Any) -> Any:
    parent = task.parent
    while parent is not None and isinstance(parent.task_spec, MultiInstanceTask):
        parent = parent.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        return parent
    return None


def _due_of(task: Any) -> datetime | None:
    split = _boundary_split_of(task)
    if split is None:
        return None
    timers = [(sibling.state, view) for sibling in split.children if (view := _timer_view(sibling))]
    dues = [view.due_at for state, view in timers if state == TaskState.WAITING]
    # Several timers may bound a task (a reminder on the 20th, the month's end): its due date
    # is the last of them; earlier ones are warnings on the way. When all have fired (the task
    # is overdue), it keeps the date it missed.
    if not dues:
        dues = [view.due_at for state, view in timers if state == TaskState.COMPLETED]
    return max(dues) if dues else None


def _timer_view(task: Any) -> TimerView | None:
    spec = task.task_spec
    definition = getattr(spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = definition.details(task).value
    if not isinstance(value, str):
        return None
    due = datetime.fromisoformat(value)
    if due.tzinfo is None:
        return None
    kind = (
        "cycle"
        if isinstance(definition, CycleTimerEventDefinition)
        else ("duration" if type(definition).__name__ == "DurationTimerEventDefinition" else "date")
    )
    attached_to = None
    interrupting = True
    if isinstance(spec, BoundaryEvent):
        interrupting = bool(spec.cancel_activity)
        if task.parent is not None:
            attached_to = next(
                (c.id for c in task.parent.children if not isinstance(c.task_spec, BoundaryEvent)),
                None,
            )
    return TimerView(
        task.id, spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, due, kind, attached_to, interrupting
    )


def _message_names(definition: Any) -> Iterator[str]:
    if isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _message_names(inner)
    elif isinstance(definition, MessageEventDefinition):
        yield definition.name
