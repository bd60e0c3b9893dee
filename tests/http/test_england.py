"""England, a second jurisdiction made of files only (bpmn/profiles/england.json, its diagram,
forms and scenario), beside Texas in one deployment: DOMAIN scenario 12 through the API on the
injected clock, a missed date alerting the team manager, and a change to an England period
that moves England's new cases only."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.deadlines.timers import fire_due_timers
from engine.definitions.bundle import read_bundle
from engine.identity.users import NewUser, create_team, create_user, issue_token
from http_support import SETUP, Agency, hotline_report

ROOT = Path(__file__).resolve().parents[2]
# The England team: the front door files referrals; its roles as England names them.
ENGLAND = [
    ("fay", ["intake_screener"]),
    ("tom", ["supervisor"]),  # the team manager
    ("sally", ["ongoing_caseworker"]),  # the social worker
    ("chris", ["independent_reviewer"]),  # the conference chair
]


def england_team(agency: Agency) -> None:
    create_team(agency.ctx, SETUP, "westminster", "Westminster", "region-uk")
    for user, roles in ENGLAND:
        create_user(agency.ctx, SETUP, NewUser(user, user.title(), roles, "westminster"))
        agency.tokens[user] = issue_token(agency.ctx, SETUP, user)


def referral(**extra: Any) -> dict[str, Any]:
    return {
        "team": "westminster",
        "profile_id": "england",
        "summary": "nursery worried: often hungry, bruise on the arm",
        "reporter": {"name": "Nora Nursery", "relationship": "nursery manager"},
        "children": [{"name": "Amira", "birth_date": "2021-09-14"}],
        "caregivers": [{"name": "Hana"}],
        "alleged_perpetrators": [{"name": "Dev", "relationship": "mother's partner"}],
        "allegations": [{"victim": 0, "perpetrator": 0, "type": "NEGLECT"}],
        **extra,
    }


def at(agency: Agency, text: str) -> None:
    agency.ctx.clock.move_to(datetime.fromisoformat(text))  # type: ignore[attr-defined]


def ready(agency: Agency, user: str, case_id: str) -> dict[str, dict[str, Any]]:
    listed = agency.get(user, f"/api/v1/cases/{case_id}/tasks").json
    return {t["element_id"]: t for t in listed if t["status"] == "ready"}


def complete(agency: Agency, user: str, task: dict[str, Any], data: dict[str, Any]) -> None:
    done = agency.post(user, f"/api/v1/tasks/{task['id']}/complete", data)
    assert done.status_code == 200, done.json


def file_referral(agency: Agency, when: str) -> str:
    at(agency, when)
    filed = agency.post("fay", "/api/v1/intakes", referral())
    assert filed.status_code == 201, filed.json
    return str(filed.json["id"])


def test_the_section_47_chain_runs_on_englands_working_days(agency: Agency) -> None:
    england_team(agency)
    case_id = file_referral(agency, "2025-03-03T09:00:00+00:00")
    case = agency.get("tom", f"/api/v1/cases/{case_id}").json
    assert case["profile_id"] == "england"

    # The decision within one working day of the referral, by the social worker.
    tasks = ready(agency, "tom", case_id)
    decide = tasks["decide_on_referral"]
    assert decide["role"] == "ongoing_caseworker"
    assert decide["due_at"] == "2025-03-04T23:59:59+00:00"
    assert decide["assignee"] == "sally"  # the team's one social worker takes it
    complete(agency, "sally", decide, {
        "decision": "SECTION_47", "decision_reasons": "bruise and hunger: reasonable cause",
        "consent_sought": False, "consent_not_sought_because": "it would place her at risk",
    })  # fmt: skip
    complete(agency, "sally", ready(agency, "sally", case_id)["strategy_discussion"], {
        "strategy_held_on": "2025-03-03", "police_took_part": True, "health_took_part": True,
        "section_47_started": True, "discussion_notes": "joint visit tomorrow",
    })  # fmt: skip

    # The assessment: 45 working days from the referral, past 04-18, 04-21 and 05-05.
    enquiry = ready(agency, "sally", case_id)["section_47_enquiry"]
    assert enquiry["due_at"] == "2025-05-08T22:59:59+00:00"  # 23:59:59 BST
    at(agency, "2025-03-14T16:00:00+00:00")
    complete(agency, "sally", enquiry, {
        "assessment_completed_on": "2025-03-14", "child_seen_alone": True,
        "significant_harm_likely": True, "services_required": True,
        "findings": "continuing risk of significant harm",
    })  # fmt: skip

    # The initial conference within 15 working days of the strategy discussion: the chair's.
    conference = ready(agency, "chris", case_id)["hold_initial_conference"]
    assert conference["role"] == "independent_reviewer"
    assert conference["due_at"] == "2025-03-24T23:59:59+00:00"
    at(agency, "2025-03-24T14:00:00+00:00")
    complete(agency, "chris", conference, {
        "conference_held_on": "2025-03-24", "plan_required": True, "category": "NEGLECT",
        "conference_reasons": "continuing risk of significant harm",
    })  # fmt: skip

    # Core group within 10 working days; first review within 3 months.
    tasks = ready(agency, "tom", case_id)
    assert tasks["first_core_group"]["due_at"] == "2025-04-07T22:59:59+00:00"
    assert tasks["review_conference"]["due_at"] == "2025-06-24T22:59:59+00:00"
    at(agency, "2025-06-24T11:00:00+00:00")
    complete(agency, "chris", tasks["review_conference"], {
        "review_held_on": "2025-06-24", "plan_continues": True, "category": "NEGLECT",
        "review_reasons": "progress, not yet safe",
    })  # fmt: skip
    # Held on 06-24: the next within 6 months.
    assert ready(agency, "chris", case_id)["review_conference"]["due_at"] == (
        "2025-12-24T23:59:59+00:00"
    )
    # England's own report template: the social work evidence for the court, from the record.
    report = agency.get("tom", f"/api/v1/cases/{case_id}/court-report?format=html")
    evidence = report.get_data(as_text=True)
    assert "Social work evidence" in evidence and "joint visit tomorrow" in evidence
    assert "Initial child protection conference" in evidence and "24 Mar 2025" in evidence
    # The case file shows the statutory clocks in England's words.
    titles = {d["title"] for d in agency.get("tom", f"/api/v1/cases/{case_id}").json["deadlines"]}
    assert {"Decision on the referral", "Initial child protection conference"} <= titles


def test_a_missed_decision_alerts_the_team_manager_after_the_bank_holidays(
    agency: Agency,
) -> None:
    england_team(agency)
    # Thursday before Easter: Good Friday and Easter Monday are not working days in England.
    case_id = file_referral(agency, "2025-04-17T10:00:00+01:00")
    decide = ready(agency, "tom", case_id)["decide_on_referral"]
    assert decide["due_at"] == "2025-04-22T22:59:59+00:00"
    at(agency, "2025-04-23T08:00:00+01:00")
    fire_due_timers(agency.ctx, worker="test")
    alerts = agency.get("tom", "/api/v1/alerts?open=true").json["items"]
    mine = [a for a in alerts if a["case_id"] == case_id]
    assert [a["deadline_id"] for a in mine] == ["U01"], mine
    assert mine[0]["kind"] == "overdue"


def test_texas_and_england_run_side_by_side(agency: Agency) -> None:
    england_team(agency)
    at(agency, "2025-03-03T15:00:00+00:00")
    texas = agency.post("sam", "/api/v1/intakes", hotline_report()).json["id"]
    england = file_referral(agency, "2025-03-03T15:00:00+00:00")
    assert agency.get("sue", f"/api/v1/cases/{texas}").json["profile_id"] == "us-tx"
    assert set(ready(agency, "sue", texas)) == {"record_report"}
    assert set(ready(agency, "tom", england)) == {"decide_on_referral"}
    # Each team's workers see their own work only (intake staff read any report in intake).
    assert agency.get("sally", f"/api/v1/cases/{texas}").status_code == 404
    assert agency.get("tom", f"/api/v1/cases/{texas}").status_code == 404
    assert agency.get("ivy", f"/api/v1/cases/{england}").status_code == 404
    # A report names its jurisdiction; without one it is the default (us-tx says it is).
    unnamed = agency.post("sam", "/api/v1/intakes", hotline_report()).json["id"]
    assert agency.get("sue", f"/api/v1/cases/{unnamed}").json["profile_id"] == "us-tx"
    refused = agency.post("fay", "/api/v1/intakes", referral(profile_id="scotland"))
    assert refused.status_code in (400, 422), refused.json
    # An allegation type is the report's jurisdiction's: Texas's PHAB is no England category.
    texan = referral(allegations=[{"victim": 0, "type": "PHAB"}])
    refused = agency.post("fay", "/api/v1/intakes", texan)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json["errors"]] == ["/allegations/0/type"]


def test_an_england_period_changed_moves_englands_new_cases_only(agency: Agency) -> None:
    england_team(agency)
    at(agency, "2025-03-03T09:00:00+00:00")
    texas_before = instance_version(agency, "sue", texas_report(agency))
    england_before = instance_version(agency, "tom", file_referral(agency, "2025-03-03T09:00:00Z"))

    # The designer makes the decision two working days: one England file changes.
    files = dict(read_bundle([ROOT / "bpmn"]).files)
    profile = json.loads(files["profiles/england.json"])
    profile["periods"]["U01"]["duration"] = "P2D"
    files["profiles/england.json"] = json.dumps(profile).encode()
    # Its scenario said the decision was due the next working day: the designer updates it.
    scenario_path = "scenarios/england_section_47_chain.json"
    scenario = json.loads(files[scenario_path])
    scenario["steps"][0]["expect_due"]["decide_on_referral"] = "2025-03-05T23:59:59+00:00"
    files[scenario_path] = json.dumps(scenario).encode()
    deployed = deploy(agency, files)
    assert deployed.status_code == 201, deployed.json

    texas_after = instance_version(agency, "sue", texas_report(agency))
    england_case = file_referral(agency, "2025-03-03T09:00:00+00:00")
    assert texas_after == texas_before  # Texas's new cases stay where they were
    england_after = instance_version(agency, "tom", england_case)
    assert england_after == deployed.json["version"] != england_before
    assert ready(agency, "tom", england_case)["decide_on_referral"]["due_at"] == (
        "2025-03-05T23:59:59+00:00"
    )


def test_a_profile_without_a_period_its_diagram_reads_is_refused(agency: Agency) -> None:
    files = dict(read_bundle([ROOT / "bpmn"]).files)
    profile = json.loads(files["profiles/england.json"])
    del profile["periods"]["U03"]
    files["profiles/england.json"] = json.dumps(profile).encode()
    refused = deploy(agency, files)
    assert refused.status_code == 422, refused.json
    said = [p["message"] for p in refused.json["problems"]]
    assert any(
        "'U03'" in m and "england_safeguarding.bpmn" in m and "enquiry_clocks" in m for m in said
    ), said


def test_an_england_case_starts_nothing_of_texas_once_england_is_withdrawn(
    agency: Agency,
) -> None:
    england_team(agency)
    england_case = file_referral(agency, "2025-03-03T09:00:00+00:00")
    # A version without England's files: England's processes start no more.
    bundle = read_bundle([ROOT / "bpmn"]).files
    england_ids = {
        element
        for path, content in bundle.items()
        if path.startswith("england")
        for element in re.findall(r'id="([^"]+)"', content.decode())
    }
    files = {
        path: content
        for path, content in bundle.items()
        if "england" not in path
        and path.removeprefix("forms/").removesuffix(".schema.json") not in england_ids
    }
    assert deploy(agency, files).status_code == 201
    decide = ready(agency, "sally", england_case)["decide_on_referral"]
    done = agency.post("sally", f"/api/v1/tasks/{decide['id']}/complete", {
        "decision": "SECTION_47", "decision_reasons": "harm", "consent_sought": True,
    })  # fmt: skip
    # The referral, running on its own version, ends; what it starts is England's, and no
    # live version runs England: nothing of Texas's starts in its place, nothing changes.
    assert done.status_code in (404, 409), done.json
    assert set(ready(agency, "sally", england_case)) == {"decide_on_referral"}


def test_no_python_names_a_jurisdiction() -> None:
    """Adding England took files in bpmn/ and generic mechanism only: no code names one."""
    named = re.compile(r"england|wales|us-tx|texas|\btx\b|dfps", re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("engine", "workflows", "webhooks")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if named.search(line)
    ]
    assert found == []


def instance_version(agency: Agency, reader: str, case_id: str) -> int:
    """The version the case's first process runs on (read by its team's supervisor)."""
    [process] = agency.get(reader, f"/api/v1/cases/{case_id}").json["processes"]
    return int(process["version_id"])


def texas_report(agency: Agency) -> str:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    assert filed.status_code == 201, filed.json
    return str(filed.json["id"])


def deploy(agency: Agency, files: dict[str, bytes]) -> Any:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return agency.post(
        "dana", "/api/v1/definitions", data=buffer.getvalue(), content_type="application/zip"
    )
