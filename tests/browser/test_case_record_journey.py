"""One case with two children, from the report to closure, read back as a record: the screener
records the report it was filed with (filled in, prior history in view); the investigator's
first contact is typed after its deadline but made before it (a late entry, on time); per-child
work names each child; the supervisor sends the safety assessment back with reasons, sees the
threats she decides on, and approves the revision; the case closes. Then the case page and the
API show every fact recorded on the way, per child, with when it happened and when it was
entered. Screenshots go to test-artifacts/browser."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from axe_check import violations
from playwright.sync_api import expect

from engine.cases import casefile
from engine.identity.users import load_principal
from engine.tasks import completion, queries

TEXAS = ZoneInfo("America/Chicago")
REPORT = {
    "team": "north",
    "county": "Travis",
    "summary": "bruises on a toddler's face; her brother is left alone at night",
    "reporter": {"name": "Rita Reporter", "contact": "555-0100", "relationship": "neighbour"},
    "children": [
        {"name": "Lia Moreno", "birth_date": "2022-01-05", "address": "12 Elm St"},
        {"name": "Ben Moreno", "birth_date": "2018-06-30", "address": "12 Elm St"},
    ],
    "caregivers": [{"name": "Maria Moreno", "relationship": "mother", "address": "12 Elm St"}],
    "alleged_perpetrators": [{"name": "Rob Stone", "relationship": "mother's boyfriend"}],
    "allegations": [
        {"victim": 0, "perpetrator": 0, "type": "PHAB", "narrative": "bruise on the cheek"},
        {"victim": 1, "perpetrator": 0, "type": "NSUP", "narrative": "alone at night"},
    ],
}


def ready(ctx: Any, case_id: uuid.UUID, bpmn_id: str) -> list[queries.TaskRow]:
    return [t for t in queries.ready_tasks(ctx.db, case_id=case_id) if t.bpmn_id == bpmn_id]


def complete(ctx: Any, user: str, case_id: uuid.UUID, bpmn_id: str, data: dict[str, Any]) -> None:
    principal = load_principal(ctx, user)
    assert principal is not None
    for task in ready(ctx, case_id, bpmn_id):
        completion.complete(ctx, principal, task.id, data)


def local(instant: Any) -> str:
    return instant.astimezone(TEXAS).strftime("%Y-%m-%dT%H:%M")


def test_a_two_child_case_from_report_to_closure_reads_back_as_its_record(
    sign_in: Any, site: Any
) -> None:
    ctx = site.ctx
    sam_principal = load_principal(ctx, "sam")
    assert sam_principal is not None
    opened = casefile.file_intake(ctx, sam_principal, REPORT)
    case_id = opened.id

    # -- intake: the report is filled in from what was filed; prior history is in view ------
    sam = sign_in("sam")
    [record_report] = ready(ctx, case_id, "record_report")
    sam.go(f"/tasks/{record_report.id}")
    expect(sam.page.locator("#f-county")).to_have_value("Travis")
    expect(sam.page.locator("#f-indicators-physical_abuse")).to_be_checked()
    expect(sam.page.locator("#f-reporter-contact")).to_have_value("555-0100")
    expect(sam.page.locator("#history")).to_contain_text("Lia Moreno")
    sam.page.fill("#f-received_at", "2025-03-03T09:15")
    sam.page.select_option("#f-channel", "phone")
    sam.page.select_option("#f-screening-jurisdiction", "THIS")
    sam.page.check("#f-indicators-ap_access_24h")
    sam.shot("record-01-report-filled-from-filing")
    sam.page.click("button[value=complete]")
    expect(sam.page.locator(".flash.info")).to_contain_text("completed")

    # -- first contact: made 30 minutes before its deadline, typed an hour after it ---------
    [first_contact] = ready(ctx, case_id, "first_contact")
    assert first_contact.due_at is not None
    due = first_contact.due_at
    ctx.clock.move_to(due + timedelta(hours=1))
    worker = first_contact.assignee
    assert worker is not None
    investigator = sign_in(worker)
    investigator.go(f"/tasks/{first_contact.id}")
    made = due - timedelta(minutes=30)
    investigator.page.fill("#f-contact_at", local(made))
    investigator.page.select_option("#f-location", "child_residence")
    investigator.page.fill("#f-notes", "Both children seen at home; bruise on Lia's cheek")
    investigator.page.click("button[value=complete]")
    expect(investigator.page.locator(".flash.info")).to_contain_text("completed")

    # -- per-child work says whose it is, in the worklist ----------------------------------
    investigator.go("/work")
    inbox = investigator.page.locator("#tasks")
    expect(inbox).to_contain_text("Interview child — Lia Moreno (3)")
    expect(inbox).to_contain_text("Interview child — Ben Moreno (6)")
    investigator.shot("record-02-per-child-worklist")
    today = ctx.clock.now().astimezone(TEXAS).date().isoformat()
    for task in ready(ctx, case_id, "interview_child"):
        child = task.name.split(" — ")[1]
        completion.complete(
            ctx,
            load_principal(ctx, worker),  # type: ignore[arg-type]
            task.id,
            {"interview": {"interviewed_on": today, "seen_alone": True,
                           "summary": f"{child} said the boyfriend hits"}},
        )  # fmt: skip

    # -- the safety assessment: sent back with reasons, revised, approved -------------------
    first_assessment = {
        "threats": ["excessive_discipline"],
        "in_home_interventions_sufficient": True,
        "protective_placement_agreed": False,
        "notes": "boyfriend disciplines harshly",
    }
    complete(ctx, worker, case_id, "assess_safety", first_assessment)
    sue = sign_in("sue")
    [approval] = ready(ctx, case_id, "approve_safety_assessment")
    sue.go(f"/tasks/{approval.id}")
    reviewing = sue.page.locator("#reviewing")
    expect(reviewing).to_contain_text("Safety assessment")
    expect(reviewing).to_contain_text("Excessive discipline")
    expect(reviewing).to_contain_text("boyfriend disciplines harshly")
    sue.shot("record-03-approval-sees-the-threats")
    assert violations(sue.page) == []
    sue.page.fill("#f-review_notes", "Say who supervises the children at night")
    # No answer is taken for her: Complete without a decision is refused, nothing sent back.
    sue.expect_refusals(422)
    sue.page.click("button[value=complete]")
    expect(sue.page.locator("#f-approved-error")).to_be_visible()
    assert ready(ctx, case_id, "approve_safety_assessment")
    sue.page.select_option("#f-approved", label="Send it back with my notes")
    sue.page.click("button[value=complete]")
    expect(sue.page.locator(".flash.info")).to_contain_text("completed")

    [revise] = ready(ctx, case_id, "assess_safety")
    investigator.go(f"/tasks/{revise.id}")
    expect(investigator.page.locator("#returned-notes")).to_contain_text(
        "Say who supervises the children at night"
    )
    investigator.shot("record-04-sent-back-with-reasons")
    assert violations(investigator.page) == []
    investigator.page.locator("#f-threats-5").uncheck()  # excessive_discipline, as listed
    investigator.page.fill("#f-notes", "grandmother now lives in; boyfriend moved out")
    investigator.page.click("button[value=complete]")
    expect(investigator.page.locator(".flash.info")).to_contain_text("completed")
    [approval] = ready(ctx, case_id, "approve_safety_assessment")
    sue.go(f"/tasks/{approval.id}")
    # Asked again: the decision and the notes start empty, not as last time.
    expect(sue.page.locator("#f-approved")).to_have_value("")
    expect(sue.page.locator("#f-review_notes")).to_have_value("")
    sue.page.select_option("#f-approved", label="Approve")
    sue.page.click("button[value=complete]")
    expect(sue.page.locator(".flash.info")).to_contain_text("completed")

    # -- findings per allegation, risk, the case action, closure -----------------------------
    for task in ready(ctx, case_id, "record_disposition"):
        completion.complete(
            ctx, load_principal(ctx, worker), task.id,  # type: ignore[arg-type]
            {"disposition": {"finding": "RO", "rationale": f"no evidence for {task.name}"}},
        )  # fmt: skip
    complete(ctx, worker, case_id, "assess_risk",
             {"neglect_level": "LOW", "abuse_level": "LOW", "policy_override": False,
              "discretionary_override": "NONE", "court_ordered_services": False,
              "family_left_jurisdiction": False})  # fmt: skip
    complete(ctx, "sue", case_id, "approve_disposition",
             {"approved": True, "case_action_final": "CLOSE", "service_type_final": "NONE",
              "closure_reason": "allegations ruled out, risk low"})  # fmt: skip
    closing = {"closure_approved": True, "closing_summary": "ruled out; family supported"}
    complete(ctx, "sue", case_id, "approve_closure", closing)
    for bpmn_id, data in (
        ("family_closure_meeting", {"held_on": today, "notes": "family agreed"}),
        ("file_court_order", {"order_on": today, "document_reference": "none"}),
    ):
        for task in ready(ctx, case_id, bpmn_id):
            principal = load_principal(ctx, task.assignee or worker)
            completion.complete(ctx, principal, task.id, data)  # type: ignore[arg-type]
    assert queries.ready_tasks(ctx.db, case_id=case_id) == []

    # -- the case page reads back the record --------------------------------------------------
    sue.go(f"/cases/{case_id}")
    expect(sue.page.locator("h1")).to_contain_text(opened.case_number)
    record = sue.page.locator("#record")
    expect(record).to_contain_text("Report filed")
    expect(record).to_contain_text("Travis")
    expect(record).to_contain_text("Child interview — Lia Moreno (3)")
    expect(record).to_contain_text("Child interview — Ben Moreno (6)")
    expect(record).to_contain_text("Lia Moreno (3) said the boyfriend hits")
    expect(record).to_contain_text("boyfriend disciplines harshly")  # the first assessment
    expect(record).to_contain_text("grandmother now lives in")  # and its revision
    expect(record).to_contain_text("Say who supervises the children at night")
    expect(record).to_contain_text("Allegation finding — Physical abuse, Lia Moreno")
    expect(record).to_contain_text("Allegation finding — Neglectful supervision, Ben Moreno")
    expect(record).to_contain_text("Ruled out (RO)")
    contact_entry = record.locator("[data-kind=initiation]")
    expect(contact_entry).to_contain_text("Both children seen at home")
    expect(contact_entry).to_contain_text(f"entered {made.astimezone(TEXAS):%a %d %b %Y}")
    expect(record).to_contain_text("happened")
    expect(record).to_contain_text("entered")
    t06 = sue.page.locator("#deadlines tr[data-deadline=T06]")
    expect(t06).to_contain_text("met in time")
    expect(t06).to_contain_text("late entry")
    expect(sue.page.locator(".decision").first).to_contain_text("rule")
    expect(sue.page.locator("#people")).to_contain_text("12 Elm St")
    sue.shot("record-05-case-page-record")
    assert violations(sue.page) == []

    # -- a correction keeps the original: the supervisor amends the first contact ------------
    contact_entry.locator("summary").first.click()  # entries open on demand
    contact_entry.locator("a", has_text="Amend this entry").click()
    expect(sue.page.locator("h1")).to_contain_text("Amend: First face-to-face contact")
    assert violations(sue.page) == []
    sue.page.fill("#f-notes", "Both children seen at home; bruise on Lia's left cheek")
    sue.page.click("#amend-form button[type=submit]")
    expect(sue.page.locator("#f-reason-error")).to_be_visible()  # a reason is required
    sue.page.fill("#f-reason", "the left cheek, as the photograph shows")
    sue.page.click("#amend-form button[type=submit]")
    expect(sue.page.locator(".flash.info")).to_contain_text("Amended")
    amended = sue.page.locator("#record [data-kind=initiation]")
    expect(amended).to_contain_text("bruise on Lia's left cheek")
    expect(amended).to_contain_text("the left cheek, as the photograph shows")
    amended.locator("summary").first.click()
    amended.locator("summary", has_text="Amendments").click()
    expect(amended).to_contain_text("bruise on Lia's cheek")  # the original, kept

    # -- and the API says the same ---------------------------------------------------------------
    api = sue.page.request.get(f"{site.base}/api/v1/cases/{case_id}")
    assert api.ok
    body = api.json()
    assert body["status"] == "closed"
    subjects = {e["subject"] for e in body["record"] if e["kind"] in ("interview", "finding")}
    assert subjects == {
        "Lia Moreno (3)", "Ben Moreno (6)",
        "Physical abuse, Lia Moreno", "Neglectful supervision, Ben Moreno",
    }  # fmt: skip
    [contact] = [e for e in body["record"] if e["kind"] == "initiation"]
    assert contact["occurred_at"] < contact["entered_at"]  # made, then typed 90 minutes later
    [deadline] = [d for d in body["deadlines"] if d["deadline_id"] == "T06"]
    assert (deadline["status"], deadline["late_entry"]) == ("met", True)
    shown = sue.page.request.get(f"{site.base}/api/v1/cases/{case_id}/record").json()
    assert [e["id"] for e in shown] == [e["id"] for e in body["record"]]
