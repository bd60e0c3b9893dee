"""Validation's own dry run: every process of the bundle that a person can start is walked
through in memory, each user task answered with made-up answers that fit its form and each
timer let fire, so that a timer expression, a script or a condition that cannot run at all
fails validation instead of a caseworker's request.

Walks differ in the answers they give (a yes here, a no there: each walk draws its choices from
its own seeded generator, so the same files always walk the same way) and in their patience (a
prompt walk answers tasks as soon as they wait; a patient one lets the next timer fire first,
so escalations and boundary timers run too). Each walk is bounded in steps; what the walks
reached is kept, so the designer can see how much of a process they covered.

A walk stops at a task whose form it cannot answer, at an answer the task's own script turns
away, and at a wait for a message from outside the bundle: those are a scenario's business,
with the real data."""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.definitions import simulate
from engine.definitions.bundle import Bundle
from engine.definitions.sample_answers import sample_answer
from engine.errors import EngineError, InvalidTaskData, Problem, ScriptFailed
from engine.spiff.definitions import CompiledBundle
from engine.tasks.form_schemas import CONFIRMATION_SCHEMA, with_choices

# A Monday morning in the middle of a working month, away from any holiday season.
START = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
MAX_WALK_STEPS = 100
MAX_WALKS = 12  # per process and profile, at most
FRUITLESS_WALKS = 4  # stop sooner once this many walks in a row reached nothing new
RUNAWAY_REASONS = {"timeout", "memory", "depth"}
RUNAWAY = " (a process that runs away like this would stop every case that reaches it)"
SCENARIO_ANSWERS = 0.6  # how often a task is answered as a scenario answers it, where one does
MAX_PROBLEMS = 3  # per process: enough to act on, without walking a broken process for long

# The case every walk runs on: one child, one allegation, as intake leaves a case.
CHILD_ID = "00000000-0000-4000-8000-00000000c001"
PARENT_ID = "00000000-0000-4000-8000-00000000a001"
ALLEGATION_ID = "00000000-0000-4000-8000-00000000f001"
CASE_DATA: dict[str, Any] = {
    "children": [{"person_id": CHILD_ID, "name": "Dry Run Child", "birth_date": "2019-05-01"}],
    "allegations": [
        {
            "allegation_id": ALLEGATION_ID,
            "victim_id": CHILD_ID,
            "perpetrator_id": PARENT_ID,
            "type": "NEGLECT",
            "victim_name": "Dry Run Child",
        }
    ],
}
CHOICES = {
    "children": [(CHILD_ID, "Dry Run Child")],
    "people": [(CHILD_ID, "Dry Run Child"), (PARENT_ID, "Dry Run Parent")],
    "allegations": [(ALLEGATION_ID, "Neglect")],
}


@dataclass
class Coverage:
    """What the walks of one process reached, and what failed on the way."""

    process_id: str
    tasks: set[str] = field(default_factory=set)
    timers: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Reach:
    """How much of the bundle validation's walks reached: where a case can wait (user tasks,
    timers), and which of them no walk came to (a scenario's business, then)."""

    tasks: int
    tasks_reached: int
    timers: int
    timers_reached: int
    not_reached: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "tasks_reached": self.tasks_reached,
            "timers": self.timers,
            "timers_reached": self.timers_reached,
            "not_reached": self.not_reached,
        }

    def in_words(self) -> str:
        said = (
            f"validation's dry run reached {self.tasks_reached} of {self.tasks} user tasks and "
            f"{self.timers_reached} of {self.timers} timers"
        )
        if self.not_reached:
            said += f"; not reached (scenarios can take them): {', '.join(self.not_reached)}"
        return said


def reach_of(bundle: Bundle, compiled: CompiledBundle) -> Reach:
    coverages = walk_every_process(bundle, compiled)
    tasks, timers = compiled.waits()
    reached = {element for c in coverages for element in c.tasks | c.timers}
    return Reach(
        tasks=len(tasks),
        tasks_reached=len(tasks & reached),
        timers=len(timers),
        timers_reached=len(timers & reached),
        not_reached=sorted((tasks | timers) - reached),
    )


