"""Camunda 7, Zeebe and Flowable constructs read in casework's terms, each through validation
of a small diagram: what runs instead is listed, what cannot run is refused naming the element,
and a user task no one can take is a validate error."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine.definitions.bundle import Bundle
from engine.definitions.simulate import DryRun, begin, data_at, ready
from engine.definitions.versions import check, validate
from engine.spiff.definitions import compile_bundle

START = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:flowable="http://flowable.org/bpmn"'
)


def diagram(body: str, *, lanes: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="d" '
        'targetNamespace="http://example.org" exporter="Camunda Modeler">\n'
        f'<bpmn:process id="p" isExecutable="true">{lanes}\n{body}\n</bpmn:process>\n'
        "</bpmn:definitions>\n"
    ).encode()


def task(attributes: str = 'camunda:candidateGroups="investigator"', inner: str = "") -> str:
    return f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="work" name="Do the work" {attributes}>{inner}
  <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>"""


def lanes_of(files: dict[str, bytes]) -> dict[str, str | None]:
    compiled = compile_bundle(Bundle(files))
    spec = compiled.processes["p"].spec
    return {s.bpmn_id: s.lane for s in spec.task_specs.values() if getattr(s, "manual", False)}


def test_a_candidate_group_is_the_lane_of_its_role_and_a_lane_wins() -> None:
    assert lanes_of({"p.bpmn": diagram(task())}) == {"work": "investigator"}
    laned = diagram(
        task('camunda:candidateGroups="supervisor"'),
        lanes='<bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ongoing caseworker">'
        "<bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>",
    )
    # The lane, named as people write it, reads as the role; it wins over the group.
    assert lanes_of({"p.bpmn": laned}) == {"work": "ongoing_caseworker"}


def test_zeebe_and_flowable_name_their_groups_too() -> None:
    zeebe = task(
        "",
        '<bpmn:extensionElements><zeebe:assignmentDefinition candidateGroups="supervisor"/>'
        "</bpmn:extensionElements>",
    )
    assert lanes_of({"p.bpmn": diagram(zeebe)}) == {"work": "supervisor"}
    flowable = task('flowable:candidateGroups="attorney"')
    assert lanes_of({"p.bpmn": diagram(flowable)}) == {"work": "attorney"}


@pytest.mark.parametrize(
    ("attributes", "said"),
    [
        ("", "is in no lane and names no candidate group: no one could take it"),
        ('camunda:candidateGroups="management"', "is for 'management', which is no role"),
    ],
    ids=["nobody", "unknown-group"],
)
def test_a_user_task_no_one_can_take_is_a_validate_error(attributes: str, said: str) -> None:
    [problem] = validate(Bundle({"p.bpmn": diagram(task(attributes))}))

    assert (problem.file, problem.element_id) == ("p.bpmn", "work")
    assert said in problem.message
    assert "investigator" in problem.message  # the roles it could name


def test_form_data_becomes_the_task_s_form() -> None:
    fields = """<bpmn:extensionElements><camunda:formData>
  <camunda:formField id="kind" label="Kind" type="enum">
    <camunda:value id="a" name="A"/><camunda:value id="b" name="B"/>
    <camunda:validation><camunda:constraint name="required"/></camunda:validation>
  </camunda:formField>
  <camunda:formField id="count" type="long" defaultValue="2">
    <camunda:validation><camunda:constraint name="max" config="9"/></camunda:validation>
  </camunda:formField>
  <camunda:formField id="due" type="date"/>
</camunda:formData></bpmn:extensionElements>"""
    compiled = compile_bundle(Bundle({"p.bpmn": diagram(task(inner=fields))}))

    form = compiled.form("work")
    assert form is not None
    assert form["required"] == ["kind"]
    assert form["properties"]["kind"]["oneOf"] == [
        {"const": "a", "title": "A"},
        {"const": "b", "title": "B"},
    ]
    assert form["properties"]["count"] == {
        "title": "count", "type": "integer", "default": 2, "maximum": 9
    }  # fmt: skip
    assert form["properties"]["due"]["format"] == "date"


def test_a_form_key_names_a_form_of_the_bundle_or_is_refused() -> None:
    form = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    keyed = diagram(
        task('camunda:candidateGroups="supervisor" camunda:formKey="forms/ok.schema.json"')
    )
    compiled = compile_bundle(
        Bundle({"p.bpmn": keyed, "forms/ok.schema.json": json.dumps(form).encode()})
    )
    assert compiled.form("work") == form

    html = diagram(
        task('camunda:candidateGroups="supervisor" camunda:formKey="embedded:app:x.html"')
    )
    [problem] = validate(Bundle({"p.bpmn": html}))
    assert problem.element_id == "work"
    assert "formKey 'embedded:app:x.html' names a form casework cannot show" in problem.message


