"""An England case in the browser, beside the agency's Texas work: the social worker finds the
referral in My work, reads it with England's dates and role names, decides on it through the
form, and the strategy discussion follows."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from engine.cases.casefile import file_intake
from engine.context import Actor
from engine.identity.users import NewUser, create_team, create_user, load_principal
from http_support import password_of

SETUP = Actor("setup", "administrator")
LONDON = ZoneInfo("Europe/London")


def test_an_england_referral_reads_and_is_decided_as_england_writes_it(
    sign_in: Any, site: Any
) -> None:
    ctx = site.ctx
    create_team(ctx, SETUP, "westminster", "Westminster", "region-uk")
    for user, roles in (("fay", ["intake_screener"]), ("sally", ["ongoing_caseworker"])):
        hashed = generate_password_hash(password_of(user))
        create_user(ctx, SETUP, NewUser(user, user.title(), roles, "westminster",
                                        password_hash=hashed))  # fmt: skip
    front_door = load_principal(ctx, "fay")
    assert front_door is not None
    filed = file_intake(ctx, front_door, {
        "team": "westminster", "profile_id": "england", "summary": "often hungry at nursery",
        "children": [{"name": "Amira Example", "birth_date": "2021-09-14"}],
        "allegations": [{"victim": 0, "type": "NEGLECT"}],
    })  # fmt: skip
    today = ctx.clock.now().astimezone(LONDON).strftime("%d/%m/%Y")

    sally = sign_in("sally")
    page = sally.go("/work")
    row = page.locator("#tasks tr", has_text=filed.case_number)
    # In the list too: England's name for the role, and its due date as England writes it.
    expect(row).to_contain_text("Social worker")
    expect(row).to_contain_text(re.compile(r"\d\d/\d\d/\d{4} 23:59"))
    row.locator("a", has_text="Decide on the referral").click()
    # England's names and dates: the social worker's task, opened today as 03/03/2025 is.
    expect(page.locator("main")).to_contain_text("Social worker")
    sally.shot("england-decide-on-referral")
    page.select_option("#f-decision", "SECTION_47")
    page.fill("#f-decision_reasons", "bruising and hunger: reasonable cause to suspect harm")
    page.check("#f-consent_sought")
    page.click("button[value=complete]")
    expect(page.locator(".flash.info")).to_contain_text("completed")

    page = sally.go(f"/cases/{filed.id}")
    expect(page.locator("main")).to_contain_text(f"{today}")
    expect(page.locator("main")).to_contain_text("Hold the strategy discussion")
    # A contact typed in London time reads back as typed (not in the agency's Texas time).
    earlier = (ctx.clock.now() - timedelta(hours=3)).astimezone(LONDON).replace(second=0)
    page.click("text=Record a contact")
    page.fill("#f-occurred_at", earlier.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#f-type", "face_to_face")
    page.select_option("#f-location", "child_residence")
    page.fill("#f-narrative", "Amira seen at home with her mother")
    page.click("text=Record contact")
    expect(page.locator(".flash.info")).to_contain_text("Contact recorded")
    expect(page.locator("#contacts, main").first).to_contain_text(
        earlier.strftime("%d/%m/%Y %H:%M")
    )
    sally.shot("england-case")
