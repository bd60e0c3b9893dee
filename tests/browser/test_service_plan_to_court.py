"""From the service plan to the court, as the ongoing caseworker lives it: two referrals made
from the family plan's task page; a medical report and a photograph kept on the case; the
partner agency's own system (a local receiver) hears its referral, signed and cut of the
reporter, and answers "completed" with a signed event; the court report the caseworker then
downloads reads the findings, the contacts, the referrals and the documents, and never the
reporter's name, whom an ongoing caseworker may not see."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import requests
from axe_check import violations
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import update
from standardwebhooks import Webhook

from cps_cases import CASEWORKER, SUPERVISOR, CpsCase, investigate_to_approval, reported, texas
from engine.cases import referrals
from engine.identity.users import load_principal
from engine.storage.tables import Case, CasePerson
from http_support import signed_headers
from webhook_receiver import Receiver
from webhooks import inbound, subscriptions
from webhooks.delivery import DeliveryPolicy, deliver_due

REPORTER = "Rita Reporter"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108020000009077")


def test_referrals_documents_and_the_provider_answer_reach_the_court_report(
    sign_in: Any, site: Any, tmp_path: Path
) -> None:
    secret, answer_secret, receiver = partner_agencies(site)
    try:
        case = at_the_family_plan(site)
        cal = sign_in("cal")
        plan = case.task("family_plan")
        cal.go(f"/tasks/{plan.id}")

        # Two referrals from the plan's page: the mother to Hope House, the child to Safe Roof.
        refer(cal, "Maria (caregiver)", "parenting", "hope-house",
              f"Parenting classes; {REPORTER} worries about the shouting")  # fmt: skip
        refer(cal, "Lia Moreno (child)", "housing", "safe-roof", "the flat is unsafe for Lia")
        expect(cal.page.locator("#referral-progress")).to_contain_text(
            "2 referrals: 0 completed, 2 sent"
        )

        # A medical report and a photograph, kept on the case from its page.
        cal.go(f"/cases/{case.id}")
        keep(cal, tmp_path / "medical report.pdf", PDF, "Medical report, Lia", "medical")
        keep(cal, tmp_path / "bruise on the arm.png", PNG, "Photograph of the arm", "photograph")
        expect(cal.page.locator("#document-list tbody tr[data-document]")).to_have_count(2)

        # Hope House's system hears its referral, signed, and answers that it is completed.
        report = deliver_due(site.ctx, worker="test", policy=DeliveryPolicy(timeout_seconds=5),
                             rng=random.Random(1))  # fmt: skip
        assert report.delivered == 1, report
        [heard] = receiver.received
        offered = Webhook(secret).verify(heard.body, heard.headers)
        assert offered["type"] == "referral.offered" and REPORTER not in heard.body
        answered = answer(site, answer_secret, offered["data"], "completed")
        assert answered.status_code == 200, answered.text

        cal.go(f"/tasks/{plan.id}")
        expect(cal.page.locator("#referral-progress")).to_contain_text(
            "2 referrals: 1 completed, 1 sent"
        )
        assert violations(cal.page) == []
        cal.shot("service-plan-referrals-answered")

        # The court report, downloaded from the case page, read back from its PDF.
        cal.go(f"/cases/{case.id}")
        with cal.page.expect_download() as downloaded:
            cal.page.locator("#court-report a", has_text="PDF").click()
        text = pdf_text(downloaded.value.path())
        for said in ("Reason to believe",  # the finding
                     "First face-to-face contact",  # the chronology of contacts
                     "Hope House", "Safe Roof", "completed", "all twelve sessions",
                     "Medical report, Lia", "Photograph of the arm"):  # fmt: skip
            assert said in text, said
        assert "Rita" not in text and "Reporter" not in text
        assert cal.errors == []
    finally:
        receiver.stop()


def partner_agencies(site: Any) -> tuple[str, str, Receiver]:
    """Hope House (parenting, with its own receiver and inbound source) and Safe Roof
    (housing, updated by hand), as the administrator sets them up."""
    alex = load_principal(site.ctx, "alex")
    assert alex is not None
    referrals.save_provider(
        site.ctx, alex, referrals.NewProvider("hope-house", "Hope House", ["parenting"])
    )
    referrals.save_provider(
        site.ctx, alex, referrals.NewProvider("safe-roof", "Safe Roof", ["housing"])
    )
    receiver = Receiver().start()
    _, secret = subscriptions.create(
        site.ctx, alex, receiver.url, ["referral.*"], "Hope House intake", "hope-house"
    )
    routes = {"referral.status": {"message": "casework.referral_status"}}
    _, answer_secret = inbound.create_source(site.ctx, alex, "hope-house", routes)
    return secret, answer_secret, receiver


def at_the_family_plan(site: Any) -> CpsCase:
    """A report investigated to a finding and high risk, opened for in-home services, the ten
    days' contacts made: the family plan is next, and the case is Cal's."""
    case = reported(site.ctx, texas(2025, 3, 4, 9, 0), [("Lia Moreno", "2021-11-02")])
    investigate_to_approval(case, texas(2025, 3, 4, 14, 0), findings=("RTB",), risk="HIGH")
    case.complete(
        "approve_disposition",
        {"approved": True, "case_action_final": "OPEN", "service_type_final": "IN_HOME"},
        SUPERVISOR,
    )
    with site.ctx.db.writer() as session:
        session.execute(update(Case).where(Case.id == case.id).values(assigned_to="cal.caseworker"))
        session.add(CasePerson(case_id=case.id, role="reporter", name=REPORTER))
        session.commit()
    case.complete("ten_day_contacts", {"contacts_completed_on": case.today()}, CASEWORKER)
    return case


def refer(cal: Any, person: str, service: str, provider: str, reason: str) -> None:
    panel = cal.page.locator("#plan-referrals")
    panel.locator("#make-referral summary").click()
    panel.locator("#referral-person").select_option(label=person)
    panel.locator("#referral-service").select_option(service)
    panel.locator("#referral-provider").select_option(provider)
    panel.locator("#referral-reason").fill(reason)
    panel.locator("button", has_text="Send the referral").click()
    expect(cal.page.locator(".flash.info")).to_contain_text("referred to")


def keep(cal: Any, path: Path, content: bytes, title: str, category: str) -> None:
    path.write_bytes(content)
    cal.page.locator("#add-document summary").click()
    cal.page.set_input_files("#document-file", str(path))
    cal.page.fill("#document-title", title)
    cal.page.select_option("#document-category", category)
    cal.page.click("#add-document button[type=submit]")
    expect(cal.page.locator(".flash.info")).to_contain_text("is kept on the case")


def answer(site: Any, secret: str, offered: dict[str, Any], status: str) -> Any:
    body = json.dumps({"type": "referral.status", "data": {
        "case_number": offered["case_number"], "referral_id": offered["referral_id"],
        "status": status, "note": "all twelve sessions attended",
    }})  # fmt: skip
    headers = signed_headers(secret, f"hope-{status}", site.ctx.clock.now(), body)
    return requests.post(f"{site.base}/api/v1/inbound/hope-house", data=body, headers=headers,
                         timeout=30)  # fmt: skip


def pdf_text(path: Any) -> str:
    pages = PdfReader(path).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())
