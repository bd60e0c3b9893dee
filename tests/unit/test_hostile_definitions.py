"""Hostile diagrams: expressions reaching for the system are rejected at validation, naming file,
element and line; hostile XML yields problems, never an exception; and what validation cannot
know (a script that runs forever or allocates without end) fails harmlessly at run time while the
engine keeps serving other processes."""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from engine.clock import ManualClock
from engine.deadlines.profiles import DEFAULT_PROFILE
from engine.definitions.bundle import Bundle
from engine.definitions.simulate import DryRun, simulate
from engine.definitions.versions import validate
from engine.errors import EngineError, InvalidDefinition, Problem, ScriptFailed
from engine.spiff.definitions import ProcessDefinition, compile_bundle
from engine.spiff.runtime import Runtime

# The watchdog's interruption can land inside a garbage-collector callback running in the
# interrupted thread; Python then reports it as "ignored" and the watchdog simply raises it
# again (every half second) until the run stops. That report is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 3, 3, 15, 15, tzinfo=UTC)
CPU_SECONDS = 0.3
SLACK = 8.0  # CPU seconds beyond the budget a stop may take: the watchdog polls every 20 ms,
# one bytecode (resizing a dict of millions of entries) cannot be interrupted, and freeing
# what a runaway allocated is counted too: 5.2 s was measured with the two cores shared by a
# second test run

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


# -- building diagrams ------------------------------------------------------------------------


def bpmn(body: str, *, process_id: str = "hostile", messages: str = "") -> bytes:
    # Every user task is someone's: in a supervisor's lane, on the process's own line (so
    # that the lines the tests point at stay where they are written).
    lanes = lane_set(re.findall(r'<bpmn:userTask id="([^"]+)"', body), process_id)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:spiffworkflow="{SPIFF_NS}"\n'
        f'    id="defs_{process_id}" targetNamespace="http://casework.example/test">\n'
        f"{messages}\n"
        f'<bpmn:process id="{process_id}" isExecutable="true">{lanes}\n'
        f"{body}\n"
        "</bpmn:process>\n"
        "</bpmn:definitions>\n"
    ).encode()


def lane_set(user_tasks: list[str], process_id: str) -> str:
    if not user_tasks:
        return ""
    refs = "".join(f"<bpmn:flowNodeRef>{task}</bpmn:flowNodeRef>" for task in user_tasks)
    return (
        f'<bpmn:laneSet id="{process_id}_lanes"><bpmn:lane id="{process_id}_supervisor" '
        f'name="supervisor">{refs}</bpmn:lane></bpmn:laneSet>'
    )


def through(element: str, element_id: str) -> str:
    """start -> element -> end; ``element`` must take incoming f1 and outgoing f2."""
    return f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
{element}
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{element_id}"/>
<bpmn:sequenceFlow id="f2" sourceRef="{element_id}" targetRef="end"/>
"""


def script_task(source: str, task_id: str = "evil") -> str:
    return (
        f'<bpmn:scriptTask id="{task_id}">\n'
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
        f"<bpmn:script>{escape(source)}</bpmn:script>\n"
        "</bpmn:scriptTask>"
    )


def script_process(source: str, *, process_id: str = "hostile", task_id: str = "evil") -> bytes:
    return bpmn(through(script_task(source, task_id), task_id), process_id=process_id)


def line_of(content: bytes, element_id: str) -> int:
    before, found, _ = content.partition(f'id="{element_id}"'.encode())
    assert found, element_id
    return before.count(b"\n") + 1


def dmn(
    *, input_expression: str = "severity", cell: str = '"serious"', output: str = '"P1"'
) -> bytes:
    return textwrap.dedent(
        f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <definitions xmlns="{DMN_NS}" id="d_defs" name="D" namespace="http://casework.example/test">
          <decision id="decide" name="Decide">
            <decisionTable id="table" hitPolicy="FIRST">
              <input id="in1" label="Severity">
                <inputExpression id="in1_expr" typeRef="string">
                  <text>{escape(input_expression)}</text>
                </inputExpression>
              </input>
              <output id="out1" name="priority" typeRef="string"/>
              <rule id="rule1">
                <inputEntry id="cell_in"><text>{escape(cell)}</text></inputEntry>
                <outputEntry id="cell_out"><text>{escape(output)}</text></outputEntry>
              </rule>
            </decisionTable>
          </decision>
        </definitions>
        """
    ).encode()


RULE_TASK = bpmn(
    through(
        '<bpmn:businessRuleTask id="rule_task">\n'
        "<bpmn:extensionElements><spiffworkflow:calledDecisionId>decide"
        "</spiffworkflow:calledDecisionId></bpmn:extensionElements>\n"
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
        "</bpmn:businessRuleTask>",
        "rule_task",
    )
)