_RESULTS: dict[tuple[str, str], list[Coverage]] = {}
_RESULTS_LOCK = threading.Lock()


def walk_problems(bundle: Bundle, compiled: CompiledBundle) -> list[Problem]:
    """A problem for each element that failed in a walk, first failure per element."""
    return [p for coverage in walk_every_process(bundle, compiled) for p in coverage.problems]


def walk_every_process(bundle: Bundle, compiled: CompiledBundle) -> list[Coverage]:
    """Every process a person can start, walked on every profile of the bundle that runs it.
    Kept by the bundle's content: the same files walk the same way."""
    results: list[Coverage] = []
    for profile_id in sorted(compiled.profiles) or ["default"]:
        key = (bundle.content_hash, profile_id)
        with _RESULTS_LOCK:
            known = _RESULTS.get(key)
        if known is None:
            given = _scenario_answers(bundle)
            known = [
                _walk_process(compiled, process_id, profile_id, given)
                for process_id in _startable(compiled)
                if compiled.runs(profile_id, process_id)
            ]
            with _RESULTS_LOCK:
                _RESULTS[key] = known
        results.extend(known)
    return results


def _startable(compiled: CompiledBundle) -> list[str]:
    """Processes a person starts: a plain start event, and not only ever called by another
    (a called process runs on its caller's data, and is walked within it)."""
    called = {
        name for definition in compiled.processes.values() for name in definition.subprocess_specs
    }
    return sorted(
        process_id
        for process_id, definition in compiled.processes.items()
        if definition.has_plain_start and process_id not in called
    )


def _scenario_answers(bundle: Bundle) -> dict[str, list[dict[str, Any]]]:
    """The answers the bundle's scenarios give each task: what a designer says a person
    types there, which takes a walk past a decision on many fields far more often than
    answers made up field by field."""
    answers: dict[str, list[dict[str, Any]]] = {}
    for content in bundle.of_kind("scenario").values():
        try:
            steps = json.loads(content).get("steps", [])
        except (ValueError, AttributeError):
            continue  # the scenario's own check says what is wrong with it
        for step in steps if isinstance(steps, list) else []:
            if isinstance(step, dict) and isinstance(step.get("with"), dict):
                answers.setdefault(str(step.get("complete")), []).append(step["with"])
    return answers


def _walk_process(
    compiled: CompiledBundle,
    process_id: str,
    profile_id: str,
    given: dict[str, list[dict[str, Any]]],
) -> Coverage:
    coverage = Coverage(process_id)
    failed: set[str] = set()
    fruitless = 0
    for walk in range(MAX_WALKS):
        if len(coverage.problems) >= MAX_PROBLEMS:
            break
        reached = len(coverage.tasks) + len(coverage.timers)
        # Half the walks are patient: timers fire before the tasks they would cut short.
        problem = _walk(
            compiled, process_id, profile_id, random.Random(walk), walk % 2 == 1, given, coverage
        )
        if problem is not None and (problem.element_id or "") not in failed:
            failed.add(problem.element_id or "")
            coverage.problems.append(problem)
        if problem is not None and problem.message.endswith(RUNAWAY):
            break  # it ran out of time or memory: walking it again would only do so again
        grew = len(coverage.tasks) + len(coverage.timers) > reached
        fruitless = 0 if grew else fruitless + 1
        if fruitless >= FRUITLESS_WALKS:
            break
    return coverage


