"""The cheaper engine step does what SpiffWorkflow's own does, over random runs of the shipped
diagrams: the incremental dump is the full dump, a workflow kept in memory steps exactly as
one read back from its state, and the faster task walk finds what the library's walk finds.

Each walk takes the steps a person or the clock could take (a random ready task answered with
a made-up answer that fits its form, or the clock moved to the next timer), through every
process the run starts by message, and checks every instance after every step.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskState

from engine.definitions import simulate
from engine.definitions.bundle import read_bundle
from engine.definitions.sample_answers import sample_answer
from engine.definitions.walkthrough import CASE_DATA, CHOICES, START
from engine.errors import InvalidTaskData, ScriptFailed
from engine.spiff import state_json, task_walk
from engine.spiff.definitions import CompiledBundle, compile_bundle
from engine.tasks.form_schemas import CONFIRMATION_SCHEMA, with_choices

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
STEPS = 60  # at most, in one walk
ENOUGH = 30  # steps over all walks of a process
MAX_WALKS = 12
WALKS = {"us-tx": "intake", "england": "england_referral"}
FILTERS = [
    {"state": TaskState.READY, "manual": True},
    {"state": TaskState.READY, "manual": False},
    {"state": TaskState.WAITING},
    {"state": TaskState.NOT_FINISHED_MASK},
    {"state": TaskState.ANY_MASK},
]


@pytest.fixture(scope="module")
def compiled() -> CompiledBundle:
    return compile_bundle(read_bundle([BPMN]))


@pytest.mark.parametrize(("profile_id", "process_id"), WALKS.items())
def test_random_runs_store_and_step_as_the_library_does(
    compiled: CompiledBundle, profile_id: str, process_id: str
) -> None:
    # Walks end where a made-up answer ends a case early (screened out, say): more walks are
    # taken until the steps add up.
    steps = 0
    for seed in range(MAX_WALKS):
        steps += _walk(compiled, profile_id, process_id, random.Random(seed))
        if steps >= ENOUGH:
            break
    assert steps >= ENOUGH


def _walk(compiled: CompiledBundle, profile_id: str, process_id: str, chance: random.Random) -> int:
    data = dict(CASE_DATA)
    start_form = compiled.start_form(process_id)
    if start_form is not None:
        data |= sample_answer(with_choices(start_form, CHOICES), chance, START) or {}
    run = simulate.begin(
        compiled, simulate.DryRun(process_id, {}, START, profile_id=profile_id, data=data)
    )
    steps = 0
    for _ in range(STEPS):
        _check_every_instance(run)
        ready = simulate.ready(run)
        due = simulate.next_timer(run)
        if due is not None and (not ready or chance.random() < 0.3):
            simulate.advance_to(run, due)
            steps += 1
            continue
        if not ready:
            break
        task = chance.choice(ready)
        schema = with_choices(run.compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA, CHOICES)
        answer = sample_answer(schema, chance, run.clock.now())
        if answer is None:
            break
        try:
            _step_the_kept_workflow_and_one_read_back(run, task, answer)
        except (InvalidTaskData, ScriptFailed):
            break  # a made-up answer a form or script turns away: the walk ends there
        simulate.route_messages(run)
        steps += 1
    _check_every_instance(run)
    return steps


class _Stored:
    """An instance as the database holds it: the head, and its finished tasks' rows."""

    def __init__(self) -> None:
        self.head = ""
        self.rows: dict[Any, state_json.FinishedRow] = {}

    def save(self, dumped: state_json.StoredState) -> None:
        if dumped.replace_all:
            self.rows.clear()
        for task_id in dumped.removed:
            del self.rows[task_id]
        for row in dumped.finished:
            assert row.task_id not in self.rows, "a finished task is written once"
            self.rows[row.task_id] = row
        self.head = dumped.head


def _stored(instance: Any) -> _Stored:
    if not hasattr(instance, "stored"):
        instance.stored = _Stored()
    return instance.stored  # type: ignore[no-any-return]