def problems_at(problems: list[Problem], file: str, element_ids: set[str]) -> list[Problem]:
    return [p for p in problems if p.file == file and p.element_id in element_ids]


# -- where expressions hide ---------------------------------------------------------------------
# Each placement puts an expression somewhere in a bundle: (files, file, element ids, kind).

Placement = Callable[[str], tuple[dict[str, bytes], str, set[str], str]]


def in_script(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    return {"x.bpmn": script_process(expr)}, "x.bpmn", {"evil"}, "script"


def gateway(condition: str, *, same_target: bool = False) -> bytes:
    """A gateway whose conditional flow f2 and default flow f3 lead to ends (the same one, or
    two)."""
    other = "end" if same_target else "other_end"
    ends = '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
    if same_target:
        ends = ends.replace("</bpmn:incoming>", "</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming>")
    else:
        ends += '<bpmn:endEvent id="other_end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
    return bpmn(
        """<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:exclusiveGateway id="gw" default="f3">
<bpmn:incoming>f1</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:exclusiveGateway>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end">
"""
        f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>\n"
        "</bpmn:sequenceFlow>\n"
        f'<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="{other}"/>\n' + ends
    )


def in_gateway_condition(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    return {"x.bpmn": gateway(expr)}, "x.bpmn", {"gw", "f2"}, "condition"


def timer(kind: str) -> Placement:
    def place(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
        element = (
            '<bpmn:intermediateCatchEvent id="wait">\n'
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
            f'<bpmn:timerEventDefinition id="wait_timer"><bpmn:{kind}>{escape(expr)}'
            f"</bpmn:{kind}></bpmn:timerEventDefinition>\n"
            "</bpmn:intermediateCatchEvent>"
        )
        return {"x.bpmn": bpmn(through(element, "wait"))}, "x.bpmn", {"wait"}, "timer expression"

    place.__name__ = f"in_{kind}"
    return place


def in_boundary_timer(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    body = (
        through(
            '<bpmn:userTask id="review">\n'
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
            "</bpmn:userTask>",
            "review",
        )
        + f"""
<bpmn:boundaryEvent id="deadline" attachedToRef="review" cancelActivity="false">
<bpmn:outgoing>f3</bpmn:outgoing>
<bpmn:timerEventDefinition id="deadline_timer">
<bpmn:timeDuration>{escape(expr)}</bpmn:timeDuration>
</bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:endEvent id="late"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="late"/>
"""
    )
    return {"x.bpmn": bpmn(body)}, "x.bpmn", {"deadline"}, "timer expression"


def multi_instance(inner: str) -> str:
    return (
        '<bpmn:scriptTask id="each">\n'
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
        f'<bpmn:multiInstanceLoopCharacteristics isSequential="false">{inner}'
        "</bpmn:multiInstanceLoopCharacteristics>\n"
        "<bpmn:script>x = 1</bpmn:script>\n"
        "</bpmn:scriptTask>"
    )


def in_cardinality(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    element = multi_instance(f"<bpmn:loopCardinality>{escape(expr)}</bpmn:loopCardinality>")
    return {"x.bpmn": bpmn(through(element, "each"))}, "x.bpmn", {"each"}, "cardinality"


def in_completion_condition(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    element = multi_instance(
        "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
        f"<bpmn:completionCondition>{escape(expr)}</bpmn:completionCondition>"
    )
    return {"x.bpmn": bpmn(through(element, "each"))}, "x.bpmn", {"each"}, "completion condition"


def in_loop_condition(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    element = (
        '<bpmn:scriptTask id="looped">\n'
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
        "<bpmn:standardLoopCharacteristics>"
        f"<bpmn:loopCondition>{escape(expr)}</bpmn:loopCondition>"
        "</bpmn:standardLoopCharacteristics>\n"
        "<bpmn:script>x = 1</bpmn:script>\n"
        "</bpmn:scriptTask>"
    )
    return {"x.bpmn": bpmn(through(element, "looped"))}, "x.bpmn", {"looped"}, "loop condition"


def in_message_payload(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    sender = bpmn(
        """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send"/>
<bpmn:endEvent id="send">
<bpmn:incoming>f1</bpmn:incoming>
<bpmn:messageEventDefinition id="send_def" messageRef="msg"><bpmn:extensionElements>
"""
        f"<spiffworkflow:messagePayload>{escape(expr)}</spiffworkflow:messagePayload>"
        """
</bpmn:extensionElements></bpmn:messageEventDefinition>
</bpmn:endEvent>
""",
        messages='<bpmn:message id="msg" name="hostile_message"/>',
    )
    receiver = bpmn(
        """
<bpmn:startEvent id="receive"><bpmn:outgoing>g1</bpmn:outgoing>
<bpmn:messageEventDefinition id="receive_def" messageRef="msg"/>
</bpmn:startEvent>
<bpmn:endEvent id="received"><bpmn:incoming>g1</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="g1" sourceRef="receive" targetRef="received"/>
""",
        process_id="receiver",
        messages='<bpmn:message id="msg" name="hostile_message"/>',
    )
    files = {"x.bpmn": sender, "receiver.bpmn": receiver}
    return files, "x.bpmn", {"send"}, "payload expression"


def in_conditional_event(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    element = (
        '<bpmn:intermediateCatchEvent id="wait">\n'
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
        '<bpmn:conditionalEventDefinition id="wait_cond">'
        f"<bpmn:condition>{escape(expr)}</bpmn:condition></bpmn:conditionalEventDefinition>\n"
        "</bpmn:intermediateCatchEvent>"
    )
    return {"x.bpmn": bpmn(through(element, "wait"))}, "x.bpmn", {"wait"}, "event condition"


def user_task_script(kind: str) -> Placement:
    def place(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
        element = (
            '<bpmn:userTask id="review">\n'
            f"<bpmn:extensionElements><spiffworkflow:{kind}>{escape(expr)}"
            f"</spiffworkflow:{kind}></bpmn:extensionElements>\n"
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
            "</bpmn:userTask>"
        )
        label = "pre-script" if kind == "preScript" else "post-script"
        return {"x.bpmn": bpmn(through(element, "review"))}, "x.bpmn", {"review"}, label

    place.__name__ = f"in_{kind}"
    return place


def in_embedded_subprocess(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    element = f"""<bpmn:subProcess id="sub">
<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:startEvent id="s_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="inner_evil"><bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>
<bpmn:script>{escape(expr)}</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="s_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="inner_evil"/>
<bpmn:sequenceFlow id="s2" sourceRef="inner_evil" targetRef="s_end"/>
</bpmn:subProcess>"""
    return {"x.bpmn": bpmn(through(element, "sub"))}, "x.bpmn", {"inner_evil"}, "script"


def in_called_process(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    caller = bpmn(
        through(
            '<bpmn:callActivity id="call" calledElement="called">\n'
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
            "</bpmn:callActivity>",
            "call",
        )
    )
    called = script_process(expr, process_id="called", task_id="called_evil")
    files = {"x.bpmn": caller, "called.bpmn": called}
    return files, "called.bpmn", {"called_evil"}, "script"


def in_dmn_input_expression(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    files = {"x.bpmn": RULE_TASK, "d.dmn": dmn(input_expression=expr)}
    return files, "d.dmn", {"in1"}, "input expression"


def in_dmn_input_cell(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    return {"x.bpmn": RULE_TASK, "d.dmn": dmn(cell=expr)}, "d.dmn", {"cell_in"}, "input cell"


def in_dmn_input_cell_placeholder(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    files = {"x.bpmn": RULE_TASK, "d.dmn": dmn(cell=f"? in {expr}")}
    return files, "d.dmn", {"cell_in"}, "input cell"


def in_dmn_output_cell(expr: str) -> tuple[dict[str, bytes], str, set[str], str]:
    return {"x.bpmn": RULE_TASK, "d.dmn": dmn(output=expr)}, "d.dmn", {"cell_out"}, "output cell"


PLACEMENTS: list[Placement] = [
    in_script,
    in_gateway_condition,
    timer("timeDuration"),
    timer("timeDate"),
    timer("timeCycle"),
    in_boundary_timer,
    in_cardinality,
    in_completion_condition,
    in_loop_condition,
    in_message_payload,
    in_conditional_event,
    user_task_script("preScript"),
    user_task_script("postScript"),
    in_embedded_subprocess,
    in_called_process,
    in_dmn_input_expression,
    in_dmn_input_cell,
    in_dmn_input_cell_placeholder,
    in_dmn_output_cell,
]

ATTACKS = {
    "os": "__import__('os').system('touch /tmp/casework-owned')",
    "read-file": "__import__('builtins').open('/etc/passwd').read()",
    "subclasses": "().__class__.__base__.__subclasses__()",
    "frame": "(x for x in []).gi_frame.f_back.f_globals",
    "helper-globals": "now.__globals__['__builtins__']",
    "builtins": "__builtins__['open']('/etc/passwd')",
    "exec": "exec('import os')",
    "format": "'{0.__class__}'.format(1) and f'{1:>{10**9}}'",
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
@pytest.mark.parametrize("place", PLACEMENTS, ids=[p.__name__ for p in PLACEMENTS])
def test_a_hostile_expression_anywhere_is_rejected_naming_file_element_and_line(
    place: Placement, attack: str
) -> None:
    files, file, element_ids, kind = place(attack)

    problems = validate(Bundle(files))

    found = problems_at(problems, file, element_ids)
    assert found, f"no problem at {file} {element_ids}: {problems}"
    for problem in found:
        assert problem.line == line_of(files[file], problem.element_id or ""), problem
        assert kind in problem.message, problem


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "x = ().__class__.__base__.__subclasses__()",
        "g = (x for x in [])\nf = g.gi_frame.f_back",
        "x = now.__globals__['__builtins__']",
        "exec('import os')",
        "class Escape:\n    pass",
        "x = __builtins__",
        "x = 1\ny = 2\nz = y.__class__",
    ],
)
def test_a_hostile_script_is_rejected_with_its_problem_only(source: str) -> None:
    content = script_process(source)

    problems = validate(Bundle({"x.bpmn": content}))

    assert problems
    assert {(p.file, p.element_id, p.line) for p in problems} == {
        ("x.bpmn", "evil", line_of(content, "evil"))
    }
    assert all(p.message.startswith("script: ") for p in problems)


def test_every_hostile_expression_of_a_bundle_is_reported_not_just_the_first() -> None:
    files = {
        "a.bpmn": script_process("x = ().__class__", process_id="a", task_id="a_evil"),
        "b.bpmn": script_process("__import__('os')", process_id="b", task_id="b_evil"),
        "x.bpmn": RULE_TASK,
        "d.dmn": dmn(cell="now.__globals__", output="exec('1')"),
    }

    problems = validate(Bundle(files))

    assert {(p.file, p.element_id) for p in problems} >= {
        ("a.bpmn", "a_evil"),
        ("b.bpmn", "b_evil"),
        ("d.dmn", "cell_in"),
        ("d.dmn", "cell_out"),
    }


def test_a_gateway_condition_problem_names_the_flow_that_carries_it() -> None:
    content = gateway("__import__('os')", same_target=True)

    problems = validate(Bundle({"x.bpmn": content}))

    assert [(p.element_id, p.line) for p in problems] == [("f2", line_of(content, "f2"))]


def test_a_harmless_bundle_has_no_problems() -> None:
    files = {
        "x.bpmn": script_process("x = 2 * 3\ny = [i for i in range(x)]"),
        "d.dmn": dmn(input_expression="case_number", cell="-"),
    }
    files["y.bpmn"] = RULE_TASK.replace(b'"hostile"', b'"rules"').replace(b"defs_hostile", b"y")

    assert validate(Bundle(files)) == []


def test_a_decision_reading_what_no_case_has_fails_validation_s_dry_run() -> None:
    # It compiles; but no case ever holds `severity`, so every case would stop at the table.
    files = {"d.dmn": dmn(), "y.bpmn": RULE_TASK}

    [problem] = validate(Bundle(files))

    assert (problem.file, problem.element_id) == ("y.bpmn", "rule_task")
    assert "dry run of 'hostile'" in problem.message
    assert "severity" in problem.message


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.system('id')",
        "from subprocess import run\nrun(['id'])",
        "secret = open('/etc/passwd').read()",
        "g = getattr(now, '__globals__')",
    ],
)
def test_a_script_reaching_for_the_system_by_name_is_rejected_at_validation(source: str) -> None:
    problems = validate(Bundle({"x.bpmn": script_process(source)}))

    assert problems_at(problems, "x.bpmn", {"evil"})


# -- what validates but could never run ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [("timeDuration", "PT24H"), ("timeDuration", "P3D"), ("timeDate", "2025-03-10T09:00:00Z"),
     ("timeCycle", "R3/PT10M"), ("timeDuration", "P1DT12H")],
)  # fmt: skip
def test_a_bare_iso_timer_value_is_refused_saying_how_to_write_it(kind: str, value: str) -> None:
    files, file, _, _ = timer(kind)(value)

    [problem] = validate(Bundle(files))

    assert (problem.file, problem.element_id) == (file, "wait")
    assert f'write it in quotes ("{value}")' in problem.message
    quoted, _, _, _ = timer(kind)(f'"{value}"')
    assert validate(Bundle(quoted)) == []


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("print(severity)", "print() cannot be called from a process: a script's output goes"),
        ("x = fetch_court_record(case_number)", "fetch_court_record() cannot be called"),
        ("y = [lookup(i) for i in range(3)]", "lookup() cannot be called"),
    ],
)
def test_a_script_calling_what_no_run_can_reach_is_refused(source: str, said: str) -> None:
    [problem] = validate(Bundle({"x.bpmn": script_process(source)}))

    assert (problem.element_id, problem.message.startswith("script: ")) == ("evil", True)
    assert said in problem.message


def test_helpers_builtins_and_the_scripts_own_functions_may_be_called() -> None:
    source = (
        "double = lambda n: n * 2\nx = double(max(1, len([2])))\ny = add_days('2025-03-03', 2)\n"
        "def twice(fn, v):\n    return fn(fn(v))\nz = twice(double, 1)\n"
        "apply = lambda f, *rest: f(*rest)\nw = apply(double, 3)"
    )

    assert validate(Bundle({"x.bpmn": script_process(source)})) == []


MESSAGE_THROWN = """
<bpmn:intermediateThrowEvent id="tell">
<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:messageEventDefinition id="tell_def"{ref}/>
</bpmn:intermediateThrowEvent>"""


@pytest.mark.parametrize(
    ("message", "ref", "element", "said"),
    [
        ('<bpmn:message id="m"/>', ' messageRef="m"', "m", "message 'm' has no name"),
        ("", "", "tell", "a message event names no message"),
    ],
    ids=["a message with no name", "an event with no message"],
)
def test_a_message_that_cannot_be_routed_is_one_problem_never_a_crash(
    message: str, ref: str, element: str, said: str
) -> None:
    content = bpmn(through(MESSAGE_THROWN.format(ref=ref), "tell"), messages=message)

    [problem] = validate(Bundle({"x.bpmn": content}))

    assert (problem.file, problem.element_id) == ("x.bpmn", element)
    assert problem.line == line_of(content, element)
    assert said in problem.message


# -- hostile XML ----------------------------------------------------------------------------------

HARMLESS = script_process("x = 1")
HARMLESS_BODY = HARMLESS.split(b"?>", 1)[1]


def with_doctype(doctype: str, content: bytes = HARMLESS_BODY, script: str = "x = 1") -> bytes:
    body = content.replace(
        b"<bpmn:script>x = 1</bpmn:script>", f"<bpmn:script>{script}</bpmn:script>".encode()
    )
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + doctype.encode() + body


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    + "]>"
)

HOSTILE_XML: dict[str, dict[str, bytes]] = {
    "xxe-file": {
        "x.bpmn": with_doctype(
            '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', script='x = """&xxe;"""'
        )
    },
    "xxe-in-attribute": {
        "x.bpmn": with_doctype('<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace(
            b'id="evil"', b'id="evil" name="&xxe;"'
        )
    },
    "xxe-network": {
        "x.bpmn": with_doctype(
            '<!DOCTYPE d [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>',
            script="x = '&xxe;'",
        )
    },
    "parameter-entity": {
        "x.bpmn": with_doctype('<!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>')
    },
    "external-dtd": {"x.bpmn": with_doctype('<!DOCTYPE d SYSTEM "file:///etc/passwd">')},
    "billion-laughs": {"x.bpmn": with_doctype(BILLION_LAUGHS, script="x = '&lol9;'")},
    "billion-laughs-unused": {"x.bpmn": with_doctype(BILLION_LAUGHS)},
    "xxe-dmn": {
        "x.bpmn": RULE_TASK,
        "d.dmn": b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + dmn(output='"&xxe;"').split(b"?>", 1)[1].replace(b"&amp;xxe;", b"&xxe;"),
    },
    "broken": {"x.bpmn": b"<bpmn:definitions xmlns:bpmn='x'><unclosed>"},
    "truncated": {"x.bpmn": HARMLESS[: len(HARMLESS) // 2]},
    "xhtml": {
        "x.bpmn": b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>hi</p></body></html>'
    },
    "arbitrary-root": {"x.bpmn": b"<root><child/></root>"},
    "bpmn-namespace-wrong-root": {
        "x.bpmn": f'<bpmn:process xmlns:bpmn="{BPMN_NS}" id="p"/>'.encode()
    },
    "empty": {"x.bpmn": b""},
    "whitespace": {"x.bpmn": b"  \n\t\n"},
    "binary": {"x.bpmn": bytes(range(256)) * 4},
    "nul-byte": {"x.bpmn": HARMLESS.replace(b"x = 1", b"x = '\x00'")},
    "unknown-encoding": {"x.bpmn": HARMLESS.replace(b"UTF-8", b"X-NOT-AN-ENCODING")},
    "deep-nesting": {
        "x.bpmn": f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d">'.encode()
        + b"<a>" * 5000
        + b"</a>" * 5000
        + b"</bpmn:definitions>"
    },
    "no-process": {
        "x.bpmn": f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d" targetNamespace="t"/>'.encode()
    },
    "schema-invalid": {
        "x.bpmn": HARMLESS.replace(b"<bpmn:script>", b"<bpmn:nonsense/><bpmn:script>")
    },
    "empty-dmn": {"x.bpmn": RULE_TASK, "d.dmn": b""},
    "xhtml-dmn": {"x.bpmn": RULE_TASK, "d.dmn": b'<html xmlns="http://www.w3.org/1999/xhtml"/>'},
    "bpmn-as-dmn": {"x.bpmn": RULE_TASK, "d.dmn": HARMLESS},
    "dmn-as-bpmn": {"x.bpmn": dmn()},
}


@pytest.mark.parametrize("files", HOSTILE_XML.values(), ids=HOSTILE_XML.keys())
def test_hostile_xml_yields_problems_never_an_exception(files: dict[str, bytes]) -> None:
    problems = validate(Bundle(files))

    assert problems
    assert all(isinstance(p, Problem) for p in problems)
    assert {p.file for p in problems} <= set(files) | {"-"}
    assert not any("root:" in p.message for p in problems)  # nothing of /etc/passwd leaked


ENTITY_BEARING = [
    "xxe-file",
    "xxe-in-attribute",
    "xxe-network",
    "parameter-entity",
    "external-dtd",
    "billion-laughs",
    "billion-laughs-unused",
    "xxe-dmn",
]


@pytest.mark.parametrize("name", ENTITY_BEARING)
def test_a_document_type_declaration_or_entity_is_named_as_the_problem(name: str) -> None:
    files = HOSTILE_XML[name]
    bad = next(path for path, content in files.items() if b"<!DOCTYPE" in content)

    problems = validate(Bundle(files))

    assert any(
        p.file == bad and ("DOCTYPE" in p.message or "entity" in p.message) for p in problems
    ), problems


@pytest.mark.parametrize(
    "files",
    [HOSTILE_XML[k] for k in ("xxe-file", "billion-laughs", "xhtml", "empty", "xhtml-dmn")],
    ids=["xxe-file", "billion-laughs", "xhtml", "empty", "xhtml-dmn"],
)
def test_hostile_xml_is_refused_by_a_dry_run_as_an_invalid_definition(
    files: dict[str, bytes],
) -> None:
    with pytest.raises(InvalidDefinition) as refused:
        simulate(Bundle(files), DryRun("hostile", {}, START))

    assert refused.value.problems


def test_a_doctype_is_reported_on_the_file_that_carries_it() -> None:
    files = {
        "x.bpmn": HOSTILE_XML["xxe-file"]["x.bpmn"],
        "ok.bpmn": script_process("x = 1", process_id="ok"),
    }

    problems = validate(Bundle(files))

    assert [(p.file, p.line) for p in problems] == [("x.bpmn", 1)]
    assert "DOCTYPE" in problems[0].message


def test_an_xinclude_is_never_expanded() -> None:
    content = HARMLESS.replace(
        b"<bpmn:script>x = 1</bpmn:script>",
        b'<bpmn:script><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        b'href="file:///etc/passwd" parse="text"/></bpmn:script>',
    )

    problems = validate(Bundle({"x.bpmn": content}))
    if not problems:
        spec = compile_bundle(Bundle({"x.bpmn": content})).processes["hostile"].spec
        assert "root:" not in str(spec.task_specs["evil"].script or "")
    assert not any("root:" in p.message for p in problems)


# -- at run time -----------------------------------------------------------------------------------


def definition(files: dict[str, bytes] | bytes, process_id: str = "hostile") -> ProcessDefinition:
    """The process without the deployment-time expression checks, so that the run-time sandbox
    is tested on its own (as for definitions reloaded from the database)."""
    bundle = Bundle(files if isinstance(files, dict) else {"x.bpmn": files})
    compiled = compile_bundle(bundle, check_expressions=False)
    found = compiled.process(process_id)
    assert found is not None
    return found


@pytest.fixture
def runtime() -> Runtime:
    return Runtime(ManualClock(START), cpu_seconds=CPU_SECONDS)


NORMAL = bpmn(
    """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="compute">
<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:script>due = add_business_days('2025-03-07', 1)
window = duration(hours=24)
total = sum(x * 2 for x in range(10))</bpmn:script>
</bpmn:scriptTask>
<bpmn:exclusiveGateway id="right" default="to_wrong">
<bpmn:incoming>f2</bpmn:incoming>
<bpmn:outgoing>to_ok</bpmn:outgoing>
<bpmn:outgoing>to_wrong</bpmn:outgoing>
</bpmn:exclusiveGateway>
<bpmn:userTask id="ok">
<bpmn:incoming>to_ok</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:userTask>
<bpmn:userTask id="wrong"><bpmn:incoming>to_wrong</bpmn:incoming></bpmn:userTask>
<bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
<bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="right"/>
<bpmn:sequenceFlow id="to_ok" sourceRef="right" targetRef="ok">
<bpmn:conditionExpression>due == "2025-03-10" and window == "PT24H" and total == 90
</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="to_wrong" sourceRef="right" targetRef="wrong"/>
<bpmn:sequenceFlow id="f3" sourceRef="ok" targetRef="done"/>
""",
    process_id="normal",
)


def assert_still_serves(runtime: Runtime) -> None:
    """A normal process, with scripts, helpers and a gateway, still runs to its end."""
    workflow = runtime.start(definition(NORMAL, "normal"), DEFAULT_PROFILE, {"case": "A-1"})
    ready = runtime.snapshot(workflow).ready_tasks
    assert [t.bpmn_id for t in ready] == ["ok"]
    runtime.complete_task(workflow, ready[0].id, {"checked": True})
    assert runtime.snapshot(workflow).completed


def run_to_failure(
    runtime: Runtime, content: bytes | dict[str, bytes], data: dict | None = None
) -> tuple[ScriptFailed, float]:
    started = time.thread_time()
    with pytest.raises(ScriptFailed) as failed:
        runtime.start(definition(content), DEFAULT_PROFILE, data or {})
    return failed.value, time.thread_time() - started


def test_the_normal_process_runs(runtime: Runtime) -> None:
    assert_still_serves(runtime)


RUNAWAYS = {
    "endless-loop": script_process("while True:\n    x = 1"),
    "counting-loop": script_process("n = 0\nwhile True:\n    n += 1"),
    "allocating-loop": script_process("x = []\nwhile True:\n    x.append('a' * 1000)"),
    "allocating-fresh": script_process(
        "x = []\ni = 0\nwhile True:\n    i += 1\n    x.append(str(i) * 10)"
    ),
    "growing-dict": script_process("d = {}\ni = 0\nwhile True:\n    i += 1\n    d[i] = [i]"),
    "helper-loop": script_process("while True:\n    d = add_business_days('2025-03-03', 5)"),
    "flow-loop": bpmn(
        """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:exclusiveGateway id="join">
<bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>back</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing>
</bpmn:exclusiveGateway>
<bpmn:scriptTask id="spin">
<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
<bpmn:script>n = 1</bpmn:script>
</bpmn:scriptTask>
<bpmn:exclusiveGateway id="again" default="out">
<bpmn:incoming>f3</bpmn:incoming>
<bpmn:outgoing>back</bpmn:outgoing><bpmn:outgoing>out</bpmn:outgoing>
</bpmn:exclusiveGateway>
<bpmn:endEvent id="end"><bpmn:incoming>out</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="join"/>
<bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="spin"/>
<bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="again"/>
<bpmn:sequenceFlow id="back" sourceRef="again" targetRef="join">
<bpmn:conditionExpression>True</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="out" sourceRef="again" targetRef="end"/>
"""
    ),
    "huge-cardinality": bpmn(
        through(multi_instance("<bpmn:loopCardinality>1000000000</bpmn:loopCardinality>"), "each")
    ),
}


@pytest.mark.parametrize("content", RUNAWAYS.values(), ids=RUNAWAYS.keys())
def test_a_runaway_process_is_stopped_promptly_and_the_engine_keeps_serving(
    runtime: Runtime, content: bytes
) -> None:
    # Validation's dry run runs into it, once, and says so; were it deployed all the same (an
    # earlier version's files), the engine still stops it.
    [problem] = validate(Bundle({"x.bpmn": content}))
    assert problem.file == "x.bpmn"
    assert "dry run of 'hostile'" in problem.message
    assert "would stop every case" in problem.message

    failed, used = run_to_failure(runtime, content)

    assert failed.reason in {"timeout", "memory", "depth"}, failed
    assert isinstance(failed, EngineError)
    assert used < CPU_SECONDS + SLACK
    assert_still_serves(runtime)


def test_a_flow_loop_is_refused_before_the_engine_takes_it_for_an_end() -> None:
    # With CPU to spare the loop reaches the engine's depth limit, where it would otherwise
    # see no ready task and report the instance completed.
    generous = Runtime(ManualClock(START), cpu_seconds=60)

    failed, _ = run_to_failure(generous, RUNAWAYS["flow-loop"])

    assert failed.reason == "depth"
    assert "steps deep" in failed.message


def test_a_runaway_script_in_a_dry_run_is_stopped_and_the_next_dry_run_completes() -> None:
    with pytest.raises(ScriptFailed) as failed:
        simulate(
            Bundle({"x.bpmn": script_process("while True:\n    x = 1")}),
            DryRun("hostile", {}, START),
        )

    assert failed.value.reason == "timeout"
    report = simulate(Bundle({"x.bpmn": script_process("x = 1")}), DryRun("hostile", {}, START))
    assert report.completed


RUN_TIME_FAILURES = {
    "open": ("secret = open('/etc/passwd').read()", "open"),
    "import": ("import os\nos.system('id')", "imports are not allowed"),
    "getattr": ("g = getattr(now, '__globals__')", "getattr"),
    "type": ("t = type('Escape', (), {})", "type"),
    "recursion": ("def f(n):\n    return f(n + 1)\nx = f(0)", "Recursion"),
    "size-bomb": ("x = 'a' * 10**10", "1000000"),
    "power-bomb": ("x = 2 ** 10**8", "bits"),
    "printf-star": ("x = '%*d' % (10**9, 1)", "widths"),
    "width-method": ("x = 'a'.ljust(10**10)", "width"),
}


@pytest.mark.parametrize(
    ("source", "why"), RUN_TIME_FAILURES.values(), ids=RUN_TIME_FAILURES.keys()
)
def test_a_script_refused_at_run_time_fails_as_a_script_error_naming_its_element(
    runtime: Runtime, source: str, why: str
) -> None:
    failed, used = run_to_failure(runtime, script_process(source))

    assert failed.element_id == "evil"
    assert why in failed.message
    assert used < CPU_SECONDS + SLACK
    assert_still_serves(runtime)


def test_a_script_that_tries_to_write_a_file_leaves_none(runtime: Runtime, tmp_path: Path) -> None:
    target = tmp_path / "owned.txt"
    for source in (
        f"import os\nos.system('touch {target}')",
        f"f = open('{target}', 'w')",
        f"import pathlib\npathlib.Path('{target}').touch()",
    ):
        run_to_failure(runtime, script_process(source))

    assert not target.exists()


def test_an_unchecked_stored_definition_is_still_refused_at_run_time(
    runtime: Runtime, tmp_path: Path
) -> None:
    # Definitions reloaded from the database skip the expression checks; the sandbox does not.
    target = tmp_path / "owned.txt"
    content = script_process(f"__import__('os').system('touch {target}')")
    unchecked = compile_bundle(Bundle({"x.bpmn": content}), check_expressions=False)
    found = unchecked.process("hostile")
    assert found is not None

    with pytest.raises(ScriptFailed) as failed:
        runtime.start(found, DEFAULT_PROFILE, {})

    assert "__import__" in failed.value.message
    assert not target.exists()
    assert_still_serves(runtime)


def test_a_timer_expression_reading_a_file_fails_at_run_time(runtime: Runtime) -> None:
    content = bpmn(
        through(
            '<bpmn:intermediateCatchEvent id="wait">\n'
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n"
            '<bpmn:timerEventDefinition id="t"><bpmn:timeDuration>open("/etc/passwd").read()'
            "</bpmn:timeDuration></bpmn:timerEventDefinition>\n"
            "</bpmn:intermediateCatchEvent>",
            "wait",
        )
    )

    failed, _ = run_to_failure(runtime, content)

    assert "root:" not in failed.message
    assert_still_serves(runtime)


def test_a_decision_cell_reading_a_file_fails_at_run_time(runtime: Runtime) -> None:
    files = {"x.bpmn": RULE_TASK, "d.dmn": dmn(cell="? in open('/etc/passwd').read()")}

    failed, _ = run_to_failure(runtime, files, {"severity": "root"})

    assert "root:" not in failed.message
    assert_still_serves(runtime)


def test_a_script_refused_by_the_sandbox_at_run_time_fails_with_reason_refused(
    runtime: Runtime,
) -> None:
    failed, _ = run_to_failure(runtime, script_process("x = 'a' * 10**10"))

    assert failed.reason == "refused", failed.reason


def test_a_script_that_could_swallow_the_interruption_is_refused(runtime: Runtime) -> None:
    source = (
        "while True:\n"
        "    try:\n"
        "        while True:\n"
        "            pass\n"
        "    except BaseException:\n"
        "        pass"
    )

    problems = validate(Bundle({"x.bpmn": script_process(source)}))
    failed, used = run_to_failure(runtime, script_process(source))

    assert problems_at(problems, "x.bpmn", {"evil"})
    assert "may only catch named errors" in problems[0].message
    assert (failed.reason, failed.element_id) == ("refused", "evil")
    assert used < SLACK


def test_the_engine_librarys_wording_is_said_in_caseworks() -> None:
    called = bpmn(through('<bpmn:callActivity id="call" calledElement="nowhere">'
                          "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
                          "</bpmn:callActivity>", "call"))  # fmt: skip

    [problem] = validate(Bundle({"x.bpmn": called}))

    assert problem.message == (
        "the call activity calls process 'nowhere', which is not in the bundle "
        "(its processes: hostile)"
    )
