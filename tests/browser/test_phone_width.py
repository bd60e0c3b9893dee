"""Investigators work from a phone between home visits: every page fits a 390-pixel screen
(no sideways scrolling of the page; wide tables scroll inside themselves), and a laptop's too.
Screenshots of each role's start page at both widths go to test-artifacts/browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from http_support import screened_case

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
START_PAGES = [
    ("sam", "/work"),
    ("ian", "/work"),
    ("sue", "/team"),
    ("pat", "/team"),
    ("dana", "/designer"),
    ("alex", "/admin"),
    ("olga", "/audit"),
]


def overflow(page: Any) -> int:
    """How many pixels the page is wider than the screen."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_every_start_page_and_the_case_pages_fit_the_screen(
    sign_in: Any, site: Any, size: dict[str, int]
) -> None:
    screened_case(site)
    wide: dict[str, int] = {}
    for user, path in START_PAGES:
        person = sign_in(user)
        person.page.set_viewport_size(size)
        person.go(path)
        if (spill := overflow(person.page)) > 0:
            wide[f"{user} {path}"] = spill
        person.shot(f"start-{user}-{'phone' if size is PHONE else 'laptop'}")
    sue = sign_in("sue")
    sue.page.set_viewport_size(size)
    for path in ("/cases", "/intakes/new", "/me"):
        sue.go(path)
        if (spill := overflow(sue.page)) > 0:
            wide[f"sue {path}"] = spill
    sue.go("/team")
    for path in ("/cases?q=Lia", "/no-such-page"):
        sue.expect_refusals(404)
        sue.go(path)
        if (spill := overflow(sue.page)) > 0:
            wide[f"sue {path}"] = spill
    sue.go("/team")
    # Lists are cards on a phone: each value with its column's name, nothing off to the side.
    row = sue.page.locator("#assigned tbody tr").first
    shown = row.evaluate("r => getComputedStyle(r).display")
    assert shown == ("block" if size is PHONE else "table-row")
    expect(row.locator("td[data-label=Case]")).to_be_visible()
    sue.page.locator("#assigned a[href^='/cases/']").first.click()
    if (spill := overflow(sue.page)) > 0:
        wide["sue case page"] = spill
    # The case page opens on its contents, not a drawing: on a phone the phases are folded
    # (each summary says where it waits) and drawn when opened.
    expect(sue.page.locator("nav.toc a", has_text="Deadlines")).to_be_visible()
    opened = sue.page.locator("details.phase[open]")
    if size is PHONE:
        expect(opened).to_have_count(0)
        sue.page.locator("details.phase[data-process=investigation] > summary").click()
        expect(
            sue.page.locator("details.phase[data-process=investigation] > .diagram")
        ).to_have_attribute("data-ready", "1")
        if (spill := overflow(sue.page)) > 0:
            wide["sue case page, diagram open"] = spill
        sue.shot("case-page-phone-diagram-open")
    else:
        expect(opened).to_have_count(1)
    sue.page.locator("#case-tasks a").first.click()
    if (spill := overflow(sue.page)) > 0:
        wide["sue task page"] = spill
    assert wide == {}
