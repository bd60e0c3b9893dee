"""A designer's mistakes are shown where they are and deploy nothing: a broken DMN cell is
marked in dmn-js with its element id, a broken form is named by file."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.tables import DefinitionVersion


def versions(site: Any) -> int:
    with site.ctx.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0)


def test_a_broken_decision_cell_is_marked_and_nothing_is_deployed(sign_in: Any, site: Any) -> None:
    dana = sign_in("dana")
    dana.go("/designer/versions/1/edit/priority.dmn")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    cell = dana.page.locator('td[data-element-id="priority_r6_o1"]')
    cell.click()
    dana.page.keyboard.press("Control+A")
    dana.page.keyboard.type("24 +")
    dana.page.locator("h1").click()

    dana.page.click("#deploy")

    expect(dana.page.locator("#result")).to_contain_text("nothing was deployed")
    problem = dana.page.locator("#problems li[data-element=priority_r6_o1]")
    expect(problem).to_contain_text("priority.dmn")
    expect(dana.page.locator("td.cw-problem-cell[data-element-id=priority_r6_o1]")).to_be_visible()
    dana.shot("designer-dmn-problem")
    assert versions(site) == 1


def test_a_broken_form_is_named_by_file(sign_in: Any, site: Any) -> None:
    dana = sign_in("dana")
    dana.go("/designer/versions/1/edit/forms/first_contact.schema.json")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    dana.page.fill("#source", '{"type": "object", "properties": {"x": {"type": "nope"}}}')

    dana.page.click("#check")

    expect(dana.page.locator("#problems")).to_contain_text("forms/first_contact.schema.json")
    assert versions(site) == 1


def test_a_process_opens_in_the_bpmn_modeler_and_round_trips_valid(sign_in: Any, site: Any) -> None:
    dana = sign_in("dana")
    dana.go("/designer/versions/1/edit/investigation.bpmn")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    expect(dana.page.locator('#editor [data-element-id="first_contact"]')).to_be_visible()

    dana.page.click("#check")

    expect(dana.page.locator("#result")).to_contain_text("Valid")
    dana.shot("designer-bpmn-modeler")