def _save(run: simulate.Rehearsal, instance: Any) -> _Stored:
    stored = _stored(instance)
    stored.save(run.runtime.dump(instance.workflow))
    return stored


def _check_every_instance(run: simulate.Rehearsal) -> None:
    runtime = run.runtime
    for instance in run.instances:
        workflow = instance.workflow
        stored = _save(run, instance)
        full = json.loads(runtime.dump_in_full(workflow))
        assembled = state_json.assemble(stored.head, list(stored.rows.values()))
        assert _document(assembled) == full
        # In the order the workflow created its tasks, as the full dump has them.
        for tree, tree_dct in _trees(assembled):
            assert list(tree_dct["tasks"]) == list(_tree(full, tree)["tasks"])
        # Dumped again with nothing changed: nothing more to store.
        again = runtime.dump(workflow)
        assert not again.finished and not again.removed
        definition = run.compiled.process(instance.process_id)
        assert definition is not None
        read_back = runtime.load(definition, run.profile, stored.head, list(stored.rows.values()))
        assert json.loads(runtime.dump_in_full(read_back)) == full
        for task_filter in FILTERS:
            fast = [t.id for t in workflow.get_tasks(**task_filter)]
            stock = [
                t.id
                for t in task_walk.stock_walk(BpmnTaskIterator, workflow.task_tree, **task_filter)
            ]
            assert fast == stock, task_filter


def _document(assembled: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in assembled.items() if not k.startswith("casework_")}


def _trees(dct: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("", dct), *dct.get("subprocesses", {}).items()]


def _tree(dct: dict[str, Any], tree: str) -> dict[str, Any]:
    return dct if tree == "" else dct["subprocesses"][tree]  # type: ignore[no-any-return]


def _step_the_kept_workflow_and_one_read_back(
    run: simulate.Rehearsal, task: Any, answer: dict[str, Any]
) -> None:
    """The step taken on the workflow kept in memory and on one read back from what was
    stored: both come out the same (but for the wall-clock time of each state change)."""
    runtime = run.runtime
    instance = next(
        i
        for i in run.instances
        if any(t.id == task.id for t in runtime.snapshot(i.workflow).ready_tasks)
    )
    definition = run.compiled.process(instance.process_id)
    assert definition is not None
    stored = _save(run, instance)
    read_back = runtime.load(definition, run.profile, stored.head, list(stored.rows.values()))
    simulate.check_answer(run, task, answer)
    runtime.complete_task(instance.workflow, task.id, copy.deepcopy(answer))
    instance.moved()
    runtime.complete_task(read_back, task.id, copy.deepcopy(answer))
    kept = json.loads(runtime.dump_in_full(instance.workflow))
    assert _canonical(kept) == _canonical(json.loads(runtime.dump_in_full(read_back)))


def _canonical(state: dict[str, Any]) -> Any:
    """The state with each task id replaced by the task's place in its tree (new tasks get
    random ids) and without the wall-clock time of each state change."""
    places: dict[str, str] = {}
    _place(state, "", places)
    for parent_id, sub in state.get("subprocesses", {}).items():
        _place(sub, places.get(parent_id, parent_id) + "/", places)
    return _renamed(state, places)


def _place(tree: dict[str, Any], prefix: str, places: dict[str, str]) -> None:
    tasks = tree["tasks"]
    waiting = [(tree["root"], prefix + "0")]
    while waiting:
        task_id, place = waiting.pop()
        places[task_id] = place
        for n, child in enumerate(tasks[task_id]["children"]):
            waiting.append((child, f"{place}.{n}"))


def _renamed(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            places.get(k, k): _renamed(v, places)
            for k, v in value.items()
            if k != "last_state_change"
        }
    if isinstance(value, list):
        return [_renamed(v, places) for v in value]
    if isinstance(value, str):
        return places.get(value, value)
    return value