def test_an_implicit_split_runs_both_ways() -> None:
    body = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="prepare"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:outgoing>fa</bpmn:outgoing><bpmn:outgoing>fb</bpmn:outgoing><bpmn:script>x = 1</bpmn:script>
</bpmn:scriptTask>
<bpmn:userTask id="a" camunda:candidateGroups="investigator"><bpmn:incoming>fa</bpmn:incoming>
  <bpmn:outgoing>fa2</bpmn:outgoing></bpmn:userTask>
<bpmn:userTask id="b" camunda:candidateGroups="supervisor"><bpmn:incoming>fb</bpmn:incoming>
  <bpmn:outgoing>fb2</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end_a"><bpmn:incoming>fa2</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="end_b"><bpmn:incoming>fb2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare"/>
<bpmn:sequenceFlow id="fa" sourceRef="prepare" targetRef="a"/>
<bpmn:sequenceFlow id="fb" sourceRef="prepare" targetRef="b"/>
<bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="end_a"/>
<bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="end_b"/>"""
    checked = check(Bundle({"p.bpmn": diagram(body)}))

    assert checked.problems == []
    # Both branches were walked: the split gave each its token.
    assert checked.reach is not None and checked.reach.tasks_reached == 2
    assert any(t.runs == "a parallel split" for t in checked.translations)


def test_a_collection_is_the_multi_instance_input() -> None:
    body = task().replace(
        "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
        "<bpmn:outgoing>f2</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics "
        'camunda:collection="${children}" camunda:elementVariable="child"/></bpmn:userTask>',
    )
    checked = check(Bundle({"p.bpmn": diagram(body)}))

    assert checked.problems == []
    assert any(
        t.runs == "one instance per item of children, each as child" for t in checked.translations
    )


@pytest.mark.parametrize(
    ("script_format", "said"),
    [("javascript", "a javascript script"), ("groovy", "a groovy script")],
)
def test_a_script_in_another_language_is_refused_with_what_to_do(
    script_format: str, said: str
) -> None:
    body = (
        task()
        .replace(
            '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>',
            f'<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="s"/><bpmn:scriptTask id="s" '
            f'scriptFormat="{script_format}"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3'
            "</bpmn:outgoing><bpmn:script>x = 1;</bpmn:script></bpmn:scriptTask>"
            '<bpmn:sequenceFlow id="f3" sourceRef="s" targetRef="end"/>',
        )
        .replace(
            "<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>",
            "<bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>",
        )
    )

    [problem] = validate(Bundle({"p.bpmn": diagram(body)}))

    assert problem.element_id == "s"
    assert problem.message.startswith(f"{said}: casework runs scripts in Python only")


def test_a_juel_condition_outside_the_subset_is_refused_naming_its_flow() -> None:
    body = task().replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end">'
        "<bpmn:conditionExpression>${execution.getVariable('x')}</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>",
    )

    problems = validate(Bundle({"p.bpmn": diagram(body)}))

    assert any(
        p.element_id == "f2" and p.message.startswith("this is JUEL that casework does not run")
        for p in problems
    ), problems


def test_input_and_output_parameters_are_the_task_s_pre_and_post_script() -> None:
    mapping = (
        "<bpmn:extensionElements><camunda:inputOutput>"
        '<camunda:inputParameter name="greeting">hello</camunda:inputParameter>'
        '<camunda:outputParameter name="answered">${true}</camunda:outputParameter>'
        "</camunda:inputOutput></bpmn:extensionElements>"
    )
    bundle = Bundle({"p.bpmn": diagram(task(inner=mapping))})
    checked = check(bundle)
    assert checked.problems == []
    said = {t.written: t.runs for t in checked.translations}
    assert said["camunda:inputOutput (preScript)"] == 'greeting = "hello"'
    assert said["camunda:inputOutput (postScript)"] == "answered = True"

    run = begin(compile_bundle(bundle), DryRun("p", {}, START))
    [work] = ready(run)
    assert data_at(run, work)["greeting"] == "hello"  # set as the task began


def test_a_listener_is_refused_with_where_to_put_the_work() -> None:
    listener = (
        "<bpmn:extensionElements>"
        '<camunda:taskListener class="org.example.Notify" event="create"/>'
        "</bpmn:extensionElements>"
    )
    [problem] = validate(Bundle({"p.bpmn": diagram(task(inner=listener))}))

    assert problem.element_id == "work"
    assert problem.message.startswith("a taskListener (create): casework runs no listeners")
