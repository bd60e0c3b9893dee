"""A worker's inbox and task page over time: deadlines passing mark tasks overdue and raise
alerts to acknowledge; a half-filled form is kept as a draft; administrators manage people and
tokens from the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests
from playwright.sync_api import expect

from engine.deadlines.timers import fire_due_timers
from http_support import screened_case


def test_a_passed_deadline_marks_the_task_and_raises_an_alert_to_acknowledge(
    sign_in: Any, site: Any
) -> None:
    case_number = screened_case(site)
    site.ctx.clock.advance(timedelta(hours=26))
    fire_due_timers(site.ctx, worker="test")

    ian = sign_in("ian")
    row = ian.page.locator("#tasks tr", has_text="Make first face-to-face contact")
    expect(row).to_have_class("overdue")
    expect(row.locator(".badge.overdue")).to_have_text("Overdue")
    expect(row).to_contain_text("Tue 04 Mar 2025 09:15")  # the due date it missed stays shown
    alert = ian.page.locator("[data-alert]", has_text=case_number).first
    expect(alert).to_be_visible()
    ian.shot("inbox-overdue-with-alert")
    count = ian.page.locator("[data-alert]").count()

    alert.locator("button", has_text="Acknowledge").click()

    expect(ian.page.locator(".flash.info")).to_have_text("Alert acknowledged.")
    expect(ian.page.locator("[data-alert]")).to_have_count(count - 1)


def test_a_draft_is_kept_until_completion(sign_in: Any, site: Any) -> None:
    screened_case(site)
    ian = sign_in("ian")
    ian.page.locator("#tasks a", has_text="first face-to-face").click()
    ian.page.select_option("#f-location", "school")
    ian.page.fill("#f-notes", "teacher present")

    ian.page.click("button[value=save]")

    expect(ian.page.locator(".flash.info")).to_have_text("Draft saved.")
    ian.page.reload()
    expect(ian.page.locator("#f-location")).to_have_value("school")
    expect(ian.page.locator("#f-notes")).to_have_value("teacher present")


def test_an_administrator_adds_a_worker_and_gives_them_a_token(sign_in: Any, site: Any) -> None:
    alex = sign_in("alex")
    alex.go("/admin")
    alex.page.click("text=Add a user")
    alex.page.fill("#user_id", "nia")
    alex.page.fill("#display_name", "Nia Investigator")
    alex.page.check("#role-investigator")
    alex.page.select_option("#team_id", "north")
    # A password too short: refused, and what was typed (but the password) is still there.
    alex.expect_refusals(422)
    alex.page.fill("#password", "short")
    alex.page.click("button:has-text('Add user')")
    expect(alex.page.locator("#user-error")).to_contain_text("at least 12 characters")
    expect(alex.page.locator("#display_name")).to_have_value("Nia Investigator")
    expect(alex.page.locator("#role-investigator")).to_be_checked()
    expect(alex.page.locator("#password")).to_have_value("")
    alex.page.fill("#password", "a-long-enough-password")
    alex.page.click("button:has-text('Add user')")
    expect(alex.page.locator(".flash.info")).to_have_text("User nia added.")

    alex.page.locator("tr[data-user=nia] button", has_text="New token").click()
    token = alex.page.locator("#secret").inner_text().strip()
    me = requests.get(
        f"{site.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["roles"] == ["investigator"]
    alex.shot("admin-token-shown-once")

    alex.go("/admin")
    alex.page.locator("tr[data-user=nia] button", has_text="Revoke tokens").click()
    expect(alex.page.locator(".flash.info")).to_contain_text("1 token of Nia Investigator revoked")
    again = requests.get(
        f"{site.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert again.status_code == 401


def test_a_report_names_each_allegations_child_and_perpetrator_from_those_typed(
    sign_in: Any, site: Any
) -> None:
    sam = sign_in("sam")
    page = sam.go("/intakes/new")
    victim = page.locator("#f-allegations-0-victim")
    expect(victim.locator("option")).to_have_text(["—"])  # no child typed yet

    page.fill("#f-children-0-name", "Lia Example")
    page.click("fieldset[data-rows=children] > .add-row")
    page.fill("#f-children-1-name", "Ben Example")
    page.click("fieldset[data-rows=alleged_perpetrators] > .add-row")
    page.fill("#f-alleged_perpetrators-0-name", "Rob Example")
    expect(victim.locator("option")).to_have_text(["—", "1 — Lia Example", "2 — Ben Example"])
    page.select_option("#f-allegations-0-victim", label="2 — Ben Example")
    page.select_option("#f-allegations-0-perpetrator", label="1 — Rob Example")
    page.select_option("#f-allegations-0-type", "NSUP")

    # A name corrected after the choice keeps the choice and shows the new name.
    page.fill("#f-children-1-name", "Benjamin Example")
    expect(victim.locator("option:checked")).to_have_text("2 — Benjamin Example")

    # A second allegation added later offers the same people.
    page.click("fieldset[data-rows=allegations] > .add-row")
    page.select_option("#f-allegations-1-victim", label="1 — Lia Example")
    page.select_option("#f-allegations-1-type", "PHAB")
    page.click("text=File report")

    expect(page.locator(".flash.info")).to_contain_text("Report filed")
    allegations = page.locator("main")
    expect(allegations).to_contain_text("Neglectful supervision (NSUP) — Benjamin Example")
    expect(allegations).to_contain_text("Physical abuse (PHAB) — Lia Example")
