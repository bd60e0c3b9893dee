"""A caseworker's day in the browser: the header says what is due today, overdue and waiting
as alerts; My work opens where the work is and every tab counts its tasks; an empty list says
where the work is; a mistyped address or a form's address reloaded is a page with a way back,
not a machine's answer."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from http_support import screened_case


def test_the_screener_opens_on_the_work_waiting_in_her_roles(sign_in: Any, site: Any) -> None:
    from engine.cases import casefile
    from engine.identity.users import load_principal
    from http_support import hotline_report

    sam_principal = load_principal(site.ctx, "sam")
    assert sam_principal is not None
    casefile.file_intake(site.ctx, sam_principal, hotline_report())

    sam = sign_in("sam")
    sam.go("/work")
    # Nothing is assigned to Sam: the page opens on what waits in her roles, counted.
    expect(sam.page.locator(".tabs a[aria-current=page]")).to_have_attribute("data-view", "queue")
    expect(sam.page.locator(".tabs a[data-view=queue] .count")).to_have_text("1")
    expect(sam.page.locator(".tabs a[data-view=mine] .count")).to_have_text("0")
    expect(sam.page.locator("#tasks")).to_contain_text("Record hotline report")
    sam.page.locator(".tabs a[data-view=mine]").click()
    empty = sam.page.locator("p.empty")
    expect(empty).to_contain_text("Nothing is assigned to you")
    expect(empty.locator("a")).to_have_text("Unassigned, in my roles (1)")
    sam.shot("day-01-screener-empty-state-points-to-the-queue")


def test_the_header_counts_todays_work_and_alerts(sign_in: Any, site: Any) -> None:
    screened_case(site)  # a P1 first contact, due within 24 hours, for an investigator
    from engine.tasks import queries

    [contact] = [t for t in queries.ready_tasks(site.ctx.db) if t.bpmn_id == "first_contact"]
    worker = sign_in(contact.assignee)
    worker.go("/work")
    header = worker.page.locator(".at-a-glance")
    expect(header.locator("#overdue-count strong")).to_have_text("0")
    expect(header.locator("#alert-count strong")).to_have_text("0")
    due = worker.page.locator("#due-today-count strong").inner_text()
    assert due in ("0", "1")  # due tomorrow morning or today, by the agency's clock

    # The window closes: the task is overdue and an alert waits, in the header of every page.
    from datetime import timedelta

    from engine.deadlines.timers import fire_due_timers

    assert contact.due_at is not None
    site.ctx.clock.move_to(contact.due_at + timedelta(minutes=1))
    fire_due_timers(site.ctx, worker="test")
    worker = sign_in(contact.assignee)  # a day later: signed in again
    worker.go("/cases")
    header = worker.page.locator(".at-a-glance")
    expect(header.locator("#overdue-count strong")).to_have_text("1")
    expect(header.locator("#overdue-count")).to_have_class("alarm")
    expect(header.locator("#alert-count strong")).not_to_have_text("0")
    worker.shot("day-02-header-counts-overdue")


def test_a_wrong_address_is_a_page_with_a_way_back(sign_in: Any, site: Any) -> None:
    ian = sign_in("ian")
    ian.expect_refusals(404, 405)
    answer = ian.page.goto(f"{site.base}/no-such-page")
    assert answer is not None and answer.status == 404
    assert "text/html" in answer.headers["content-type"]
    expect(ian.page.locator("h1")).to_have_text("Not found")
    expect(ian.page.locator("main a", has_text="Back to my work")).to_be_visible()
    # A form's address, reloaded: 405 as a page, saying what to do.
    answer = ian.page.goto(f"{site.base}/cases/00000000-0000-4000-8000-000000000000/contacts")
    assert answer is not None and answer.status == 405
    expect(ian.page.locator("main")).to_contain_text("only takes a form's submission")
    # Programs still get the API's problem document.
    api = ian.page.request.get(f"{site.base}/api/v1/no-such-thing")
    assert api.status == 404 and api.headers["content-type"] == "application/problem+json"
