"""A designer changes the process safely, in the browser: a gateway's condition and a timer
edited in the modeler's properties panel, a bad expression and a bare ISO timer shown on their
fields as they are typed; the edit deployed after confirming what it changes; a scenario added
with an uploaded bundle; a case started on the new version, a rollback, and the running case
moved to the version rolled back to."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from conftest import ROOT
from cps_cases import reported, texas
from engine.storage.tables import ProcessInstance

SCENARIO = b"""{
  "title": "Screened in at priority 2, still after the designer's edits",
  "process": "intake", "profile": "us-tx", "start": "2025-03-03T09:00:00-06:00",
  "data": {"children": [{"person_id": "c1", "name": "Lia", "birth_date": "2021-11-02"}],
           "allegations": []},
  "steps": [
    {"complete": "record_report", "with": {"received_at": "2025-03-03T09:00:00-06:00",
      "channel": "phone", "narrative": "left alone",
      "screening": {"jurisdiction": "THIS", "locatable": true, "meets_statutory_definition": true},
      "indicators": {}}},
    {"expect_tasks": ["first_contact"]}
  ]
}"""


def select_element(dana: Any, element_id: str, named: str) -> None:
    """The element found with the modeler's search (Ctrl+F, its name, the result with its
    id), as a designer finds one in a large diagram."""
    dana.page.locator("#editor .djs-container").click(position={"x": 5, "y": 5})
    dana.page.keyboard.press("Control+f")
    dana.page.locator(".djs-search-input input").press_sequentially(named)
    found = dana.page.locator(".djs-search-result", has_text=element_id)
    found.click()
    expect(dana.page.locator("#properties .bio-properties-panel-header")).to_contain_text(named)


def entry(dana: Any, entry_id: str) -> Any:
    return dana.page.locator(f'#properties [data-entry-id="{entry_id}"]')


def type_into(dana: Any, entry_id: str, text: str) -> None:
    field = entry(dana, entry_id).locator("textarea, input").first
    field.fill(text)


def instance_version(site: Any, case_id: Any) -> int:
    with site.ctx.db.reader() as session:
        return int(
            session.scalars(
                select(ProcessInstance.version_id).where(
                    ProcessInstance.case_id == case_id,
                    ProcessInstance.process_id == "investigation",
                )
            ).one()
        )


def test_a_designer_edits_deploys_rolls_back_and_moves_a_running_case(
    sign_in: Any, site: Any, tmp_path: Path
) -> None:
    dana = sign_in("dana")
    asked: list[str] = []
    dana.page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    dana.go("/designer/versions/1/edit/investigation.bpmn")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")

    # A gateway's condition: a broken expression is shown on its field, a good one clears it.
    select_element(dana, "flow_cpi_screening_check_to_cpi_screening", "yes")
    condition = entry(dana, "cw-condition")
    expect(condition.locator("textarea")).to_have_value("formal_cpi_screening == True")
    type_into(dana, "cw-condition", "formal_cpi_screening ==")
    expect(condition.locator(".bio-properties-panel-error")).to_contain_text("SyntaxError")
    type_into(dana, "cw-condition", "formal_cpi_screening is True")
    expect(condition.locator(".bio-properties-panel-error")).to_have_count(0)

    # A timer: a bare ISO value is refused with how to write it; its deadline is named.
    select_element(dana, "cpi_screening_deadline", "CPI screening due")
    timer = entry(dana, "cw-timer")
    expect(timer.locator("input")).to_have_value("cpi_screening_due")
    type_into(dana, "cw-timer", "PT24H")
    expect(timer.locator(".bio-properties-panel-error")).to_contain_text(
        'write it in quotes ("PT24H")'
    )
    type_into(dana, "cw-timer", "end_of_day(cpi_screening_due)")
    expect(timer.locator(".bio-properties-panel-error")).to_have_count(0)
    dana.shot("properties-panel-timer")

    # Deploy: what changes is shown and confirmed first.
    dana.page.click("#deploy")
    expect(dana.page.locator("#result")).to_contain_text("Deployed as version 2")
    assert "against version 1" in asked[-1]
    # Only what the designer changed: the modeler's own way of writing the file is no change.
    assert "Process investigation: 2 elements changed: " in asked[-1], asked[-1]
    assert "CPI screening due" in asked[-1] and "yes (" in asked[-1]

    # A scenario added with a bundle upload: checked, shown, confirmed, deployed.
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in (ROOT / "bpmn").rglob("*"):
            if path.is_file():
                zipped.write(path, path.relative_to(ROOT / "bpmn").as_posix())
        zipped.writestr("scenarios/still_screened_in.json", SCENARIO)
    dana.go("/designer")
    dana.page.set_input_files("#bundle-files", [str(archive)])
    dana.page.click("button[value=deploy]")
    expect(dana.page.locator(".flash.info")).to_contain_text("Deployed as version 3")
    assert "against version 2" in asked[-1], asked[-1]
    assert "scenarios/still_screened_in.json: added" in asked[-1]

    # A case starts on version 3; version 2 is made current again; the case is moved to it.
    case = reported(site.ctx, texas(2025, 3, 3, 9, 15), [("Lia", "2021-11-02")])
    assert instance_version(site, case.id) == 3
    dana.go("/designer")
    dana.page.locator("[data-version='2'] button", has_text="Make this the current version").click()
    expect(dana.page.locator("[data-version='2'] .badge")).to_have_text("current")

    dana.page.locator("#migrate summary").click()
    dana.page.select_option("#migrate-from", "3")
    dana.page.select_option("#migrate-to", "2")
    dana.page.fill("#migrate-process", "investigation")
    dana.page.click("#migrate button[value=dry_run]")
    row = dana.page.locator("#migration tr[data-instance]")
    expect(row).to_contain_text("would move")
    expect(row).to_contain_text("first_contact")
    assert instance_version(site, case.id) == 3
    dana.page.click("#migrate button[value=move]")
    expect(dana.page.locator("#migration tr[data-instance]")).to_contain_text("moved")
    assert instance_version(site, case.id) == 2
    assert dana.errors == []
    dana.shot("designer-migrated")
