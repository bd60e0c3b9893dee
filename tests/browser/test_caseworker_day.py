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
    expect(sam.page.locator("#tasks")).to_contain_text("Lia")  # the case by its child too
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


def test_one_box_finds_a_case_by_number_name_or_birth_date(sign_in: Any, site: Any) -> None:
    number = screened_case(site)  # Lia, born 2022-01-05 (http_support.hotline_report)
    sue = sign_in("sue")
    for typed in (number, "lia", "01/05/2022", "2022-01-05"):
        sue.page.fill("#header-search", typed)
        sue.page.press("#header-search", "Enter")
        rows = sue.page.locator("main table tbody tr")
        expect(rows.filter(has_text=number)).to_have_count(1)
        expect(rows.filter(has_text=number)).to_contain_text("open")
    # Within what one may see: a worker of another team finds nothing.
    zed = sign_in("zed")
    zed.page.fill("#header-search", number)
    zed.page.press("#header-search", "Enter")
    expect(zed.page.locator("main")).not_to_contain_text(number)


def test_nothing_typed_is_lost_on_claim_or_on_a_conflict(sign_in: Any, site: Any) -> None:
    from engine.cases import casefile
    from engine.identity.users import load_principal
    from engine.tasks import queries
    from http_support import hotline_report

    sam_principal = load_principal(site.ctx, "sam")
    assert sam_principal is not None
    opened = casefile.file_intake(site.ctx, sam_principal, hotline_report())
    [task] = [t for t in queries.ready_tasks(site.ctx.db, case_id=opened.id)]
    sam = sign_in("sam")
    sam.go(f"/tasks/{task.id}")
    sam.page.fill("#f-narrative", "the neighbour heard shouting at night")
    sam.page.click("button[value=claim]")
    expect(sam.page.locator(".flash.info")).to_contain_text("kept as a draft")
    expect(sam.page.locator("#f-narrative")).to_have_value("the neighbour heard shouting at night")

    # Another window completes the task; this one's Complete keeps its text and says why.
    second = sign_in("sam")
    second.expect_refusals(409)
    second.go(f"/tasks/{task.id}")
    # (Its text stays in the window: this one does not save itself, so that the order of the
    # two windows' writes is the test's, not a timer's.)
    second.page.evaluate("document.getElementById('task-form').dataset.autosaveDelay = '3600000'")
    second.page.fill("#f-narrative", "typed in a second window")
    sam.page.fill("#f-received_at", "2025-03-03T09:15")
    sam.page.select_option("#f-channel", "phone")
    sam.page.select_option("#f-screening-jurisdiction", "THIS")
    sam.page.click("button[value=complete]")
    expect(sam.page.locator(".flash.info")).to_contain_text("completed")
    second.page.click("button[value=complete]")
    summary = second.page.locator(".errors-summary")
    expect(summary).to_contain_text("What you typed is still here")
    expect(summary).not_to_contain_text(str(task.id))
    # The case left intake with the report: the window shows the text, to copy.
    expect(second.page.locator("main")).to_contain_text("typed in a second window")


def test_a_form_saves_itself_as_one_types_and_comes_back_after_a_dropped_connection(
    sign_in: Any, site: Any
) -> None:
    from engine.cases import casefile
    from engine.identity.users import load_principal
    from engine.tasks import queries
    from http_support import hotline_report

    sam_principal = load_principal(site.ctx, "sam")
    assert sam_principal is not None
    opened = casefile.file_intake(site.ctx, sam_principal, hotline_report())
    [task] = [t for t in queries.ready_tasks(site.ctx.db, case_id=opened.id)]
    sam = sign_in("sam")
    sam.go(f"/tasks/{task.id}")
    status = sam.page.locator("#autosave-status")
    expect(status).to_contain_text("saved as a draft as you go")

    sam.page.fill("#f-narrative", "a neighbour heard a child crying")
    expect(status).to_contain_text("Draft saved at", timeout=15_000)
    saved = stored_task(site, task.id)
    assert saved.draft["narrative"] == "a neighbour heard a child crying"
    assert sam.page.locator("input[name=version]").input_value() == str(saved.version)

    # The connection drops in the car: the text is kept in the tab and said not to be saved.
    sam.expected.append("ERR_INTERNET_DISCONNECTED")  # the browser logs the failed save
    sam.page.context.set_offline(True)
    sam.page.fill("#f-narrative", "a neighbour heard a child crying, twice")
    expect(status).to_contain_text("Not saved", timeout=15_000)
    expect(status).to_have_class("muted small failed")
    sam.page.context.set_offline(False)
    sam.page.reload()
    narrative = sam.page.locator("#f-narrative")
    expect(narrative).to_have_value("a neighbour heard a child crying, twice")
    expect(status).to_contain_text("Restored what you typed")
    expect(status).to_contain_text("Draft saved at", timeout=15_000)

    # Completed straight after typing: the save on its way goes first, then the completion.
    sam.page.fill("#f-received_at", "2025-03-03T09:15")
    sam.page.select_option("#f-channel", "phone")
    sam.page.select_option("#f-screening-jurisdiction", "THIS")
    sam.page.click("button[value=complete]")
    expect(sam.page.locator(".flash.info")).to_contain_text("completed")
    done = stored_task(site, task.id)
    assert done.status == "completed" and done.draft is None
    # What was recorded is what was typed last.
    from engine.storage.tables import RecordEntry

    with site.ctx.db.reader() as session:
        [entry] = session.query(RecordEntry).filter_by(task_id=task.id).all()
        assert entry.data["narrative"] == "a neighbour heard a child crying, twice"
    sam.shot("day-05-drafts-save-themselves")


