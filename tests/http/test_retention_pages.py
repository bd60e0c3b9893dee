"""A closed case whose finished phases gave up their engine state (records retention) reads
on its pages and through the API as before: each phase's path drawn, nothing a 500."""

from __future__ import annotations

from datetime import UTC, datetime

from cps_cases import CASEWORKER, SUPERVISOR, open_quiet_case, texas
from engine.retention import runs
from http_support import Agency, password_of
from sign_in_form import give_password, submit_sign_in


def test_a_compacted_case_reads_on_its_page_and_through_the_api(agency: Agency) -> None:
    case = open_quiet_case(agency.ctx, [("Ana", "2016-04-04")])
    case.at(texas(2025, 5, 1, 9, 0))
    case.message("closure_requested", {"reason": "risk reduced", "court_involved": False})
    case.complete(
        "approve_closure", {"closure_approved": True, "closing_summary": "done"}, SUPERVISOR
    )
    case.complete("family_closure_meeting", {"held_on": case.today()}, CASEWORKER)
    before = agency.get("sue", f"/api/v1/cases/{case.id}/position").json
    agency.ctx.clock.move_to(datetime(2027, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]

    assert runs.perform(agency.ctx, runs.RetentionPolicy()).instances_compacted == len(before)

    position = agency.get("sue", f"/api/v1/cases/{case.id}/position")
    assert position.status_code == 200
    assert [(p["process_id"], p["completed"]) for p in position.json] == [
        (p["process_id"], p["completed"]) for p in before
    ]
    assert all(p["compacted_at"] for p in position.json)
    assert agency.get("sue", f"/api/v1/cases/{case.id}").status_code == 200
    give_password(agency.ctx, "sue")
    browser = agency.app.test_client()
    assert submit_sign_in(browser, "sue", password_of("sue")).status_code == 302
    page = browser.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert "its engine state was given up" in page.get_data(as_text=True)
    phase = position.json[0]["instance_id"]
    assert browser.get(f"/cases/{case.id}/phases/{phase}/diagram.bpmn").status_code == 200
