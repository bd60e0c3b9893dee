"""Decision tables fail loudly: no matching row, or two rows under UNIQUE, is an error of the
business-rule task; hit policies the engine cannot honour are refused at validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import ManualClock
from engine.deadlines.profiles import DEFAULT_PROFILE
from engine.definitions.bundle import Bundle
from engine.definitions.versions import validate
from engine.errors import ScriptFailed
from engine.spiff.definitions import compile_bundle
from engine.spiff.runtime import Runtime

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="decide" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="rule" name="Decide">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>level</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rule"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rule" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="D" namespace="t">
  <decision id="level" name="Level">
    <decisionTable id="level_table" hitPolicy="{policy}">
      <input id="in_score" label="Score">
        <inputExpression id="in_score_expr" typeRef="number"><text>score</text></inputExpression>
      </input>
      <output id="out_level" label="Level" name="level" typeRef="string"/>
      <rule id="low"><inputEntry id="e1"><text>&lt; 10</text></inputEntry>
        <outputEntry id="o1"><text>"LOW"</text></outputEntry></rule>
      <rule id="mid"><inputEntry id="e2"><text>5 &lt;= ? &lt; 20</text></inputEntry>
        <outputEntry id="o2"><text>"MODERATE"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def run_decision(policy: str, score: int) -> dict:
    bundle = Bundle(
        {"decide.bpmn": PROCESS.encode(), "level.dmn": TABLE.format(policy=policy).encode()}
    )
    compiled = compile_bundle(bundle)
    runtime = Runtime(ManualClock(datetime(2025, 3, 3, tzinfo=UTC)))
    workflow = runtime.start(compiled.processes["decide"], DEFAULT_PROFILE, {"score": score})
    assert runtime.snapshot(workflow).completed
    return dict(workflow.data)


def test_first_takes_the_first_matching_row() -> None:
    assert run_decision("FIRST", 7)["level"] == "LOW"
    assert run_decision("FIRST", 15)["level"] == "MODERATE"


def test_unique_with_two_matching_rows_is_an_error() -> None:
    assert run_decision("UNIQUE", 2)["level"] == "LOW"

    with pytest.raises(ScriptFailed, match="UNIQUE but rows 1, 2 all match") as failed:
        run_decision("UNIQUE", 7)

    assert failed.value.element_id == "rule"


def test_collect_gathers_every_match() -> None:
    assert run_decision("COLLECT", 7)["level"] == ["LOW", "MODERATE"]


def test_an_input_matching_no_row_is_an_error_not_a_silent_pass() -> None:
    with pytest.raises(ScriptFailed, match=r"no rule of decision table 'level_table' matches"):
        run_decision("FIRST", 50)


@pytest.mark.parametrize("policy", ["ANY", "PRIORITY", "RULE ORDER", "OUTPUT ORDER"])
def test_hit_policies_the_engine_would_treat_as_first_are_refused(policy: str) -> None:
    bundle = Bundle(
        {"decide.bpmn": PROCESS.encode(), "level.dmn": TABLE.format(policy=policy).encode()}
    )

    problems = validate(bundle)

    assert [(p.file, p.element_id) for p in problems] == [("level.dmn", "level_table")]
    assert f"hit policy {policy} is not supported" in problems[0].message
    assert problems[0].line == 4


def test_a_malformed_input_cell_is_found_at_validation() -> None:
    table = TABLE.format(policy="FIRST").replace("&lt; 10", "&lt;&lt;&lt; 10")
    bundle = Bundle({"decide.bpmn": PROCESS.encode(), "level.dmn": table.encode()})

    problems = validate(bundle)

    assert [(p.file, p.element_id, p.line) for p in problems] == [("level.dmn", "e1", 9)]
    assert "rule 1 input cell" in problems[0].message
