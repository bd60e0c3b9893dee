"""Designers' scenarios: ``scenarios/<name>.json`` in the bundle, each a story the process must
keep telling. A scenario starts a process on a profile at an instant with some data, then takes
steps — answer a task, send a message, let time pass — and says what must then be true: which
tasks wait, what the process decided (its data), by when a task is due, that it finished.

They run in memory on the dry run's machinery (``simulate``), with the scenario's own clock,
whenever the bundle is validated or deployed; a deploy is refused while any fails, and the
problem names the scenario's file, its step and the difference. Results are kept by the
bundle's content: the same files tell the same story."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import isodate
from jsonschema import Draft202012Validator

from engine.definitions import simulate
from engine.definitions.bundle import Bundle
from engine.errors import EngineError, InvalidTaskData, Problem
from engine.spiff.definitions import CompiledBundle

TASKS = {"type": "array", "items": {"type": "string"}}
SCENARIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "process", "start", "steps"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 300},
        "process": {"type": "string"},
        "profile": {"type": "string"},
        "start": {"type": "string", "format": "date-time"},
        "data": {"type": "object"},
        "start_message": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "description": "a phase a message starts: the message and its payload",
            "properties": {"name": {"type": "string"}, "payload": {}},
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": 500,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "note": {"type": "string"},
                    "complete": {"type": "string"},
                    "with": {"type": "object"},
                    "message": {"type": "string"},
                    "payload": {},
                    "advance": {"type": "string", "description": "an ISO 8601 duration"},
                    "expect_tasks": TASKS,
                    "expect_waiting": TASKS,
                    "expect_absent": TASKS,
                    "expect_data": {
                        "type": "object",
                        "required": ["task", "values"],
                        "properties": {"task": {"type": "string"}, "values": {"type": "object"}},
                    },
                    "expect_due": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "format": "date-time"},
                    },
                    "expect_finished": {"type": "boolean"},
                },
            },
        },
    },
}

_RESULTS: dict[str, list[Problem]] = {}
_RESULTS_LOCK = threading.Lock()


def scenario_problems(bundle: Bundle, compiled: CompiledBundle) -> list[Problem]:
    """Every scenario of the bundle run; a problem for each that fails, at its step."""
    scenarios = bundle.of_kind("scenario")
    if not scenarios:
        return []
    key = bundle.content_hash
    with _RESULTS_LOCK:
        known = _RESULTS.get(key)
    if known is not None:
        return list(known)
    problems = [p for path, content in scenarios.items() for p in _run(path, content, compiled)]
    with _RESULTS_LOCK:
        _RESULTS[key] = problems
    return list(problems)


def _run(path: str, content: bytes, compiled: CompiledBundle) -> list[Problem]:
    try:
        scenario = json.loads(content)
    except ValueError as exc:
        return [Problem(path, f"a scenario is JSON: {exc}")]
    errors = sorted(Draft202012Validator(SCENARIO_SCHEMA).iter_errors(scenario), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the scenario"
        return [Problem(path, f"{where}: {errors[0].message}")]
    try:
        start = _instant(scenario["start"])
        run = simulate.begin(
            compiled,
            simulate.DryRun(
                process_id=scenario["process"],
                answers={},
                start=start,
                profile_id=scenario.get("profile", "default"),
                data=scenario.get("data"),
            ),
        )
        started = scenario.get("start_message")
        if started and not simulate.deliver(run, started["name"], started.get("payload")):
            raise ValueError(f"{scenario['process']} does not start on {started['name']!r}")
    except (EngineError, ValueError) as exc:
        return [Problem(path, f"the scenario cannot start: {_said(exc)}")]
    for number, step in enumerate(scenario["steps"], start=1):
        try:
            difference = _step(run, step)
        except (EngineError, ValueError, isodate.ISO8601Error) as exc:
            difference = f"it failed: {_said(exc)}"
        if difference:
            what = step.get("note") or _describe(step)
            return [
                Problem(
                    path,
                    f"“{scenario['title']}”, step {number} ({what}): {difference}",
                    element_id=step.get("complete") or None,
                )
            ]
    return []


def _step(run: simulate.Rehearsal, step: dict[str, Any]) -> str | None:
    """Take one step; what differs from what it expects, or None."""
    if "advance" in step:
        simulate.advance_to(run, run.clock.now() + isodate.parse_duration(step["advance"]))
    if "message" in step and not simulate.deliver(run, step["message"], step.get("payload")):
        return f"nothing waits for message {step['message']!r}; {_waiting(run)}"
    if "complete" in step:
        answer = step.get("with", {})
        try:
            if not simulate.complete(run, step["complete"], answer):
                return f"task {step['complete']!r} is not waiting; {_waiting(run)}"
        except InvalidTaskData as exc:
            fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            return f"the answer does not fit the form: {fields}"
    ready = simulate.ready(run)
    waiting = {t.bpmn_id for t in ready}
    if "expect_tasks" in step and sorted(waiting) != sorted(step["expect_tasks"]):
        return f"expected tasks {sorted(step['expect_tasks'])}, waiting are {sorted(waiting)}"
    missing = sorted(set(step.get("expect_waiting", [])) - waiting)
    if missing:
        return f"expected {missing} among the waiting tasks; {_waiting(run)}"
    present = sorted(set(step.get("expect_absent", [])) & waiting)
    if present:
        return f"expected {present} not to be waiting; {_waiting(run)}"
    if "expect_due" in step:
        for task_id, due in step["expect_due"].items():
            found = [t for t in ready if t.bpmn_id == task_id]
            if not found:
                return f"expected {task_id!r} due {due}; {_waiting(run)}"
            if found[0].due_at != _instant(due):
                said = found[0].due_at.isoformat() if found[0].due_at else "no due date"
                return f"expected {task_id!r} due {_instant(due).isoformat()}, it is due {said}"
    if "expect_data" in step:
        wanted = step["expect_data"]
        found = [t for t in ready if t.bpmn_id == wanted["task"]]
        if not found:
            return f"expected data at {wanted['task']!r}; {_waiting(run)}"
        data = simulate.data_at(run, found[0])
        for name, value in wanted["values"].items():
            if data.get(name) != value:
                return f"expected {name} = {value!r}, the process has {data.get(name)!r}"
    if "expect_finished" in step and simulate.finished(run) != step["expect_finished"]:
        return f"expected the process {'' if step['expect_finished'] else 'not '}finished"
    return None


def _waiting(run: simulate.Rehearsal) -> str:
    waiting = sorted(t.bpmn_id for t in simulate.ready(run))
    return f"waiting are {waiting}" if waiting else "no task is waiting"


def _describe(step: dict[str, Any]) -> str:
    for key, said in (
        ("complete", "complete {}"),
        ("message", "message {}"),
        ("advance", "wait {}"),
    ):
        if key in step:
            return said.format(step[key])
    return "check"


def _instant(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} needs its offset (for example -06:00)")
    return instant


def _said(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return str(message or exc)
