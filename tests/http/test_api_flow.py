"""What a newcomer does with curl: file a report, find the case in the right investigator's
worklist, complete tasks to a decision, watch a supervisor reassign, be refused the rest."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from conftest import FIXTURES, ROOT
from engine.storage.tables import AuditEvent, Case, DefinitionVersion
from http_support import RECORD_REPORT, Agency, hotline_report


def file_and_screen(agency: Agency) -> tuple[str, str]:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    assert filed.status_code == 201, filed.json
    case_id = filed.json["id"]
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    assert task["element_id"] == "record_report"
    done = agency.post("sam", f"/api/v1/tasks/{task['id']}/complete", RECORD_REPORT)
    assert done.status_code == 200, done.json
    return case_id, task["id"]


def test_a_report_lands_in_an_investigators_worklist_and_moves_to_a_decision(
    agency: Agency,
) -> None:
    case_id, _ = file_and_screen(agency)

    mine = {u: agency.get(u, "/api/v1/tasks?view=mine").json["items"] for u in ("ian", "ivy")}
    # Both investigators are free; the case goes to one of them (the first by name: ian).
    assert [t["element_id"] for t in mine["ian"]] == ["first_contact"]
    assert mine["ivy"] == []
    contact = mine["ian"][0]
    assert contact["due_at"] == "2025-03-04T15:15:00+00:00"
    assert agency.get("ivy", f"/api/v1/cases/{case_id}").status_code == 404

    refused = agency.post("ian", f"/api/v1/tasks/{contact['id']}/complete", {"location": "moon"})
    assert refused.status_code == 422
    assert refused.content_type == "application/problem+json"
    assert {e["field"] for e in refused.json["errors"]} == {"/contact_at", "/location"}

    detail = agency.get("ian", f"/api/v1/tasks/{contact['id']}")
    assert detail.json["form"]["title"] == "First face-to-face contact"
    etag = detail.headers["ETag"]
    ok = agency.post(
        "ian",
        f"/api/v1/tasks/{contact['id']}/complete",
        {"contact_at": "2025-03-03T20:00:00+00:00", "location": "child_residence"},
        headers={"If-Match": etag},
    )
    assert ok.status_code == 200, ok.json
    again = agency.post(
        "ian",
        f"/api/v1/tasks/{contact['id']}/complete",
        {"contact_at": "2025-03-03T20:00:00+00:00", "location": "child_residence"},
    )
    assert again.status_code == 409

    # The supervisor hands the interview to Ivy; the case stays Ian's: a task is not a case.
    [interview] = agency.get("sue", f"/api/v1/tasks?view=team&case_id={case_id}").json["items"][:1]
    assert (
        agency.post(
            "ian", f"/api/v1/tasks/{interview['id']}/assign", {"user_id": "ivy"}
        ).status_code
        == 403
    )
    moved = agency.post("sue", f"/api/v1/tasks/{interview['id']}/assign", {"user_id": "ivy"})
    assert moved.status_code == 200 and moved.json["assignee"] == "ivy"
    assert agency.get("ivy", f"/api/v1/cases/{case_id}").json["assigned_to"] == "ian"
    assert agency.get("zed", f"/api/v1/cases/{case_id}").status_code == 404
    load = {w["user_id"]: w for w in agency.get("sue", "/api/v1/caseload").json["workers"]}
    assert (load["ian"]["open_cases"], load["ivy"]["open_cases"]) == (1, 0)
    assert load["ivy"]["tasks_on_others_cases"] == 1


def test_a_completion_by_the_cases_worker_reads_them_once_with_the_task(agency: Agency) -> None:
    file_and_screen(agency)
    [contact] = agency.get("ian", "/api/v1/tasks?view=mine").json["items"]
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.lstrip())

    event.listen(agency.ctx.db.engine, "before_cursor_execute", seen)
    try:
        done = agency.post(
            "ian",
            f"/api/v1/tasks/{contact['id']}/complete",
            {"contact_at": "2025-03-03T20:00:00+00:00", "location": "child_residence"},
        )
    finally:
        event.remove(agency.ctx.db.engine, "before_cursor_execute", seen)

    assert done.status_code == 200
    # Beside the request's principal (read by token), no read of users: ian, who gets the
    # interview task next, came with the task.
    assert [s for s in statements if s.startswith("SELECT users.") and "api_tokens" not in s] == []


def test_a_stale_version_is_a_conflict(agency: Agency) -> None:
    file_and_screen(agency)
    [task] = agency.get("ian", "/api/v1/tasks?view=mine").json["items"]

    stale = agency.post(
        "ian", f"/api/v1/tasks/{task['id']}/claim", headers={"If-Match": f'"{task["version"] + 5}"'}
    )

    assert stale.status_code == 409
    assert stale.json["code"] == "conflict"


def test_worklist_pages_count_every_task_even_past_the_last_page(agency: Agency) -> None:
    filed = [agency.post("sam", "/api/v1/intakes", hotline_report()).json["id"] for _ in range(3)]

    pages = [
        agency.get("sam", f"/api/v1/tasks?view=queue&per_page=2&page={n}").json for n in (1, 2, 3)
    ]

    assert [len(p["items"]) for p in pages] == [2, 1, 0]
    assert [p["total"] for p in pages] == [3, 3, 3]
    assert {t["case_id"] for p in pages for t in p["items"]} == set(filed)
    empty = agency.get("ivy", "/api/v1/tasks?view=mine").json
    assert (empty["items"], empty["total"]) == ([], 0)


def test_claim_needs_the_lanes_role(agency: Agency) -> None:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={filed.json['id']}").json["items"]

    assert agency.post("sue", f"/api/v1/tasks/{task['id']}/claim").status_code == 403
    claimed = agency.post("sam", f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == "sam"
    assert agency.post("sam", f"/api/v1/tasks/{task['id']}/unclaim").json["assignee"] is None


def test_drafts_and_comments(agency: Agency) -> None:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={filed.json['id']}").json["items"]

    agency.put("sam", f"/api/v1/tasks/{task['id']}/draft", {"narrative": "half written"})
    agency.post("sam", f"/api/v1/tasks/{task['id']}/comments", {"text": "calling the school back"})
    detail = agency.get("sam", f"/api/v1/tasks/{task['id']}").json

    assert detail["draft"] == {"narrative": "half written"}
    assert [c["text"] for c in detail["comments"]] == ["calling the school back"]


def test_the_reporter_is_redacted_for_investigators(agency: Agency) -> None:
    case_id, _ = file_and_screen(agency)

    seen_by = {
        user: {
            p["role"]: p["name"] for p in agency.get(user, f"/api/v1/cases/{case_id}/people").json
        }
        for user in ("ian", "sue")
    }

    assert seen_by["ian"]["reporter"] == "[redacted]"
    assert seen_by["sue"]["reporter"] == "Rita Reporter"
    assert seen_by["ian"]["child"] == "Lia"


def test_a_screened_out_report_is_visible_to_intake_only(agency: Agency) -> None:
    filed = agency.post(
        "sam",
        "/api/v1/intakes",
        hotline_report(children=[{"name": "Eli", "birth_date": "2005-07-01"}]),
    )
    case_id = filed.json["id"]
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    agency.post("sam", f"/api/v1/tasks/{task['id']}/complete", RECORD_REPORT)
    [approval] = agency.get("sue", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    screen_out = {"approved": True, "screen_in_instead": False, "review_notes": "adult"}
    approved = agency.post("sue", f"/api/v1/tasks/{approval['id']}/complete", screen_out)
    assert approved.status_code == 200, approved.json

    assert agency.get("sam", f"/api/v1/cases/{case_id}").json["status"] == "screened_out"
    assert agency.get("ian", f"/api/v1/cases/{case_id}").status_code == 404
    assert agency.get("pat", f"/api/v1/cases/{case_id}").status_code == 404


def test_messages_that_nothing_awaits_change_nothing(agency: Agency) -> None:
    case_id, _ = file_and_screen(agency)

    unknown = agency.post("amy", "/api/v1/messages/court_tmc_order", {"case_number": "nope-1"})
    none_waiting = agency.post(
        "sue", "/api/v1/messages/court_tmc_order", {"case_id": case_id, "payload": {}}
    )

    assert unknown.status_code == 404
    assert none_waiting.status_code == 409
    assert none_waiting.json["code"] == "conflict"


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def as_one_zip(files: dict[str, bytes]) -> tuple[io.BytesIO, str]:
    """The bundle as one zip in a multipart upload. (Its files one by one are more than the
    test client keeps in memory, and the temporary file it would spill to is never closed.)"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    buffer.seek(0)
    return buffer, "bundle.zip"


