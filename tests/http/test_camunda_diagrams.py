"""A process drawn in Camunda Modeler, with its decision table, deployed beside the agency's
own: candidate groups put its tasks in the right queues, ``formData`` gives them forms, a bare
``PT24H`` boundary timer escalates, ``${approved}`` and ``${!approved}`` route the answer, and
FEEL string lists, ``not(...)`` and a range decide in the table. Started through the API on a
case, by a role of its lanes; the same diagram with a JavaScript script is refused with a
sentence a designer can act on."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import FIXTURES, ROOT
from engine.deadlines.timers import fire_due_timers
from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.simulate import DryRun, simulate
from http_support import Agency, screened_by_api

CAMUNDA = FIXTURES / "camunda"
START = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def agency_bundle_with_camunda(*, script: str | None = None) -> bytes:
    """The agency's own files and the Camunda-drawn ones, zipped as a designer uploads them."""
    files = dict(read_bundle([ROOT / "bpmn"]).files)
    for path in sorted(CAMUNDA.iterdir()):
        files[path.name] = path.read_bytes()
    if script is not None:
        files["home_safety_check.bpmn"] = with_script_task(files["home_safety_check.bpmn"], script)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()


def with_script_task(diagram: bytes, script_format: str) -> bytes:
    """A script task between the decision and the approval, in another language."""
    return diagram.replace(
        b'<bpmn:sequenceFlow id="Flow_to_approval" sourceRef="decide_urgency" '
        b'targetRef="approve_check" />',
        b'<bpmn:sequenceFlow id="Flow_to_approval" sourceRef="decide_urgency" '
        b'targetRef="log_urgency" />'
        b'<bpmn:scriptTask id="log_urgency" name="Log the urgency" scriptFormat="'
        + script_format.encode()
        + b'"><bpmn:incoming>Flow_to_approval</bpmn:incoming>'
        b"<bpmn:outgoing>Flow_logged</bpmn:outgoing>"
        b"<bpmn:script>execution.setVariable('logged', true);</bpmn:script></bpmn:scriptTask>"
        b'<bpmn:sequenceFlow id="Flow_logged" sourceRef="log_urgency" targetRef="approve_check" />',
    ).replace(
        b"<bpmn:incoming>Flow_to_approval</bpmn:incoming>\n      <bpmn:outgoing>Flow_to_answer",
        b"<bpmn:incoming>Flow_logged</bpmn:incoming>\n      <bpmn:outgoing>Flow_to_answer",
    )


def deploy(agency: Agency, content: bytes) -> Any:
    return agency.post("dana", "/api/v1/definitions", data=content, content_type="application/zip")


def tasks_of(agency: Agency, case_id: str) -> dict[str, dict[str, Any]]:
    listed = agency.get("sue", f"/api/v1/cases/{case_id}/tasks").json
    return {t["element_id"]: t for t in listed if t["process_id"] == "home_safety_check"
            and t["status"] == "ready"}  # fmt: skip


def complete(agency: Agency, user: str, task: dict[str, Any], data: dict[str, Any]) -> Any:
    return agency.post(user, f"/api/v1/tasks/{task['id']}/complete", data)


