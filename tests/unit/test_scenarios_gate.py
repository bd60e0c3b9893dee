"""Scenarios gate a deploy: the shipped ones pass; one whose story the diagrams no longer tell
is a problem naming its file, its step and the difference, and so is a scenario that is not
one (bad JSON, a step casework does not know, a task that is not waiting)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.versions import validate

ROOT = Path(__file__).resolve().parents[2]
SENT_BACK = "scenarios/screen_out_sent_back.json"


def with_scenario(path: str, content: Any) -> Bundle:
    files = dict(read_bundle([ROOT / "bpmn"]).files)
    files[path] = content if isinstance(content, bytes) else json.dumps(content).encode()
    return Bundle(files)


def shipped(path: str) -> dict[str, Any]:
    return json.loads((ROOT / "bpmn" / path).read_bytes())


def test_the_shipped_scenarios_pass() -> None:
    bundle = read_bundle([ROOT / "bpmn"])
    assert len(bundle.of_kind("scenario")) >= 14
    assert validate(bundle) == []


def test_a_story_the_diagrams_no_longer_tell_names_its_step_and_the_difference() -> None:
    scenario = shipped(SENT_BACK)
    scenario["steps"][2]["expect_tasks"] = ["first_contact"]  # as if a screen-out went on

    [problem] = validate(with_scenario(SENT_BACK, scenario))

    assert problem.file == SENT_BACK
    assert "step 3 (an unlocatable family is screened out" in problem.message
    assert "expected tasks ['first_contact'], waiting are ['approve_screening']" in problem.message


def test_a_rejection_the_diagram_ignores_is_caught() -> None:
    """The bug scenarios exist for: an approval whose "no" the diagram does not act on."""
    files = dict(read_bundle([ROOT / "bpmn"]).files)
    approved = b">approved == True and screen_in_instead == False<"
    assert approved in files["intake.bpmn"]
    files["intake.bpmn"] = files["intake.bpmn"].replace(approved, b">screen_in_instead == False<")

    problems = validate(Bundle(files))

    assert [p.file for p in problems] == [SENT_BACK]
    assert "step 5 (sent back: the screener has the report again" in problems[0].message
    assert "no task is waiting" in problems[0].message


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"{not json", "a scenario is JSON"),
        ({"title": "x", "process": "intake", "start": "2025-03-03T09:00:00-06:00",
          "steps": [{"dance": True}]}, "Additional properties are not allowed"),
        ({"title": "x", "process": "nowhere", "start": "2025-03-03T09:00:00-06:00",
          "steps": [{"expect_tasks": []}]}, "cannot start: no process 'nowhere'"),
        ({"title": "x", "process": "intake", "profile": "us-tx",
          "start": "2025-03-03T09:00:00-06:00",
          "steps": [{"complete": "approve_screening", "with": {}}]},
         "task 'approve_screening' is not waiting; waiting are ['record_report']"),
        ({"title": "x", "process": "intake", "profile": "us-tx", "start": "2025-03-03T09:00:00",
          "steps": [{"expect_tasks": []}]}, "needs its offset"),
        ({"title": "x", "process": "services", "profile": "us-tx",
          "start": "2025-03-03T09:00:00-06:00", "start_message": {"name": "removal_requested"},
          "steps": [{"expect_tasks": []}]}, "services does not start on 'removal_requested'"),
        ({"title": "x", "process": "intake", "profile": "us-tx",
          "start": "2025-03-03T09:00:00-06:00",
          "steps": [{"expect_absent": ["record_report"]}]},
         "expected ['record_report'] not to be waiting"),
        ({"title": "x", "process": "intake", "profile": "us-tx",
          "start": "2025-03-03T09:00:00-06:00",
          "steps": [{"expect_waiting": ["first_contact"]}]},
         "expected ['first_contact'] among the waiting tasks; waiting are ['record_report']"),
    ],
    ids=["not JSON", "an unknown step", "no such process", "a task not waiting", "no offset",
         "a message its process does not start on", "a task that should be gone",
         "a task that should wait"],
)  # fmt: skip
def test_a_scenario_that_is_not_one_is_a_problem_of_its_file(content: Any, said: str) -> None:
    [problem] = validate(with_scenario("scenarios/odd.json", content))

    assert problem.file == "scenarios/odd.json"
    assert said in problem.message