def test_designers_deploy_uploads_and_a_bad_bundle_deploys_nothing(agency: Agency) -> None:
    with agency.ctx.db.reader() as session:
        before = session.scalar(select(func.count()).select_from(DefinitionVersion))
    bad = agency.post(
        "dana",
        "/api/v1/definitions",
        data=zipped(FIXTURES / "broken"),
        content_type="application/zip",
    )
    assert bad.status_code == 422
    assert any(p["element_id"] == "f3" and p["line"] == 12 for p in bad.json["problems"])
    with agency.ctx.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(DefinitionVersion)) == before

    check = agency.client.post(
        "/api/v1/definitions/validate",
        data={"files": [(io.BytesIO((ROOT / "bpmn" / "intake.bpmn").read_bytes()), "intake.bpmn")]},
        headers=agency.headers("dana"),
        content_type="multipart/form-data",
    )
    assert check.status_code == 200 and check.json["valid"] is False  # its decisions are missing

    first = agency.post(
        "dana",
        "/api/v1/definitions",
        data=zipped(FIXTURES / "phases"),
        content_type="application/zip",
    )
    again = agency.post(
        "dana",
        "/api/v1/definitions",
        data=zipped(FIXTURES / "phases"),
        content_type="application/zip",
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["version"] == again.json["version"]
    assert agency.post("ivy", "/api/v1/definitions", data=zipped(FIXTURES / "phases"),
                       content_type="application/zip").status_code == 403  # fmt: skip
    versions = agency.get("dana", "/api/v1/definitions").json
    assert versions[0]["files"] and versions[-1]["active_instances"] >= 0
    one = agency.get("dana", f"/api/v1/definitions/{versions[0]['id']}/files/intake.bpmn")
    assert one.status_code == 200 and b"bpmn:definitions" in one.data


def test_validate_says_what_changes_and_a_designer_rolls_back_by_api(agency: Agency) -> None:
    current = agency.get("dana", "/api/v1/definitions").json[0]
    renamed = (
        (ROOT / "bpmn" / "intake.bpmn")
        .read_bytes()
        .replace(b'name="Record hotline report"', b'name="Record the call"')
    )
    files = {
        path.relative_to(ROOT / "bpmn").as_posix(): path.read_bytes()
        for path in (ROOT / "bpmn").rglob("*")
        if path.is_file() and path.suffix in (".bpmn", ".dmn", ".json", ".html")
    }
    files["intake.bpmn"] = renamed
    upload = {"files": [as_one_zip(files)]}

    check = agency.client.post("/api/v1/definitions/validate", data=upload,
                               headers=agency.headers("dana"),
                               content_type="multipart/form-data")  # fmt: skip
    assert check.status_code == 200 and check.json["valid"] is True, check.json["problems"]
    assert check.json["against_version"] == current["id"]
    [intake] = check.json["changes"]["processes"]
    assert intake["elements"]["changed"] == [{"id": "record_report", "type": "userTask",
        "name": "Record the call", "what": "renamed from “Record hotline report”"}]  # fmt: skip
    assert check.json["summary"] == [
        "Process intake: 1 element changed: Record the call (renamed from “Record hotline report”)"
    ]

    upload = {"files": [as_one_zip(files)]}
    deployed = agency.client.post("/api/v1/definitions", data=upload,
                                  headers=agency.headers("dana"),
                                  content_type="multipart/form-data")  # fmt: skip
    assert deployed.status_code == 201
    assert agency.post("sue", f"/api/v1/definitions/{current['id']}/activate").status_code == 403
    back = agency.post("dana", f"/api/v1/definitions/{current['id']}/activate")
    assert back.status_code == 200
    assert (back.json["version"], back.json["previous_version"]) == (
        current["id"], deployed.json["version"]
    )  # fmt: skip
    listed = {v["id"]: v["current"] for v in agency.get("dana", "/api/v1/definitions").json}
    assert listed[current["id"]] is True and listed[deployed.json["version"]] is False
    assert agency.post("dana", "/api/v1/definitions/999/activate").status_code == 404

    # Running phases moved back by API: a dry run first, then the move; each says where it waits.
    file_and_screen(agency)  # a case now waiting for its first contact, on that version
    asked = {"from_version": current["id"], "to_version": deployed.json["version"],
             "process_id": "investigation"}  # fmt: skip
    planned = agency.post("dana", "/api/v1/definitions/migrations", {**asked, "dry_run": True})
    assert planned.status_code == 200, planned.json
    [plan] = [p for p in planned.json if p["moves"]]
    assert plan["waiting"] == ["first_contact"]
    assert agency.post("sue", "/api/v1/definitions/migrations", asked).status_code == 403
    moved = agency.post("dana", "/api/v1/definitions/migrations", asked)
    assert moved.status_code == 200 and all(m["moves"] for m in moved.json)
    again = agency.post("dana", "/api/v1/definitions/migrations", asked)
    assert again.status_code == 200 and again.json == []  # nothing left on the old version


def test_a_deploy_whose_scenario_fails_is_refused_with_the_difference(agency: Agency) -> None:
    files = {
        path.relative_to(ROOT / "bpmn").as_posix(): path.read_bytes()
        for path in (ROOT / "bpmn").rglob("*")
        if path.is_file() and path.suffix in (".bpmn", ".dmn", ".json", ".html")
    }
    # The screen-out approval's "yes" now ends intake whatever the supervisor answers.
    files["intake.bpmn"] = files["intake.bpmn"].replace(
        b">approved == True and screen_in_instead == False<", b">screen_in_instead == False<"
    )
    before = len(agency.get("dana", "/api/v1/definitions").json)
    upload = {"files": [as_one_zip(files)]}

    refused = agency.client.post("/api/v1/definitions", data=upload,
                                 headers=agency.headers("dana"),
                                 content_type="multipart/form-data")  # fmt: skip

    assert refused.status_code == 422
    [problem] = refused.json["problems"]
    assert problem["file"] == "scenarios/screen_out_sent_back.json"
    assert "step 5" in problem["message"] and "no task is waiting" in problem["message"]
    assert len(agency.get("dana", "/api/v1/definitions").json) == before


def test_reads_of_a_sensitive_case_are_audited(agency: Agency) -> None:
    case_id, _ = file_and_screen(agency)
    with agency.ctx.db.writer() as session:
        case = session.get(Case, uuid.UUID(case_id))
        assert case is not None
        case.sensitive = True
        session.commit()

    assert agency.get("ian", f"/api/v1/cases/{case_id}").status_code == 200  # assignee
    assert agency.get("sue", f"/api/v1/cases/{case_id}").status_code == 200  # the chain
    assert agency.get("ivy", f"/api/v1/cases/{case_id}").status_code == 404  # not theirs
    assert agency.get("sec", f"/api/v1/cases/{case_id}").status_code == 200  # security group
    log = agency.get("olga", f"/api/v1/audit?case_id={case_id}&action=case.read").json
    assert [(e["actor"], e["details"]["what"]) for e in log["items"]] == [
        ("ian", "case file"),
        ("sue", "case file"),
        ("sec", "case file"),
    ]
    with agency.ctx.db.reader() as session:
        writes = session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "sam")).all()
    assert "task.completed" in writes and "case.opened" in writes