def test_a_camunda_diagram_runs_a_case_through_the_api_with_its_tasks_in_the_right_queues(
    agency: Agency,
) -> None:
    deployed = deploy(agency, agency_bundle_with_camunda())
    assert deployed.status_code == 201, deployed.json
    case_id, contact = screened_by_api(agency)
    investigator = contact["assignee"]  # the case's investigator, who may read it
    assert investigator in ("ivy", "ian"), contact

    # Started by hand on the case: an investigator (its first lane's role) may; an attorney may not.
    path = "/api/v1/processes/home_safety_check/instances"
    assert agency.post("amy", path, {"case_id": case_id}).status_code in (403, 404)
    refused = agency.post(investigator, path, {"case_id": case_id, "data": {"case_id": "x"}})
    assert refused.status_code == 400, refused.json  # the case gives its own id
    started = agency.post(investigator, path, {"case_id": case_id})
    assert started.status_code == 201, started.json

    # Candidate group "investigator": the investigators' task, with the formData form.
    triage = tasks_of(agency, case_id)["triage_referral"]
    assert triage["role"] == "investigator"
    bad = complete(agency, investigator, triage, {"allegation_type": "BURGLARY", "child_age": 3})
    assert bad.status_code == 422
    answer = {"allegation_type": "NEGLECT", "child_age": 3}
    assert complete(agency, investigator, triage, answer).status_code == 200

    # The FEEL table decided (neglect, a child of three: rule 2's range); the supervisors'
    # queue has the approval, due back within the bare PT24H.
    approval = tasks_of(agency, case_id)["approve_check"]
    assert approval["role"] == "supervisor"
    detail = agency.get("sue", f"/api/v1/tasks/{approval['id']}").json
    assert detail["context"]["urgency"] == "URGENT"
    # ${!approved}: sent back to the investigator; abuse is urgent whatever the age (rule 1).
    assert complete(agency, "sue", approval, {"approved": False}).status_code == 200
    again = tasks_of(agency, case_id)["triage_referral"]
    complete(agency, investigator, again, {"allegation_type": "PHAB", "child_age": 12})
    approval = tasks_of(agency, case_id)["approve_check"]
    assert (
        agency.get("sue", f"/api/v1/tasks/{approval['id']}").json["context"]["urgency"] == "URGENT"
    )

    # No answer within 24 hours: the boundary timer gives the decision to a program director.
    agency.ctx.clock.move_to(agency.ctx.clock.now() + timedelta(hours=24, seconds=1))  # type: ignore[attr-defined]
    assert fire_due_timers(agency.ctx, worker="test").errors == []
    remaining = tasks_of(agency, case_id)
    assert list(remaining) == ["decide_overdue_check"]
    assert remaining["decide_overdue_check"]["role"] == "program_director"
    assert complete(agency, "pat", remaining["decide_overdue_check"], {}).status_code == 200
    assert tasks_of(agency, case_id) == {}


def test_the_approved_path_and_a_routine_referral_in_a_dry_run() -> None:
    files = {**read_bundle([ROOT / "bpmn"]).files}
    files |= {p.name: p.read_bytes() for p in CAMUNDA.iterdir()}
    answers = {
        "triage_referral": {"allegation_type": "NEGLECT", "child_age": 9},
        "approve_check": {"approved": True},
    }

    report = simulate(
        Bundle(files), DryRun("home_safety_check", answers, START, profile_id="us-tx")
    )

    assert report.completed, report.stopped
    said = [line.text for line in report.steps]
    assert "triage_referral 'Triage the referral' [investigator] completed" in said
    assert "approve_check 'Approve the safety check' [supervisor] completed" in said


def test_the_same_diagram_with_a_javascript_script_is_refused_with_what_to_do(
    agency: Agency,
) -> None:
    refused = deploy(agency, agency_bundle_with_camunda(script="javascript"))

    assert refused.status_code == 422
    [problem] = [p for p in refused.json["problems"] if p["element_id"] == "log_urgency"]
    assert problem["file"] == "home_safety_check.bpmn"
    assert problem["message"] == (
        "a javascript script: casework runs scripts in Python only, in a sandbox; rewrite it "
        "in Python (for example: total = amount * 2)"
    )


def test_validate_shows_the_designer_what_runs_instead(agency: Agency) -> None:
    checked = agency.client.post(
        "/api/v1/definitions/validate",
        data={"files": [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(CAMUNDA.iterdir())]},
        headers=agency.headers("dana"),
        content_type="multipart/form-data",
    )

    assert checked.status_code == 200 and checked.json["valid"], checked.json
    runs = {(t["element_id"], t["written"]): t["runs"] for t in checked.json["translations"]}
    assert runs[("Flow_approved", "${approved}")] == "approved"
    assert runs[("Flow_sent_back", "${!approved}")] == "not approved"
    assert runs[("approval_overdue", "PT24H")] == '"PT24H"'
    assert runs[("Rule_abuse_type", '"PHAB","SXAB"')] == '? in ("PHAB", "SXAB")'
    assert runs[("Rule_young_age", "[0..5]")] == "0 <= ? <= 5"
    assert runs[("triage_referral", "candidateGroups investigator")] == "lane investigator"