def _walk(
    compiled: CompiledBundle,
    process_id: str,
    profile_id: str,
    chance: random.Random,
    patient: bool,
    given: dict[str, list[dict[str, Any]]],
    coverage: Coverage,
) -> Problem | None:
    """One walk of the process; the problem it ran into, if any."""
    data = dict(CASE_DATA)
    start_form = compiled.start_form(process_id)
    if start_form is not None:
        data |= sample_answer(with_choices(start_form, CHOICES), chance, START) or {}
    dry_run = simulate.DryRun(process_id, {}, START, profile_id=profile_id, data=data)
    run: simulate.Rehearsal | None = None
    try:
        run = simulate.begin(compiled, dry_run)
        _take_steps(run, chance, patient, given, coverage)
    except ScriptFailed as exc:
        said = _unset(exc) or exc.describe()
        said += RUNAWAY if exc.reason in RUNAWAY_REASONS else ""
        return _problem(compiled, process_id, exc.element_id, said)
    except EngineError as exc:
        return _problem(compiled, process_id, None, str(exc))
    finally:
        if run is not None:
            coverage.timers |= run.report.fired
    return None


def _take_steps(
    run: simulate.Rehearsal,
    chance: random.Random,
    patient: bool,
    given: dict[str, list[dict[str, Any]]],
    coverage: Coverage,
) -> None:
    for _ in range(MAX_WALK_STEPS):
        ready = simulate.ready(run)
        due = simulate.next_timer(run)
        if due is not None and (not ready or (patient and chance.random() < 0.5)):
            simulate.advance_to(run, due)
            continue
        if not ready:
            return  # finished, or waiting for a message from outside the bundle
        task = chance.choice(ready)
        coverage.tasks.add(task.bpmn_id)
        schema = with_choices(run.compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA, CHOICES)
        answer = sample_answer(schema, chance, run.clock.now())
        scenarios = given.get(task.bpmn_id)
        if scenarios and chance.random() < SCENARIO_ANSWERS:
            answer = chance.choice(scenarios)
        if answer is None:
            return  # a form this walk cannot fill in: a scenario's business
        try:
            simulate.complete_task(run, task, answer)
        except InvalidTaskData:
            return  # a scenario's answer that does not fit this form: its own check says so
        except ScriptFailed as exc:
            if _refused(exc, task.bpmn_id):
                return  # the task's own check turned the made-up answer away, as it should
            raise


def _cause(exc: ScriptFailed) -> BaseException | None:
    failure = exc.__cause__
    return getattr(failure, "exception", None) or getattr(failure, "__context__", None)


def _unset(exc: ScriptFailed) -> str | None:
    """The most common fault said so a designer can act on it: a name read before anything
    on the way set it."""
    cause = _cause(exc)
    name = getattr(cause, "name", None) if isinstance(cause, NameError) else None
    if not name:  # a message's payload or correlation: the engine keeps only the words
        said = re.search(r"NameError: ?name '(\w+)' is not defined", exc.message)
        name = said.group(1) if said else None
    if not name:
        return None
    return (
        f"{exc.element_id or 'an expression'} reads {name!r}, which nothing on the way there "
        "set: no form field, script or message before it gives it a value. Give an earlier "
        f"task's form a field {name!r}, set it in a script, or test for it before reading it"
    )


def _refused(exc: ScriptFailed, answered: str) -> bool:
    """The answered task's script refused the answer (``raise ValueError("…")``): what a
    person would be told, not a fault of the diagram."""
    return exc.element_id == answered and type(_cause(exc)) is ValueError


def _problem(
    compiled: CompiledBundle, process_id: str, element_id: str | None, said: str
) -> Problem:
    where = _file_of(compiled, element_id) or compiled.processes[process_id].file
    return Problem(
        where,
        f"validation's dry run of {process_id!r} (answers made up from the forms) failed: {said}",
        element_id=element_id,
    )


def _file_of(compiled: CompiledBundle, element_id: str | None) -> str | None:
    """The diagram that holds the element (a called process's, maybe)."""
    if not element_id:
        return None
    needle = f'id="{element_id}"'.encode()
    return next(
        (path for path, content in sorted(compiled.bundle.files.items()) if needle in content),
        None,
    )
