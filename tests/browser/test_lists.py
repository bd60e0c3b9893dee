"""Long lists come in pages; auditors read the audit trail, filtered, newest first; supervisors
sort their caseload."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from engine.cases import casefile
from engine.cases.opening import open_case
from engine.context import Actor
from engine.identity.users import load_principal
from http_support import hotline_report


def test_the_case_list_pages_through_many_cases(sign_in: Any, site: Any) -> None:
    screener = load_principal(site.ctx, "sam")
    numbers = {casefile.file_intake(site.ctx, screener, hotline_report()).case_number
               for _ in range(55)}  # fmt: skip
    sam = sign_in("sam")
    sam.go("/cases")
    expect(sam.page.locator("h1")).to_contain_text("(55)")
    expect(sam.page.locator("#cases tbody tr")).to_have_count(50)
    first = set(sam.page.locator("#cases tbody tr td:first-child a").all_inner_texts())

    sam.page.click("a[rel=next]")

    expect(sam.page.locator(".pager")).to_contain_text("page 2 of 2")
    expect(sam.page.locator("#cases tbody tr")).to_have_count(5)
    second = set(sam.page.locator("#cases tbody tr td:first-child a").all_inner_texts())
    assert first | second == numbers and not first & second


def test_an_auditor_reads_the_trail_newest_first(sign_in: Any, site: Any) -> None:
    screener = load_principal(site.ctx, "sam")
    opened = casefile.file_intake(site.ctx, screener, hotline_report())
    olga = sign_in("olga")
    olga.page.click("header nav >> text=Audit")
    rows = olga.page.locator("#audit tbody tr")
    expect(rows.first).to_contain_text("session.signed_in")  # her own sign-in, just now
    olga.page.fill("#actor", "sam")
    olga.page.click("button:has-text('Filter')")
    expect(olga.page.locator("#audit")).to_contain_text("case.opened")
    expect(olga.page.locator("#audit")).not_to_contain_text("olga")
    # The case by its number, as people know it; the link filters the trail to it.
    olga.page.locator("#audit a", has_text=opened.case_number).first.click()
    expect(olga.page).to_have_url(f"{site.base}/audit?case={opened.case_number}")
    expect(olga.page.locator("#audit tbody tr").first).to_contain_text(opened.case_number)
    olga.shot("audit-trail")

    ivy = sign_in("ivy")
    ivy.expect_refusals(403)
    answer = ivy.page.goto(f"{site.base}/audit")
    assert answer is not None and answer.status == 403


def test_a_supervisor_sorts_the_caseload_by_any_count(sign_in: Any, site: Any) -> None:
    opener = Actor("hotline-import", "intake_screener")
    for worker, count in (("ivy", 1), ("ian", 3)):
        for _ in range(count):
            data = {
                "team": "north",
                "assigned_to": worker,
                "people": [{"ref": "c", "role": "child"}],
            }
            open_case(site.ctx, opener, data)
    sue = sign_in("sue")
    sue.go("/team")
    rows = sue.page.locator("#caseload tbody tr")

    sue.page.click("#caseload a[data-sort=open_cases]")
    expect(sue.page.locator("#caseload th[aria-sort=descending]")).to_have_text("Open cases")
    assert rows.nth(0).get_attribute("data-worker") == "ian"
    assert rows.nth(1).get_attribute("data-worker") == "ivy"
    counts = [int(rows.nth(i).locator("td").nth(2).inner_text()) for i in range(rows.count())]
    assert counts == sorted(counts, reverse=True)

    sue.page.click("#caseload a[data-sort=name]")
    expect(sue.page.locator("#caseload th[aria-sort=ascending]")).to_have_text("Worker")
    names = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert names == sorted(names, key=str.casefold) and len(names) > 2
