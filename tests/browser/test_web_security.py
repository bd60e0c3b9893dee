"""The pages keep the API's rules: sign-in is checked and audited, every form carries a CSRF
token, a case someone may not see does not exist for them, and each role sees its own menu."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import Browser, expect
from sqlalchemy import select, update

from engine.cases import casefile
from engine.identity.users import load_principal
from engine.storage.tables import AuditEvent, Case
from http_support import hotline_report, password_of


def test_a_wrong_password_is_refused_and_audited(browser: Browser, site: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/work")
    expect(page).to_have_url(f"{site.base}/sign-in?next=/work")
    page.fill("#user", "ivy")
    page.fill("#password", "not-her-password")
    with page.expect_response("**/sign-in") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 401
    expect(page.locator(".flash.error")).to_contain_text("do not match")
    context.close()
    with site.ctx.db.reader() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "ivy")).all()
    assert "session.sign_in_failed" in actions


def test_guessing_is_stopped_after_five_failures(browser: Browser, site: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/sign-in")
    statuses = []
    for password in [f"guess-{i}" for i in range(5)] + [password_of("ivy")]:
        page.fill("#user", "ivy")
        page.fill("#password", password)
        with page.expect_response("**/sign-in") as answer:
            page.click("button[type=submit]")
        statuses.append(answer.value.status)

    assert statuses == [401] * 5 + [429]  # even the right password, until the window passes
    expect(page.locator(".flash.error")).to_contain_text("Too many failed attempts")
    site.ctx.clock.advance(timedelta(minutes=16))
    page.fill("#user", "ivy")
    page.fill("#password", password_of("ivy"))
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{site.base}/work")
    context.close()


def test_the_session_cookie_is_http_only_and_same_site(sign_in: Any) -> None:
    ivy = sign_in("ivy")
    [cookie] = [c for c in ivy.context.cookies() if c["name"] == "session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"


def test_a_form_without_its_csrf_token_changes_nothing(sign_in: Any, site: Any) -> None:
    opened = casefile.file_intake(site.ctx, load_principal(site.ctx, "sam"), hotline_report())
    sam = sign_in("sam")
    refused = sam.context.request.post(
        f"{site.base}/cases/{opened.id}/contacts",
        form={"occurred_at": "2025-03-03T10:00", "type": "phone", "location": "office",
              "narrative": "forged"},
    )  # fmt: skip
    assert refused.status == 400
    assert casefile.contacts(site.ctx, load_principal(site.ctx, "sam"), opened.id) == []


def test_a_case_out_of_reach_is_not_found_and_menus_follow_roles(sign_in: Any, site: Any) -> None:
    opened = casefile.file_intake(site.ctx, load_principal(site.ctx, "sam"), hotline_report())
    zed = sign_in("zed")
    zed.expect_refusals(404, 403)
    answer = zed.page.goto(f"{site.base}/cases/{opened.id}")
    assert answer is not None and answer.status == 404
    expect(zed.page.locator("h1")).to_have_text("Not found")
    assert zed.page.locator("header nav a").all_inner_texts() == ["My work", "Cases"]
    answer = zed.page.goto(f"{site.base}/admin")
    assert answer is not None and answer.status == 403

    alex = sign_in("alex")
    assert "Admin" in alex.page.locator("header nav a").all_inner_texts()


def test_signing_out_ends_the_session(sign_in: Any, site: Any) -> None:
    ivy = sign_in("ivy")
    ivy.page.click("text=Sign out")
    ivy.go("/work")
    expect(ivy.page).to_have_url(f"{site.base}/sign-in?next=/work")


def test_each_role_starts_where_its_work_is(sign_in: Any, site: Any) -> None:
    starts = {user: sign_in(user).page.url.removeprefix(site.base) for user in
              ("ivy", "sue", "dana", "alex", "olga")}  # fmt: skip
    assert starts == {
        "ivy": "/work",
        "sue": "/work",
        "dana": "/designer",
        "alex": "/admin",
        "olga": "/audit",
    }


def test_reading_a_sensitive_case_page_leaves_a_trace_of_each_read(sign_in: Any, site: Any) -> None:
    opened = casefile.file_intake(site.ctx, load_principal(site.ctx, "sam"), hotline_report())
    with site.ctx.db.writer() as session:
        session.execute(update(Case).where(Case.id == opened.id).values(sensitive=True))
        session.commit()
    sec = sign_in("sec")  # the security group reads every sensitive case

    sec.go(f"/cases/{opened.id}")

    expect(sec.page.locator("h1")).to_have_text(f"Case {opened.case_number}")
    # The open phase's diagram is a read of its own (it shows where the case stands).
    expect(sec.page.locator(".diagram").first).to_have_attribute("data-ready", "1")
    with site.ctx.db.reader() as session:
        reads = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.actor == "sec", AuditEvent.action == "case.read"
            )
        ).all()
    assert sorted(r["what"] for r in reads) == ["case page", "phase diagram"]
