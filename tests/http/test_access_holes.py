"""The access holes found by trying casework as a new user would, one test each: every one
failed before its fix. (Sign-in races and sessions, bad input, 405s and /metrics have their
own modules; the route-by-route matrix is test_route_access_matrix.py.)"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from cps_cases import removed
from engine.deadlines.timers import fire_due_timers
from engine.storage.tables import AuditEvent, Case, HumanTask, OutboxEvent
from http_support import RECORD_REPORT, Agency, hotline_report

REPORTER_NAME, REPORTER_PHONE = "Rita Reporter", "555-0100"


def _file(agency: Agency, **report: Any) -> tuple[str, str]:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report(**report))
    assert filed.status_code == 201, filed.json
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={filed.json['id']}").json["items"]
    return filed.json["id"], task["id"]


def _screen_in(
    agency: Agency, task_id: str, reporter: dict[str, Any] | None = None, **screening: Any
) -> None:
    report = {**RECORD_REPORT, "screening": {**RECORD_REPORT["screening"], **screening}}
    if reporter is not None:
        report["reporter"] = reporter
    done = agency.post("sam", f"/api/v1/tasks/{task_id}/complete", report)
    assert done.status_code == 200, done.json


def _task(agency: Agency, user: str, case_id: str, element_id: str) -> dict[str, Any]:
    [found] = [
        t
        for t in agency.get(user, f"/api/v1/cases/{case_id}/tasks").json
        if t["element_id"] == element_id and t["status"] == "ready"
    ]
    return found


def _audit_count(agency: Agency, case_id: str, action: str = "case.read") -> int:
    with agency.ctx.db.reader() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    AuditEvent.case_id == uuid.UUID(case_id), AuditEvent.action == action
                )
            )
            or 0
        )


# -- 1. the reporter through drafts ----------------------------------------------------------


def test_a_draft_ends_with_its_task_and_never_shows_the_reporter(agency: Agency) -> None:
    case_id, intake = _file(agency)
    draft = {"reporter": {"name": REPORTER_NAME, "contact": REPORTER_PHONE}, "narrative": "x"}
    assert agency.put("sam", f"/api/v1/tasks/{intake}/draft", draft).status_code == 200
    _screen_in(agency, intake, child_fatality=True)  # a fatality: the case turns sensitive
    worker = _task(agency, "sue", case_id, "first_contact")["assignee"]

    for reader in (worker, "sec"):  # the assigned investigator; the security group
        seen = agency.get(reader, f"/api/v1/tasks/{intake}")
        assert seen.status_code == 200, (reader, seen.json)
        assert seen.json["draft"] is None
        assert REPORTER_NAME not in seen.get_data(as_text=True)
        assert REPORTER_PHONE not in seen.get_data(as_text=True)
    with agency.ctx.db.reader() as session:
        kept = session.scalar(select(HumanTask.draft).where(HumanTask.id == uuid.UUID(intake)))
    assert kept is None


def test_free_text_that_names_the_reporter_is_redacted_for_workers(agency: Agency) -> None:
    case_id, intake = _file(agency)
    _screen_in(agency, intake)
    contact = _task(agency, "sue", case_id, "first_contact")
    worker = contact["assignee"]
    said = f"{REPORTER_NAME} rang again from {REPORTER_PHONE}"
    agency.put(worker, f"/api/v1/tasks/{contact['id']}/draft", {"notes": said})
    agency.post(worker, f"/api/v1/tasks/{contact['id']}/comments", {"text": said})

    as_worker = agency.get(worker, f"/api/v1/tasks/{contact['id']}").json
    as_supervisor = agency.get("sue", f"/api/v1/tasks/{contact['id']}").json

    assert as_worker["draft"] == {"notes": "[redacted] rang again from [redacted]"}
    assert as_worker["comments"][0]["text"] == "[redacted] rang again from [redacted]"
    assert as_supervisor["comments"][0]["text"] == said  # the supervisor may know


def test_events_never_carry_the_reporter(agency: Agency) -> None:
    case_id, intake = _file(agency)
    _screen_in(agency, intake)

    with agency.ctx.db.reader() as session:
        payloads = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.case_id == uuid.UUID(case_id))
        ).all()
    assert payloads
    assert not any(REPORTER_NAME in str(p) or REPORTER_PHONE in str(p) for p in payloads)


# -- 2. messages by hand ----------------------------------------------------------------------


def test_a_message_is_sent_by_hand_only_by_the_roles_its_diagram_names(agency: Agency) -> None:
    case = removed(agency.ctx, agency.ctx.clock.now(), [("Lia", "2022-01-05")])
    with agency.ctx.db.writer() as session:  # cal works the case; amy's task is in her queue
        session.execute(update(Case).where(Case.id == case.id).values(assigned_to="cal"))
        session.commit()
    body = {"case_number": case.number, "payload": {"order_date": "2025-03-04"}}

    refused = {u: agency.post(u, "/api/v1/messages/court_tmc_order", body) for u in ("sam", "cal")}
    assert refused["sam"].status_code == 404  # the screener may not even see the case
    assert refused["cal"].status_code == 403  # reads it, but the diagram names attorneys
    assert "attorney, supervisor" in refused["cal"].json["detail"]
    assert case.task("obtain_tmc_order")  # nothing moved

    sent = agency.post("amy", "/api/v1/messages/court_tmc_order", body)
    assert sent.status_code == 200, sent.json
    assert case.tasks("obtain_tmc_order") == []  # the attorney's order took the task's place


def test_a_message_its_diagram_names_no_sender_for_is_nobodys_to_send(agency: Agency) -> None:
    case = removed(agency.ctx, agency.ctx.clock.now(), [("Lia", "2022-01-05")])
    body = {"case_id": str(case.id), "payload": {}}

    answer = agency.post("sue", "/api/v1/messages/permanency_hearing_due", body)

    assert answer.status_code == 403
    assert "nobody" in answer.json["detail"]


# -- 3. access ends when the work moves on ----------------------------------------------------


def test_access_ends_when_the_work_and_the_case_move_to_someone_else(agency: Agency) -> None:
    case_id, intake = _file(agency)
    assert agency.get("sam", f"/api/v1/cases/{case_id}").status_code == 200  # in intake
    _screen_in(agency, intake)
    assert agency.get("sam", f"/api/v1/cases/{case_id}").status_code == 404  # screened: gone
    contact = _task(agency, "sue", case_id, "first_contact")
    first, other = contact["assignee"], ({"ian", "ivy"} - {contact["assignee"]}).pop()
    visited = {"contact_at": "2025-03-03T16:00:00+00:00", "location": "school"}
    done = agency.post(first, f"/api/v1/tasks/{contact['id']}/complete", visited)
    assert done.status_code == 200, done.json

    # The supervisor names the other the case's worker: the rest of the investigation moves.
    held = {
        t["id"]
        for t in agency.get("sue", f"/api/v1/cases/{case_id}/tasks").json
        if t["status"] == "ready" and t["assignee"] == first
    }
    moved = agency.post("sue", f"/api/v1/cases/{case_id}/worker", {"user_id": other})
    assert moved.status_code == 200, moved.json
    assert (moved.json["previous"], set(moved.json["tasks_moved"])) == (first, held) and held

    assert agency.get(other, f"/api/v1/cases/{case_id}").status_code == 200
    for path in (f"/api/v1/cases/{case_id}", f"/api/v1/tasks/{contact['id']}"):
        assert agency.get(first, path).status_code == 404, path  # a task done gives no access
    note = {"occurred_at": "2025-03-03T16:00:00+00:00", "type": "phone", "location": "office"}
    note["narrative"] = "x"
    assert agency.post(first, f"/api/v1/cases/{case_id}/contacts", note).status_code == 404
    listed = agency.get(first, "/api/v1/cases").json["items"]
    assert case_id not in {c["id"] for c in listed}


# -- 4. every read of a sensitive case is audited ----------------------------------------------


def test_every_read_of_a_sensitive_case_leaves_an_audit_entry(agency: Agency) -> None:
    case_id, intake = _file(agency)
    _screen_in(agency, intake, child_fatality=True)
    contact = _task(agency, "sue", case_id, "first_contact")
    worker = contact["assignee"]
    instance = agency.get(worker, f"/api/v1/cases/{case_id}").json["processes"][0]["instance_id"]
    reads = [
        f"/api/v1/tasks/{contact['id']}",
        f"/api/v1/cases/{case_id}/tasks",
        "/api/v1/tasks?view=mine",
        "/api/v1/cases",
        f"/cases/{case_id}/phases/{instance}/diagram.bpmn",
    ]
    for path in reads:
        before = _audit_count(agency, case_id)
        answer = agency.get(worker, path)
        assert answer.status_code == 200, path
        assert _audit_count(agency, case_id) == before + 1, path


# -- 7. the smaller ones ----------------------------------------------------------------------


def test_the_designer_page_names_no_case(agency: Agency) -> None:
    from sign_in_form import give_password, submit_sign_in

    case_id, _ = _file(agency)
    number = agency.get("sam", f"/api/v1/cases/{case_id}").json["case_number"]
    give_password(agency.ctx, "dana")
    browser = agency.app.test_client()
    submit_sign_in(browser, "dana", "dana-correct-horse")

    page = browser.get("/designer").get_data(as_text=True)

    assert number not in page
    assert "Running phases" in page and "<td>intake</td>" in page


def test_a_sensitive_cases_overdue_work_reaches_a_supervisor_who_can_open_it(
    agency: Agency,
) -> None:
    case_id, intake = _file(agency)
    _screen_in(agency, intake, child_fatality=True)
    agency.ctx.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    fire_due_timers(agency.ctx, worker="test")

    alerts = agency.get("sue", "/api/v1/alerts?open=true").json["items"]
    queue = agency.get("sue", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]

    assert case_id in {a["case_id"] for a in alerts}
    assert agency.get("sue", f"/api/v1/cases/{case_id}").status_code == 200
    assert "staff_late_contact" in {t["element_id"] for t in queue}  # not nobody's queue


def test_claiming_ones_own_task_again_changes_nothing_and_tells_no_one(agency: Agency) -> None:
    case_id, intake = _file(agency)
    first = agency.post("sam", f"/api/v1/tasks/{intake}/claim")
    again = agency.post("sam", f"/api/v1/tasks/{intake}/claim")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json["version"] == first.json["version"]
    with agency.ctx.db.reader() as session:
        claimed = session.scalar(
            select(func.count()).where(
                OutboxEvent.case_id == uuid.UUID(case_id), OutboxEvent.topic == "task.claimed"
            )
        )
    assert claimed == 1


# -- what a fresh-eyes review found after the first fixes -----------------------------------


def test_the_reporter_is_cut_out_of_free_text_however_it_is_written(agency: Agency) -> None:
    case_id, intake = _file(agency)
    # The screener types the reporter's name differently on the hotline form.
    _screen_in(agency, intake, reporter={"name": "Margarita Q. Reporter", "anonymous": False})
    contact = _task(agency, "sue", case_id, "first_contact")
    worker = contact["assignee"]
    said = "Rita called back; Ms Reporter is scared, ring 555 0100; Margarita repeated it"
    agency.post(worker, f"/api/v1/tasks/{contact['id']}/comments", {"text": said})

    [comment] = agency.get(worker, f"/api/v1/tasks/{contact['id']}").json["comments"]

    assert comment["text"] == (
        "[redacted] called back; Ms [redacted] is scared, ring [redacted]; [redacted] repeated it"
    )


def test_a_worker_cannot_find_a_case_by_what_its_summary_redacts(agency: Agency) -> None:
    case_id, intake = _file(agency, summary="Rita Reporter saw bruises")
    _screen_in(agency, intake)
    worker = _task(agency, "sue", case_id, "first_contact")["assignee"]

    def found(user: str, text: str) -> bool:
        items = agency.get(user, "/api/v1/cases", query_string={"text": text}).json["items"]
        return case_id in {c["id"] for c in items}

    assert found(worker, "bruises") is False  # the summary is searched by reporter-seers only
    assert found(worker, "Lia") and found("sue", "rita") and found("sue", "bruises")
    assert not found(worker, "rita") and not found(worker, "%")  # wildcards are plain text


def test_the_audit_trail_redacts_the_reporter_and_does_not_feed_on_itself(
    agency: Agency,
) -> None:
    case_id, intake = _file(agency)
    _screen_in(agency, intake, child_fatality=True)
    number = agency.get("sue", f"/api/v1/cases/{case_id}").json["case_number"]
    reason = "Rita Reporter rang the on-call line about the baby"
    agency.post("ivy", "/api/v1/emergency-access", {"case_number": number, "reason": reason})

    totals = [
        agency.get("olga", f"/api/v1/audit?case_id={case_id}&per_page=200").json for _ in range(3)
    ]

    assert len({page["total"] for page in totals}) == 1  # looking adds nothing to the case
    [grant] = [e for e in totals[0]["items"] if e["action"] == "case.emergency_access"]
    assert grant["details"]["reason"] == "[redacted] rang the on-call line about the baby"
    with agency.ctx.db.reader() as session:
        looks = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "audit.read")
        ).all()
    assert looks == [{"sensitive_cases": [case_id]}] * 3


def test_a_supervisor_hands_work_only_within_the_cases_team(agency: Agency) -> None:
    case_id, intake = _file(agency)
    _screen_in(agency, intake, child_fatality=True)
    contact = _task(agency, "sue", case_id, "first_contact")

    across = agency.post("sue", f"/api/v1/tasks/{contact['id']}/assign", {"user_id": "zed"})

    assert across.status_code == 400 and "team north" in across.json["detail"]
    assert agency.get("zed", f"/api/v1/cases/{case_id}").status_code == 404


def test_a_message_to_a_case_one_may_not_see_names_only_what_was_sent(agency: Agency) -> None:
    case_id, intake = _file(agency, team="south")
    _screen_in(agency, intake)
    number = agency.get("sol", f"/api/v1/cases/{case_id}").json["case_number"]

    answer = agency.post("amy", "/api/v1/messages/court_tmc_order", {"case_number": number})

    assert answer.status_code == 404
    assert case_id not in answer.json["detail"] and number in answer.json["detail"]


def test_the_chain_restricts_a_case_and_only_the_security_group_lifts_it(agency: Agency) -> None:
    case_id, intake = _file(agency)
    _screen_in(agency, intake)
    worker = _task(agency, "sue", case_id, "first_contact")["assignee"]
    why = {"sensitive": True, "reason": "the mother is a county employee"}

    assert agency.post(worker, f"/api/v1/cases/{case_id}/sensitivity", why).status_code == 403
    restricted = agency.post("sue", f"/api/v1/cases/{case_id}/sensitivity", why)
    assert restricted.status_code == 200 and restricted.json["sensitive"] is True
    assert agency.get("sec", f"/api/v1/cases/{case_id}").status_code == 200  # security group
    lift = {"sensitive": False, "reason": "the employee has left the agency"}
    assert agency.post("sue", f"/api/v1/cases/{case_id}/sensitivity", lift).status_code == 403
    assert agency.post("sec", f"/api/v1/cases/{case_id}/sensitivity", lift).status_code == 200
    assert agency.get("sec", f"/api/v1/cases/{case_id}").status_code == 404
    assert _audit_count(agency, case_id, "case.restricted") == 1
    assert _audit_count(agency, case_id, "case.restriction_lifted") == 1


def test_the_closed_event_carries_no_free_text(agency: Agency) -> None:
    from engine.events.topics import TOPICS

    assert set(TOPICS["case.closed"]["properties"]) == {"case_id", "case_number"}
