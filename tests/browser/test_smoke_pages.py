"""Every role's own pages draw, with what each is for, on an empty agency: the heading, the
navigation that role has (and not the others'), and the page's main part."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

# user, path, heading, the page's main part, the navigation they see, what they must not see
PAGES = [
    ("sam", "/intakes/new", "Hotline report", "form", ["New report", "Cases"], "Designer"),
    ("sam", "/cases", "Cases", "#cases", ["My work", "Cases"], "Admin"),
    ("ian", "/work", "My work", "main", ["My work", "Cases"], "New report"),
    ("sue", "/team", "Team north", "main", ["Team", "New report"], "Designer"),
    ("dana", "/designer", "Process definitions", "#running", ["Designer"], "Team"),
    ("alex", "/admin", "Administration", "main", ["Admin", "Designer"], "Audit"),
    ("olga", "/audit", "Audit trail", "main", ["Audit"], "Admin"),
]


@pytest.mark.parametrize(
    ("user", "path", "heading", "part", "navigation", "hidden"),
    PAGES,
    ids=[f"{user}{path}" for user, path, *_ in PAGES],
)
def test_a_roles_page_draws_with_its_own_navigation(
    sign_in: Any, user: str, path: str, heading: str, part: str, navigation: list[str], hidden: str
) -> None:
    person = sign_in(user)

    page = person.go(path)

    expect(page.locator("h1")).to_contain_text(heading)
    expect(page.locator(part).first).to_be_visible()
    nav = page.locator("nav")
    for label in navigation:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    person.shot(f"smoke-{user}-{path.strip('/').replace('/', '-')}")
