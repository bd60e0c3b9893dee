"""Referrals from the case page: the administrator puts two partner agencies in the directory;
the worker refers the mother to one for parenting classes and the family to the other for
housing (a provider that does not offer the service is refused beside the form); the housing
referral is accepted by hand, the housing one accepted then completed by the agency's own signed
events; the court report lists both outcomes, with the reporter only for who may see them."""

from __future__ import annotations

import json
from typing import Any

import requests
from axe_check import violations
from playwright.sync_api import expect
from pypdf import PdfReader

from http_support import screened_case, signed_headers


def add_provider(alex: Any, pid: str, name: str, services: list[str]) -> None:
    alex.go("/admin")
    alex.page.locator("#providers summary").click()
    alex.page.fill("#provider-id", pid)
    alex.page.fill("#provider-name", name)
    for service in services:
        alex.page.check(f"#service-{service}")
    alex.page.fill("#provider-area", "Travis County")
    alex.page.click("#providers button[type=submit]")
    expect(alex.page.locator(".flash.info")).to_contain_text(f"{name} is in the directory")


def refer(sue: Any, person: str, service: str, provider: str, reason: str) -> None:
    sue.page.locator("#make-referral summary").click()
    sue.page.select_option("#referral-person", label=person)
    sue.page.select_option("#referral-service", service)
    sue.page.select_option("#referral-provider", provider)
    sue.page.fill("#referral-reason", reason)
    sue.page.click("#make-referral button[type=submit]")


def test_referrals_are_made_followed_forward_and_reported(sign_in: Any, site: Any) -> None:
    number = screened_case(site)
    alex = sign_in("alex")
    add_provider(alex, "hope-house", "Hope House", ["parenting", "counselling"])
    add_provider(alex, "safe-roof", "Safe Roof", ["housing"])
    expect(alex.page.locator("#provider-list")).to_contain_text("Hope House")

    sue = sign_in("sue")
    sue.go(f"/cases?q={number}")
    sue.page.locator("#cases a", has_text=number).click()
    sue.expect_refusals(422)
    refer(sue, "Maria (caregiver)", "parenting", "safe-roof", "parenting support after the report")
    expect(sue.page.locator("#referral-error")).to_contain_text("does not offer")
    expect(sue.page.locator("#referral-list tr[data-referral]")).to_have_count(0)

    sue.page.select_option("#referral-provider", "hope-house")
    sue.page.click("#make-referral button[type=submit]")
    expect(sue.page.locator(".flash.info")).to_contain_text("referred to Hope House")
    refer(sue, "Maria (caregiver)", "housing", "safe-roof", "the family lost its flat last week")
    rows = sue.page.locator("#referral-list tr[data-referral]")
    expect(rows).to_have_count(2)

    # Hope House tells the worker by phone: recorded by hand.
    parenting = sue.page.locator("#referral-list tr", has_text="Hope House")
    parenting.locator("summary", has_text="Record what happened").click()
    parenting.locator("select[name=status]").select_option("accepted")
    parenting.locator("input[name=note]").fill("first session Monday")
    parenting.locator("button", has_text="Save").click()
    expect(sue.page.locator(".flash.info")).to_contain_text("now accepted")

    # Safe Roof answers itself, with signed events to casework's inbound address.
    secret = inbound_source(site, "safe-roof")
    housing = sue.page.locator("#referral-list tr", has_text="Safe Roof")
    referral_id = housing.get_attribute("data-referral")
    for n, (status, note) in enumerate(
        (("accepted", "a flat from April"), ("completed", "moved in"))
    ):
        sent = signed(site, "safe-roof", secret, f"roof-{n}", {
            "type": "referral.status",
            "data": {"case_number": number, "referral_id": referral_id, "status": status,
                     "note": note},
        })  # fmt: skip
        assert sent.status_code == 200, sent.text
    sue.page.reload()
    housing = sue.page.locator("#referral-list tr", has_text="Safe Roof")
    expect(housing).to_have_attribute("data-status", "completed")
    expect(housing.locator("summary", has_text="Record what happened")).to_have_count(0)
    assert violations(sue.page) == []
    sue.shot("referrals-on-the-case")

    with sue.page.expect_download() as downloaded:
        sue.page.locator("#court-report a", has_text="PDF").click()
    text = pdf_text(downloaded.value.path())
    assert "Hope House" in text and "Safe Roof" in text and "moved in" in text
    assert "Rita Reporter" in text  # the supervisor may see the reporter

    # The investigator's copy: the same referrals and contacts, the reporter withheld.
    ian = sign_in("ian")
    ian.go(sue.page.url.removeprefix(site.base))
    with ian.page.expect_download() as downloaded:
        ian.page.locator("#court-report a", has_text="PDF").click()
    text = pdf_text(downloaded.value.path())
    assert "Safe Roof" in text and "Rita Reporter" not in text and "withheld" in text


def pdf_text(path: Any) -> str:
    pages = PdfReader(path).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())  # cells wrap lines


def inbound_source(site: Any, provider_id: str) -> str:
    """The provider's own inbound source, made by the administrator (the secret shown once)."""
    from engine.identity.users import load_principal
    from webhooks import inbound

    alex = load_principal(site.ctx, "alex")
    assert alex is not None
    routes = {"referral.status": {"message": "casework.referral_status"}}
    _, secret = inbound.create_source(site.ctx, alex, provider_id, routes)
    return secret


def signed(site: Any, source: str, secret: str, webhook_id: str, event: dict[str, Any]) -> Any:
    body = json.dumps(event)
    headers = signed_headers(secret, webhook_id, site.ctx.clock.now(), body)
    return requests.post(f"{site.base}/api/v1/inbound/{source}", data=body, headers=headers,
                         timeout=30)  # fmt: skip


def test_a_family_plan_makes_its_referrals_and_shows_their_progress(
    sign_in: Any, site: Any
) -> None:
    from cps_cases import CASEWORKER, open_quiet_case, texas
    from engine.cases import referrals
    from engine.identity.users import load_principal

    alex = load_principal(site.ctx, "alex")
    assert alex is not None
    hope = referrals.NewProvider("hope-house", "Hope House", ["parenting"], area="Travis County")
    referrals.save_provider(site.ctx, alex, hope)
    case = open_quiet_case(site.ctx, [("Ana", "2016-04-04")])
    case.at(texas(2025, 4, 1, 9, 0))
    case.message(
        "services_requested", {"from": "investigation", "final_risk": "HIGH", "case_action": "OPEN"}
    )
    case.complete("ten_day_contacts", {"contacts_completed_on": case.today()}, CASEWORKER)
    plan = case.task("family_plan")

    cal = sign_in("cal")
    cal.go(f"/tasks/{plan.id}")
    panel = cal.page.locator("#plan-referrals")
    expect(panel.locator("#referral-progress")).to_contain_text("0 referrals")
    panel.locator("#make-referral summary").click()
    panel.locator("#referral-person").select_option(label="Maria (caregiver)")
    panel.locator("#referral-service").select_option("parenting")
    panel.locator("#referral-provider").select_option("hope-house")
    panel.locator("#referral-reason").fill("parenting classes, as the plan says")
    panel.locator("button", has_text="Send the referral").click()

    # Back on the plan's task, the referral is part of its progress.
    expect(cal.page.locator(".flash.info")).to_contain_text("referred to Hope House")
    assert f"/tasks/{plan.id}" in cal.page.url
    expect(cal.page.locator("#referral-progress")).to_contain_text(
        "1 referral: 0 completed, 1 sent"
    )
    assert violations(cal.page) == []
    cal.shot("referrals-from-the-family-plan")
