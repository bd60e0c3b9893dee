"""A designer's mistakes are shown where they are and deploy nothing: a broken DMN cell is
marked in dmn-js with its element id, a broken form is named by file, a bundle uploaded from
the page is checked whole before anything is deployed; an earlier version is made current
again (a rollback) only once the designer confirms."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import func, select

from conftest import FIXTURES
from engine.storage.tables import DefinitionVersion


def versions(site: Any) -> int:
    with site.ctx.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0)


def zip_of(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.rglob("*"):
            if path.is_file():
                zipped.write(path, path.relative_to(folder).as_posix())
    return archive


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


def test_a_bundle_uploaded_from_the_page_is_checked_whole_then_deployed(
    sign_in: Any, site: Any, tmp_path: Path
) -> None:
    dana = sign_in("dana")
    dana.go("/designer")
    broken = FIXTURES / "broken" / "bad_expressions.bpmn"
    # Every deploy and every rollback asks first: the answers, in turn, and what was asked.
    asked: list[str] = []
    answers = iter([False, True, False, True, True])

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    dana.page.on("dialog", answer)

    dana.expect_refusals(422)
    dana.page.set_input_files("#bundle-files", [str(broken)])
    dana.page.click("button[value=deploy]")
    expect(dana.page.locator("#upload-problems")).to_contain_text("nothing was deployed")
    expect(dana.page.locator("#upload-problems")).to_contain_text("bad_expressions.bpmn:")
    assert versions(site) == 1

    # A zip of a whole, valid bundle: checked first (nothing deployed), then deployed.
    archive = zip_of(FIXTURES / "phases", tmp_path / "phases.zip")
    dana.page.set_input_files("#bundle-files", [str(archive)])
    dana.page.click("button[value=check]")
    expect(dana.page.locator("#upload-ok")).to_contain_text("No problems")
    changes = dana.page.locator("#upload-changes")
    expect(changes).to_contain_text("What changes against version 1")
    expect(changes).to_contain_text("Process closure: removed")  # not in the small bundle
    assert versions(site) == 1

    # Deploy shows the same changes and asks: "no" deploys nothing, "yes" deploys.
    dana.page.set_input_files("#bundle-files", [str(archive)])
    dana.page.click("button[value=deploy]")
    expect(dana.page.locator("#upload-form")).to_have_attribute("data-declined", "1")
    assert versions(site) == 1
    dana.page.click("button[value=deploy]")
    expect(dana.page.locator(".flash.info")).to_contain_text("Deployed as version 2")
    assert "against version 1" in asked[0] and asked[0] == asked[1]
    assert versions(site) == 2
    expect(dana.page.locator("[data-version='2'] .badge")).to_have_text("current")
    dana.shot("designer-upload")

    # Rolled back with eyes open: the page asks, a "no" changes nothing, a "yes" does.
    earlier = dana.page.locator("[data-version='1']")
    earlier.locator("button", has_text="Make this the current version").click()
    expect(dana.page.locator("[data-version='2'] .badge")).to_have_text("current")
    earlier.locator("button", has_text="Make this the current version").click()
    expect(dana.page.locator(".flash.info")).to_contain_text("Version 1 is the current version")
    expect(dana.page.locator("[data-version='1'] .badge")).to_have_text("current")
    assert len(asked) == 4 and "New cases and new phases will start on it" in asked[2]

    # The same zip again is version 2 made current again, not a silent nothing.
    dana.page.set_input_files("#bundle-files", [str(archive)])
    dana.page.click("button[value=deploy]")
    expect(dana.page.locator(".flash.info")).to_contain_text("version 2: it is current again")
    expect(dana.page.locator("[data-version='2'] .badge")).to_have_text("current")
    assert versions(site) == 2


def test_only_designers_and_administrators_may_upload(
    sign_in: Any, site: Any, tmp_path: Path
) -> None:
    sue = sign_in("sue")  # a supervisor: neither the designer's page nor its upload
    sue.expect_refusals(403)
    sue.go("/team")
    token = sue.page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = sue.page.request.post(
        f"{site.base}/designer/upload",
        multipart={
            "csrf_token": token or "",
            "action": "deploy",
            "files": {
                "name": "phases.zip",
                "mimeType": "application/zip",
                "buffer": zip_of(FIXTURES / "phases", tmp_path / "phases.zip").read_bytes(),
            },
        },
        max_redirects=0,
    )
    assert answer.status == 403
    assert versions(site) == 1


def test_leaving_the_editor_with_edits_not_deployed_asks_first(sign_in: Any, site: Any) -> None:
    dana = sign_in("dana")
    asked: list[str] = []
    leave = False

    def answer(dialog: Any) -> None:
        asked.append(dialog.type)
        if leave:
            dialog.accept()  # "Leave page"
        else:
            dialog.dismiss()  # "Stay on page"

    dana.page.on("dialog", answer)
    dana.go("/designer/versions/1/edit/priority.dmn")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    dana.page.locator('td[data-element-id="priority_r6_o1"]').click()
    dana.page.keyboard.press("End")
    dana.page.keyboard.type(" ")
    dana.page.locator("h1").click()
    expect(dana.page.locator("#editor")).to_have_attribute("data-unsaved", "1")

    dana.page.get_by_role("link", name="Designer").first.click()

    expect(dana.page.locator("#editor")).to_be_visible()  # still here, the edit kept
    assert asked == ["beforeunload"]
    assert "/edit/priority.dmn" in dana.page.url

    # A form's text: once deployed, leaving asks nothing.
    leave = True
    dana.go("/designer/versions/1/edit/forms/first_contact.schema.json")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    source = dana.page.locator("#source")
    source.click()
    dana.page.keyboard.press("Control+End")
    dana.page.keyboard.type("\n")
    expect(dana.page.locator("#editor")).to_have_attribute("data-unsaved", "1")
    dana.page.click("#deploy")  # what changes is shown and confirmed first
    expect(dana.page.locator("#result")).to_contain_text("version")
    expect(dana.page.locator("#editor")).not_to_have_attribute("data-unsaved", "1")
    dana.page.get_by_role("link", name="Designer").first.click()
    dana.page.wait_for_url(f"{site.base}/designer")
    # The table left on purpose, the deploy confirmed; leaving the deployed form asked nothing.
    assert asked == ["beforeunload", "beforeunload", "confirm"]
