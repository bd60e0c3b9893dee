"""Validation's own dry run: every process a person starts is walked with answers made up from
its forms, so what cannot run at all (a branch only a "no" takes, a timer armed after a task, a
decision reading what no case holds) fails validation, naming the element, not a caseworker's
request. What the walks reach is reported; answers a task's own script turns away are not the
diagram's fault."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.sample_answers import sample_answer
from engine.definitions.versions import check, validate
from engine.definitions.walkthrough import CHOICES
from engine.tasks.form_schemas import field_errors, with_choices
from tests.unit.test_hostile_definitions import bpmn

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)

APPROVAL_FORM = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean", "title": "Approve"},
        "notes": {"type": "string", "maxLength": 200},
    },
    "required": ["approved"],
    "additionalProperties": False,
}


def approval(yes_script: str, no_script: str, *, timer: str | None = None) -> bytes:
    """start -> approve (a person's yes or no) -> yes: a script / no: another script -> end;
    with ``timer``, a boundary timer on the approval that closes the process."""
    boundary = (
        f"""
<bpmn:boundaryEvent id="late" attachedToRef="approve" cancelActivity="true">
  <bpmn:outgoing>f_late</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:timeDuration>{timer}</bpmn:timeDuration>
  </bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:endEvent id="end_late"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="end_late"/>"""
        if timer
        else ""
    )
    return bpmn(
        f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="approve" name="Approve"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>{boundary}
<bpmn:exclusiveGateway id="answer" default="f_no"><bpmn:incoming>f2</bpmn:incoming>
  <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:scriptTask id="when_yes"><bpmn:incoming>f_yes</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
  <bpmn:script>{yes_script}</bpmn:script></bpmn:scriptTask>
<bpmn:scriptTask id="when_no"><bpmn:incoming>f_no</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
  <bpmn:script>{no_script}</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
</bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
<bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="answer"/>
<bpmn:sequenceFlow id="f_yes" sourceRef="answer" targetRef="when_yes">
  <bpmn:conditionExpression>approved == True</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_no" sourceRef="answer" targetRef="when_no"/>
<bpmn:sequenceFlow id="f3" sourceRef="when_yes" targetRef="end"/>
<bpmn:sequenceFlow id="f4" sourceRef="when_no" targetRef="end"/>
""",
        process_id="approval",
    )


def bundle(diagram: bytes, form: dict | None = APPROVAL_FORM) -> Bundle:
    files = {"approval.bpmn": diagram}
    if form is not None:
        files["forms/approve.schema.json"] = json.dumps(form).encode()
    return Bundle(files)


def test_both_answers_of_an_approval_are_walked_and_a_broken_no_branch_is_found() -> None:
    problems = validate(bundle(approval("outcome = 'yes'", "outcome = 1 / 0")))

    assert [(p.file, p.element_id) for p in problems] == [("approval.bpmn", "when_no")]
    assert "dry run of 'approval'" in problems[0].message
    assert "ZeroDivisionError" in problems[0].message


def test_a_broken_yes_branch_is_found_as_well() -> None:
    problems = validate(bundle(approval("outcome = missing_name", "outcome = 'no'")))

    [problem] = problems
    assert problem.element_id == "when_yes"
    # Said so a designer can act on it: the name, and where it could come from.
    assert "reads 'missing_name', which nothing on the way there set" in problem.message
    assert "form a field 'missing_name'" in problem.message


def test_a_timer_armed_only_once_a_task_waits_is_run_and_a_bad_one_refused() -> None:
    good = check(bundle(approval("a = 1", "b = 2", timer='"P3D"')))
    bad = validate(bundle(approval("a = 1", "b = 2", timer="no_such_period")))

    assert good.problems == []
    assert good.reach is not None and good.reach.timers_reached == good.reach.timers == 1
    [problem] = bad
    assert problem.element_id == "late"
    assert "no_such_period" in problem.message


def test_an_answer_the_task_s_own_script_refuses_is_not_the_diagram_s_fault() -> None:
    # A post-script turning an answer away is what a person would be told; the walk moves on.
    diagram = approval("a = 1", "b = 2").replace(
        b'<bpmn:userTask id="approve" name="Approve">',
        b'<bpmn:userTask id="approve" name="Approve"><bpmn:extensionElements>'
        b"<spiffworkflow:postScript>if not approved:\n    raise ValueError('say why')"
        b"</spiffworkflow:postScript></bpmn:extensionElements>",
    )

    assert validate(bundle(diagram)) == []


def test_the_shipped_bundle_walks_clean_and_says_how_far_it_reached() -> None:
    checked = check(read_bundle([ROOT / "bpmn"]))

    assert checked.problems == []
    reach = checked.reach
    assert reach is not None
    # The walk is seeded, so these are the same on every run; a drop means the walks reach
    # less of the process than they did.
    assert reach.tasks_reached >= 40, reach
    assert reach.timers_reached >= 12, reach
    unreached = reach.tasks - reach.tasks_reached + reach.timers - reach.timers_reached
    assert unreached == len(reach.not_reached)
    assert "record_report" not in reach.not_reached
    assert reach.in_words().startswith("validation's dry run reached")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "bpmn" / "forms").glob("*.json")), ids=lambda p: p.name
)
def test_made_up_answers_fit_every_shipped_form(path: Path) -> None:
    form = with_choices(json.loads(path.read_text()), CHOICES)

    answers = [sample_answer(form, random.Random(seed), NOW) for seed in range(8)]

    assert all(a is not None and field_errors(form, a) == [] for a in answers), path.name
