"""The issue's journey in a real browser: a screener files a report, the case reaches an
investigator's inbox, they record first contact through the form (a field error first), the
supervisor reassigns on the dashboard, a designer changes a DMN rule in dmn-js and deploys, and
the next case follows the new rule. Screenshots of each page go to test-artifacts/browser."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from engine.cases import casefile
from engine.identity.users import load_principal
from engine.tasks import completion, worklists
from http_support import RECORD_REPORT, hotline_report

RECEIVED_LOCAL = "2025-03-03T09:15"  # Chicago; 15:15 UTC
RECEIVED = datetime(2025, 3, 3, 15, 15, tzinfo=UTC)


def file_report(page: Page) -> str:
    page.click("text=New report")
    expect(page.locator("#f-team")).to_have_value("north")  # the screener's own team
    page.fill("#f-summary", "Neighbour saw bruises on a toddler's face")
    page.fill("#f-reporter-name", "Rita Reporter")
    page.fill("#f-children-0-name", "Lia Example")
    page.fill("#f-children-0-birth_date", "2022-01-05")
    page.fill("#f-caregivers-0-name", "Maria Example")
    # The allegation's child is chosen by name among the children typed above.
    page.select_option("#f-allegations-0-victim", label="1 — Lia Example")
    # Allegation types are offered by name; the code is what is stored.
    expect(page.locator("#f-allegations-0-type option[value=PHAB]")).to_have_text(
        "Physical abuse (PHAB)"
    )
    page.select_option("#f-allegations-0-type", "PHAB")
    page.fill("#f-allegations-0-narrative", "bruises on the cheek")
    page.click("text=File report")
    expect(page.locator(".flash.info")).to_contain_text("Report filed")
    expect(page.locator("main")).to_contain_text("Physical abuse (PHAB) — Lia Example")
    heading = page.locator("h1").inner_text()
    return heading.removeprefix("Case ").strip()


def record_report(page: Page, case_number: str) -> None:
    page.click("text=My work")
    page.click("text=Unassigned, in my roles")
    row = page.locator("#tasks tr", has_text=case_number)
    row.locator("a", has_text="Record").click()
    page.fill("#f-received_at", RECEIVED_LOCAL)
    page.select_option("#f-channel", "phone")
    page.fill("#f-narrative", "bruises on the face; boyfriend at home tonight")
    page.select_option("#f-screening-jurisdiction", "THIS")
    for indicator in ("physical_abuse", "ap_access_24h", "child_vulnerable"):
        page.check(f"#f-indicators-{indicator}")
    page.click("button[value=complete]")
    expect(page.locator(".flash.info")).to_contain_text("completed")


def test_report_to_first_contact_to_reassignment_to_a_new_rule(sign_in: Any, site: Any) -> None:
    sam = sign_in("sam")
    case_number = file_report(sam.page)
    sam.shot("01-case-after-intake")
    record_report(sam.page, case_number)
    sam.shot("02-screener-inbox-after-screening")

    # The case is in an investigator's inbox, due 24 hours after the call.
    ian = sign_in("ian")
    row = ian.page.locator("#tasks tr", has_text=case_number)
    expect(row).to_contain_text("Make first face-to-face contact")
    expect(row).to_contain_text("Tue 04 Mar 2025 09:15")
    ian.shot("03-investigator-inbox")
    row.locator("a", has_text="first face-to-face").click()

    # A field error first: the form comes back with the fields marked and nothing changed.
    ian.page.click("button[value=complete]")
    expect(ian.page.locator(".errors-summary")).to_be_visible()
    expect(ian.page.locator("#f-contact_at-error")).to_be_visible()
    expect(ian.page.locator("#f-location-error")).to_be_visible()
    ian.shot("04-first-contact-field-errors")
    ian.page.fill("#f-contact_at", "2025-03-03T14:00")
    ian.page.select_option("#f-location", "child_residence")
    ian.page.fill("#f-children_seen", "Lia Example")
    ian.page.check("#f-rights_notice_given")
    ian.page.click("button[value=complete]")
    expect(ian.page.locator(".flash.info")).to_contain_text("completed for case " + case_number)
    ian.shot("05-first-contact-done")

    # The supervisor sees it and hands the next task to Ivy.
    sue = sign_in("sue")
    sue.page.click("text=Team")
    expect(sue.page.locator("#caseload tr[data-worker=ian]")).to_contain_text("1")
    task_row = sue.page.locator("#assigned tr", has_text=case_number).first
    expect(task_row.locator(".assignee")).to_have_text("Ian")
    task_row.locator("select").select_option("ivy")
    task_row.locator("button", has_text="Reassign").click()
    expect(sue.page.locator(".flash.info")).to_contain_text("assigned to Ivy")
    expect(
        sue.page.locator("#assigned tr", has_text=case_number).first.locator(".assignee")
    ).to_have_text("Ivy")
    sue.shot("06-dashboard-after-reassign")

    # The case page draws the investigation where it waits, with its timers.
    sue.page.locator("#assigned tr", has_text=case_number).first.locator(
        "a", has_text=case_number
    ).click()
    phase = sue.page.locator("details.phase[data-process=investigation]")
    diagram = phase.locator(":scope > .diagram")
    expect(diagram).to_have_attribute("data-ready", "1")
    expect(diagram.locator(".cw-active").first).to_be_visible()
    expect(diagram.locator(".cw-done").first).to_be_attached()
    # The called investigation work is drawn inside, where it really waits.
    inside = phase.locator("section.called[data-called=investigation_work] .diagram")
    expect(inside).to_have_attribute("data-ready", "1")
    expect(inside.locator(".cw-active").first).to_be_visible()
    expect(phase.locator("summary")).to_contain_text("waiting on")
    expect(phase.locator("summary")).not_to_contain_text("first_contact")
    # A timer's badge is a number at its corner, not a label over the drawing.
    badge = diagram.locator(".timer-badge").first
    expect(badge).to_have_text(re.compile(r"^\d+$"))
    expect(badge).to_have_attribute("title", re.compile("Investigation due: due "))
    box = badge.bounding_box()
    assert box is not None and box["width"] < 40
    # Zoom in, then fit again.
    before = diagram.locator("svg g.viewport").get_attribute("transform")
    phase.locator(".diagram-tools button[data-zoom=in]").first.click()
    expect(diagram.locator("svg g.viewport")).not_to_have_attribute("transform", before or "")
    phase.locator(".diagram-tools button[data-zoom=fit]").first.click()
    # The header still says who is signed in; decisions read in words, not codes.
    expect(sue.page.locator("header .me-link")).to_have_text("Sue")
    decisions = sue.page.locator(".decision")
    expect(decisions.filter(has_text="Screening")).to_contain_text("Decision: Screen in")
    expect(sue.page.locator("#decisions-heading + *")).not_to_contain_text("SCREEN_IN")
    expect(sue.page.locator("#people")).to_contain_text("Rita Reporter")  # supervisors see it
    sue.shot("07-case-page-diagram")
    ivy = sign_in("ivy")
    ivy.go(sue.page.url.removeprefix(site.base))
    expect(ivy.page.locator("#people")).to_contain_text("[redacted]")
    expect(ivy.page.locator("#people")).not_to_contain_text("Rita Reporter")

    # A designer raises the overdue window of rule 6 (P1, 24 h) to 48 h in dmn-js and deploys.
    dana = sign_in("dana")
    dana.page.click("text=Designer")
    dana.page.locator("section[data-version] tr", has_text="priority.dmn").first.locator(
        "a", has_text="Open"
    ).click()
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    cell = dana.page.locator('td[data-element-id="priority_r6_o2"]')
    expect(cell).to_have_text("24")
    cell.click()
    dana.page.keyboard.press("Control+A")
    dana.page.keyboard.type("48")
    dana.page.locator("h1").click()
    expect(cell).to_have_text("48")
    dana.page.click("#check")
    expect(dana.page.locator("#result")).to_contain_text("Valid")
    # Deploying shows what changes against the current version first, and asks.
    confirmed: list[str] = []
    dana.page.once("dialog", lambda d: (confirmed.append(d.message), d.accept()))
    dana.page.click("#deploy")
    expect(dana.page.locator("#result")).to_contain_text("Deployed as version 2")
    assert "against version 1" in confirmed[0]
    assert "Decision priority: rule 6 changed" in confirmed[0]
    dana.shot("08-dmn-edited-and-deployed")

    # The next case follows the new rule: first contact due 48 hours after the call.
    ctx = site.ctx
    screener = load_principal(ctx, "sam")
    opened = casefile.file_intake(ctx, screener, hotline_report())
    [task] = worklists.worklist(ctx, screener, worklists.Worklist(view="queue", case_id=opened.id))[
        0
    ]
    completion.complete(ctx, screener, uuid.UUID(task["id"]), RECORD_REPORT)
    supervisor = load_principal(ctx, "sue")  # whoever the case was routed to, her team's
    contacts, _ = worklists.worklist(
        ctx, supervisor, worklists.Worklist(view="team", case_id=opened.id)
    )
    [contact] = [t for t in contacts if t["element_id"] == "first_contact"]
    assert datetime.fromisoformat(contact["due_at"]) == RECEIVED + timedelta(hours=48)
    dana.page.click("text=Back to versions")
    # Running phases are counted per process and version; no case is named to the designer.
    running = dana.page.locator("#running")
    expect(running).to_be_visible()
    rows = [tuple(row.locator("td").all_inner_texts()) for row in running.locator("tbody tr").all()]
    assert ("investigation", "2", "1") in rows and ("investigation", "1", "1") in rows, rows
    assert re.match(r"\d{4}-", case_number)
    assert (
        case_number not in running.inner_text() and opened.case_number not in running.inner_text()
    )
