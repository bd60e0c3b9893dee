"""A caseworker keeps a hospital report and a photograph on the case from its page (a phone's
photo too), downloads one back, and a file that is not what it claims is refused beside the
form; the supervisor deletes one with a reason and the page keeps its tombstone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axe_check import violations
from playwright.sync_api import expect
from pypdf import PdfReader

from http_support import screened_case

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108020000009077")


def test_documents_are_kept_downloaded_refused_and_deleted_from_the_case_page(
    sign_in: Any, site: Any, tmp_path: Path
) -> None:
    number = screened_case(site)
    sue = sign_in("sue")
    sue.go(f"/cases?q={number}")
    sue.page.locator("#cases a", has_text=number).click()
    case_url = sue.page.url.removeprefix(site.base)

    report = tmp_path / "hospital report.pdf"
    report.write_bytes(PDF)
    sue.page.locator("#add-document summary").click()
    sue.page.set_input_files("#document-file", str(report))
    sue.page.fill("#document-title", "Hospital report, 3 March")
    sue.page.select_option("#document-category", "medical")
    sue.page.select_option("#document-person", label="Lia (child)")
    sue.page.click("#add-document button[type=submit]")
    expect(sue.page.locator(".flash.info")).to_contain_text("is kept on the case")
    row = sue.page.locator("#document-list tr", has_text="Hospital report, 3 March")
    expect(row).to_contain_text("Medical report")

    with sue.page.expect_download() as downloaded:
        row.locator("a").click()
    assert Path(downloaded.value.path()).read_bytes() == PDF

    # A web page renamed as a photograph: refused beside the form, nothing kept.
    fake = tmp_path / "bruise.png"
    fake.write_bytes(b"<html><body>not a photo</body></html>")
    sue.expect_refusals(422)
    sue.page.locator("#add-document summary").click()
    sue.page.set_input_files("#document-file", str(fake))
    sue.page.select_option("#document-category", "photograph")
    sue.page.click("#add-document button[type=submit]")
    expect(sue.page.locator("#document-error")).to_contain_text("Not kept")
    expect(sue.page.locator("#add-document")).to_have_attribute("open", "")  # the form stays
    expect(sue.page.locator("#document-list tbody tr[data-document]")).to_have_count(1)
    assert violations(sue.page) == []

    photo = tmp_path / "bruise.png"
    photo.write_bytes(PNG)
    sue.page.set_input_files("#document-file", str(photo))
    sue.page.select_option("#document-category", "photograph")
    sue.page.click("#add-document button[type=submit]")
    expect(sue.page.locator("#document-list tbody tr[data-document]")).to_have_count(2)

    # The supervisor deletes the photograph, saying why; the record keeps that it was there.
    kept = sue.page.locator("#document-list tr", has_text="bruise.png")
    kept.locator("summary", has_text="Delete").click()
    kept.locator("input[name=reason]").fill("a photograph of another child")
    kept.locator("button", has_text="Delete the file").click()
    expect(sue.page.locator(".flash.info")).to_contain_text("was deleted")
    tombstone = sue.page.locator("#document-list tr", has_text="bruise.png")
    expect(tombstone).to_contain_text("deleted")
    expect(tombstone).to_contain_text("a photograph of another child")
    expect(tombstone.locator("a")).to_have_count(0)
    sue.shot("documents-on-the-case")
    assert case_url.startswith("/cases/")

    # The court report, from the record: the PDF lists the documents kept, not the deleted one.
    with sue.page.expect_download() as downloaded:
        sue.page.locator("#court-report a", has_text="PDF").click()
    printed = PdfReader(downloaded.value.path())
    text = " ".join(page.extract_text() for page in printed.pages)
    assert number in text and "Lia" in text
    assert "Hospital report, 3 March" in text and "bruise.png" not in text

    # Kept as it went to court: a document of its own, printed now.
    sue.page.click("#keep-court-report button")
    expect(sue.page.locator(".flash.info")).to_contain_text("Court report")
    kept = sue.page.locator("#document-list tr", has_text="Court report, ")
    expect(kept).to_contain_text("Court report")
    # Sue may see the reporter, so her copy names them: it is kept as identifying them.
    expect(kept).to_contain_text("identifies the reporter")
    with sue.page.expect_download() as downloaded:
        kept.locator("a").click()
    assert number in " ".join(p.extract_text() for p in PdfReader(downloaded.value.path()).pages)
