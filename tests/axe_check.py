"""axe-core's WCAG 2.1 A and AA checks on a page, as the browser tests run them."""

from __future__ import annotations

from playwright.sync_api import Page

from conftest import ROOT

AXE = ROOT / "workflows" / "web" / "node_modules" / "axe-core" / "axe.min.js"


def violations(page: Page) -> list[str]:
    """The serious and critical violations on the page as it stands."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
