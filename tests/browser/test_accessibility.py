"""Caseworkers include people who use screen readers and keyboards: every page passes axe-core's
checks (WCAG 2.1 A and AA) with no serious or critical violation."""

from __future__ import annotations

from typing import Any

import pytest
from axe_check import violations

from http_support import screened_case


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("sam", "/intakes/new"),
        ("sam", "/cases"),
        ("ian", "/work"),
        ("ian", "TASK"),
        ("sue", "CASE"),
        ("sue", "/team"),
        ("pat", "/team"),
        ("dana", "/designer"),
        ("alex", "/admin"),
        ("olga", "/audit"),
    ],
)
def test_pages_have_no_serious_accessibility_violations(
    sign_in: Any, site: Any, user: str, path: str
) -> None:
    screened_case(site)
    person = sign_in(user)
    if path in ("TASK", "CASE"):
        person.go("/work")
        link = "#tasks a[href^='/tasks/']" if path == "TASK" else "#tasks a[href^='/cases/']"
        if path == "CASE":
            person.go("/team")
            link = "#assigned a[href^='/cases/']"
        person.page.locator(link).first.click()
    else:
        person.go(path)
    assert violations(person.page) == []
