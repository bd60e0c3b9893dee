"""A designer edits a task's form beside a live preview of the page it draws: a field added in
the JSON appears in the preview as the task page would show it, a broken schema is named
(and the preview kept, dimmed) until it is mended, and the edit deploys after confirming what
it changes. A user task's form that does not exist yet opens as a starting form; a diagram
drawn in Camunda Modeler, checked on the designer page, lists what casework runs instead."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from conftest import ROOT

FORM = "forms/review_visit_location.schema.json"


def test_a_form_is_edited_beside_the_page_it_draws_and_deployed(sign_in: Any) -> None:
    dana = sign_in("dana")
    asked: list[str] = []
    dana.page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    dana.go(f"/designer/versions/1/edit/{FORM}")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    preview = dana.page.locator("#form-preview")
    expect(preview.locator("legend, label").filter(has_text="Your decision")).to_have_count(1)
    expect(preview).to_contain_text("Send it back with my notes")

    # A new field, typed into the JSON: the preview draws it as the task page will.
    form = json.loads((ROOT / "bpmn" / FORM).read_text())
    form["properties"]["seen_by_phone"] = {
        "type": "boolean", "title": "The supervisor spoke to the child by phone", "default": False
    }  # fmt: skip
    dana.page.fill("#source", json.dumps(form, indent=2))
    expect(preview).to_contain_text("The supervisor spoke to the child by phone")
    expect(preview.locator("input[type=checkbox][name=seen_by_phone]")).to_have_count(1)

    # A broken schema is named; the last good preview stays, dimmed, until it is mended.
    dana.page.fill("#source", json.dumps(form)[:-1])
    expect(dana.page.locator("#form-problems li")).to_contain_text("not valid JSON")
    expect(preview).to_have_class("stale")
    form["properties"]["seen_by_phone"]["type"] = "banana"
    dana.page.fill("#source", json.dumps(form, indent=2))
    expect(dana.page.locator("#form-problems li")).to_contain_text("not a valid JSON Schema")
    form["properties"]["seen_by_phone"]["type"] = "boolean"
    dana.page.fill("#source", json.dumps(form, indent=2))
    expect(dana.page.locator("#form-problems li")).to_have_count(0)
    expect(preview).not_to_have_class("stale")
    dana.shot("form-editor-preview")

    dana.page.click("#deploy")
    expect(dana.page.locator("#result")).to_contain_text("Deployed as version 2")
    assert FORM in asked[-1], asked[-1]
    assert dana.errors == []


def test_a_task_s_form_that_does_not_exist_yet_opens_as_a_starting_form(sign_in: Any) -> None:
    dana = sign_in("dana")
    dana.go("/designer/versions/1/edit/forms/call_the_school.schema.json")
    expect(dana.page.locator("#editor")).to_have_attribute("data-ready", "1")
    expect(dana.page.locator("#form-preview")).to_contain_text("Call the school")
    expect(dana.page.locator("#form-preview label")).to_contain_text("Notes")

    # No user task of that id yet: validation says so, and nothing is deployed.
    dana.page.click("#check")
    expect(dana.page.locator("#problems")).to_contain_text("no user task 'call_the_school'")
    assert dana.errors == []


def test_a_camunda_drawn_diagram_checked_on_the_designer_page_shows_what_runs_instead(
    sign_in: Any,
) -> None:
    dana = sign_in("dana")
    dana.go("/designer")
    camunda = ROOT / "tests" / "fixtures" / "camunda"
    dana.page.set_input_files("#bundle-files", [str(p) for p in sorted(camunda.iterdir())])
    dana.page.click("button[value=check]")

    expect(dana.page.locator("#dry-run-reach")).to_contain_text(
        "Validation's dry run reached 3 of 3 user tasks and 1 of 1 timers"
    )
    translations = dana.page.locator("#translations")
    translations.locator("summary").click()
    row = translations.locator("tr", has_text="Flow_approved")
    expect(row).to_contain_text("${approved}")
    expect(row.locator("td").last).to_have_text("approved")
    expect(translations.locator("tr", has_text="Rule_young_age")).to_contain_text("0 <= ? <= 5")
    assert dana.errors == []