def stored_task(site: Any, task_id: Any) -> Any:
    from engine.storage.tables import HumanTask

    with site.ctx.db.reader() as session:
        found = session.get(HumanTask, task_id)
        assert found is not None
        session.expunge(found)
        return found


def test_a_supervisor_hands_several_tasks_at_once_all_or_none(sign_in: Any, site: Any) -> None:
    from engine.tasks import queries

    numbers = [screened_case(site), screened_case(site)]
    contacts = [t for t in queries.ready_tasks(site.ctx.db) if t.bpmn_id == "first_contact"]
    assert len(contacts) == 2
    sue = sign_in("sue")
    sue.go("/team")
    for number in numbers:
        sue.page.locator("#assigned tr", has_text=number).locator("input[name=task]").check()

    # Cal is an ongoing caseworker: a first contact is not his to make, so neither is given.
    sue.expect_refusals(422)
    sue.page.select_option("#bulk-user", "cal")
    sue.page.click("#bulk-assign button[type=submit]")
    expect(sue.page.locator("#bulk-error")).to_contain_text("Nothing was assigned")
    expect(sue.page.locator("#bulk-error")).to_contain_text("Cal does not hold the investigator")
    for number in numbers:  # the ticks are kept
        expect(
            sue.page.locator("#assigned tr", has_text=number).locator("input[name=task]")
        ).to_be_checked()
    assert [
        t.assignee for t in queries.ready_tasks(site.ctx.db) if t.bpmn_id == "first_contact"
    ] == [t.assignee for t in contacts]

    sue.page.select_option("#bulk-user", "ivy")
    sue.page.click("#bulk-assign button[type=submit]")
    expect(sue.page.locator(".flash.info")).to_contain_text("2 task(s) given to Ivy")
    for number in numbers:
        row = sue.page.locator("#assigned tr", has_text=number)
        expect(row.locator(".assignee")).to_have_text("Ivy")
    assert {
        t.assignee for t in queries.ready_tasks(site.ctx.db) if t.bpmn_id == "first_contact"
    } == {"ivy"}
    sue.shot("day-06-team-bulk-assign")


def test_an_approval_taken_from_team_returns_there_when_done(sign_in: Any, site: Any) -> None:
    from engine.cases import casefile
    from engine.identity.users import load_principal
    from engine.tasks import completion, queries
    from http_support import RECORD_REPORT, hotline_report

    sam = load_principal(site.ctx, "sam")
    assert sam is not None
    adult = [{"name": "Eli", "birth_date": "2005-07-01"}]
    opened = casefile.file_intake(site.ctx, sam, hotline_report(children=adult))
    [report] = queries.ready_tasks(site.ctx.db, case_id=opened.id)
    completion.complete(site.ctx, sam, report.id, RECORD_REPORT)  # screened out: sue approves

    sue = sign_in("sue")
    sue.go("/team")
    sue.page.locator("#approvals a", has_text="Approve the screening decision").click()
    sue.page.click("button[value=claim]")
    expect(sue.page.locator(".flash.info")).to_contain_text("The task is yours")
    assert "next=%2Fteam" in sue.page.url or "next=/team" in sue.page.url
    sue.page.select_option("#f-approved", label="Approve the decision")
    sue.page.fill("#f-review_notes", "an adult: not ours")
    sue.page.click("button[value=complete]")
    expect(sue.page.locator(".flash.info")).to_contain_text("completed")
    sue.page.wait_for_url(f"{site.base}/team")