def test_health_metrics_and_the_openapi_document(agency: Agency) -> None:
    file_and_screen(agency)

    document = agency.client.get("/api/openapi.json").json
    metrics = agency.client.get("/metrics").data.decode()

    assert document["openapi"] == "3.1.0"
    assert "/api/v1/tasks/{task_id}/complete" in document["paths"]
    assert 'casework_task_completions_total{process="intake"} 1.0' in metrics
    assert 'casework_timers{status="pending"} 1.0' in metrics
    assert "casework_http_request_seconds_bucket" in metrics
    assert json.loads(agency.client.get("/healthz").data)["status"] == "ok"


def test_nul_characters_are_refused_with_the_field_named(agency: Agency) -> None:
    refused = agency.post("sam", "/api/v1/intakes", hotline_report(summary="bruises\x00"))
    in_query = agency.get("sue", "/api/v1/cases?text=a%00b")

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json["errors"]] == ["/summary"]
    assert in_query.status_code == 422
    with agency.ctx.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_responses_say_how_much_time_the_engine_took(agency: Agency) -> None:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    listed = agency.get("sam", "/api/v1/cases")

    def timing(response: Any) -> dict[str, float]:
        parts = (
            part.strip().split(";dur=") for part in response.headers["Server-Timing"].split(",")
        )
        return {name: float(value) for name, value in parts}

    # Filing a report starts intake in the engine; listing cases reads projections only.
    assert 0 < timing(filed)["engine"] <= timing(filed)["app"]
    assert timing(listed)["engine"] == 0


def test_a_report_recorded_after_its_window_closed_is_overdue_at_once(agency: Agency) -> None:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    case_id = filed.json["id"]
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    # Received two days before it was recorded: the 24-hour window closed yesterday.
    late = {**RECORD_REPORT, "received_at": "2025-03-01T10:00:00+00:00"}
    assert agency.post("sam", f"/api/v1/tasks/{task['id']}/complete", late).status_code == 200

    mine = agency.get("ian", "/api/v1/tasks?view=mine").json["items"]
    [contact] = [t for t in mine if t["element_id"] == "first_contact"]
    assert contact["due_at"] == "2025-03-02T10:00:00+00:00"
    assert contact["overdue"] is True
    assert "staff_late_contact" in {t["element_id"] for t in agency.get(
        "sue", f"/api/v1/tasks?view=team&case_id={case_id}").json["items"]}  # fmt: skip
    measure = agency.get("sue", "/api/v1/caseload").json["measures"]["initiation_timeliness"]
    assert (measure["on_time"], measure["total"]) == (0, 1)
