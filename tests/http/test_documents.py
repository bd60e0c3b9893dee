"""Documents kept on a case, over real HTTP: a medical report and a photograph are kept and come
back byte for byte as attachments of the type their bytes show; a file whose bytes are not what
it claims, an empty one or one over the limit is refused and nothing is kept; a document that
identifies the reporter is only for those who may see the reporter; deleting is the
supervisor's, leaves a tombstone, and every download and deletion is in the audit trail."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from engine.cases import documents
from engine.errors import InvalidInput
from engine.identity.users import load_principal
from engine.storage.tables import AuditEvent, Document
from http_support import Agency, screened_by_api

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108020000009077")


def screened(agency: Agency) -> tuple[str, str]:
    """A case in investigation and the investigator who holds its first contact."""
    case_id, contact = screened_by_api(agency)
    return case_id, contact["assignee"]


def keep(server: str, agency: Agency, user: str, case_id: str, name: str, content: bytes,
         declared: str, **form: str) -> requests.Response:  # fmt: skip
    return requests.post(
        f"{server}/api/v1/cases/{case_id}/documents",
        headers=agency.headers(user),
        files={"file": (name, content, declared)},
        data={"title": name, "category": "medical", **form},
        timeout=30,
    )


def kept_count(agency: Agency) -> int:
    with agency.ctx.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


def audited(agency: Agency, action: str) -> list[dict[str, Any]]:
    with agency.ctx.db.reader() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [{"actor": r.actor, **(r.details or {})} for r in rows]


def test_a_report_and_a_photo_are_kept_and_come_back_as_they_were(
    agency: Agency, server: str
) -> None:
    case_id, worker = screened(agency)
    report = keep(server, agency, worker, case_id, "hospital report.pdf", PDF, "application/pdf")
    assert report.status_code == 201, report.text
    photo = keep(server, agency, worker, case_id, "bruise.png", PNG, "image/png",
                 category="photograph")  # fmt: skip
    assert photo.status_code == 201, photo.text
    assert report.json()["sha256"] == hashlib.sha256(PDF).hexdigest()

    listed = requests.get(
        f"{server}/api/v1/cases/{case_id}/documents", headers=agency.headers("sue"), timeout=10
    ).json()
    assert [(d["title"], d["content_type"]) for d in listed] == [
        ("hospital report.pdf", "application/pdf"),
        ("bruise.png", "image/png"),
    ]
    got = requests.get(
        f"{server}/api/v1/cases/{case_id}/documents/{report.json()['id']}/content",
        headers=agency.headers("sue"),
        timeout=10,
    )
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert [(a["actor"], a["document"]) for a in audited(agency, "document.read")] == [
        ("sue", report.json()["id"])
    ]


@pytest.mark.parametrize(
    ("name", "content", "declared", "said"),
    [
        ("report.pdf", b"<html><script>alert(1)</script></html>", "application/pdf", "content"),
        ("photo.png", PDF, "image/png", "sent as image/png, but its content is application/pdf"),
        ("empty.pdf", b"", "application/pdf", "empty"),
        ("tool.exe", b"MZ\x90\x00\x03" + bytes(200), "application/octet-stream", "content"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_kept(
    agency: Agency, server: str, name: str, content: bytes, declared: str, said: str
) -> None:
    case_id, worker = screened(agency)
    refused = keep(server, agency, worker, case_id, name, content, declared)
    assert refused.status_code == 400
    assert said in refused.json()["detail"]
    assert kept_count(agency) == 0


def test_the_size_limit_the_category_and_the_link_are_checked(agency: Agency) -> None:
    case_id, worker = screened(agency)
    principal = load_principal(agency.ctx, worker)
    assert principal is not None

    def new(**changed: Any) -> documents.NewDocument:
        base = {"filename": "r.pdf", "declared_type": "application/pdf", "content": PDF,
                "title": "r", "category": "medical"}  # fmt: skip
        return documents.NewDocument(**{**base, **changed})

    with pytest.raises(InvalidInput, match="larger than"):
        documents.upload(agency.ctx, principal, uuid.UUID(case_id), new(), max_bytes=len(PDF) - 1)
    with pytest.raises(InvalidInput, match="choose a category"):
        documents.upload(agency.ctx, principal, uuid.UUID(case_id), new(category="selfie"))
    other_case, _ = screened(agency)
    someone = agency.get("sue", f"/api/v1/cases/{other_case}/people").json[0]["id"]
    with pytest.raises(InvalidInput, match="on this case"):
        documents.upload(
            agency.ctx, principal, uuid.UUID(case_id), new(link_kind="person", link_id=someone)
        )
    assert kept_count(agency) == 0


def test_a_document_naming_the_reporter_is_only_for_who_may_see_them(
    agency: Agency, server: str
) -> None:
    case_id, worker = screened(agency)
    kept = keep(server, agency, "sue", case_id, "call notes.pdf", PDF, "application/pdf",
                identifies_reporter="true")  # fmt: skip
    assert kept.status_code == 201
    document_id = kept.json()["id"]
    seen_by_worker = agency.get(worker, f"/api/v1/cases/{case_id}/documents").json
    assert seen_by_worker == []
    assert (
        agency.get(worker, f"/api/v1/cases/{case_id}/documents/{document_id}/content").status_code
        == 404
    )
    assert [d["id"] for d in agency.get("sue", f"/api/v1/cases/{case_id}/documents").json] == [
        document_id
    ]


def test_deleting_is_the_supervisors_and_leaves_a_tombstone(agency: Agency, server: str) -> None:
    case_id, worker = screened(agency)
    kept = keep(server, agency, worker, case_id, "wrong family.pdf", PDF, "application/pdf")
    document_id = kept.json()["id"]
    path = f"/api/v1/cases/{case_id}/documents/{document_id}"
    reason = {"reason": "kept on the wrong family's case"}

    assert agency.post(worker, f"{path}/deletion", reason).status_code == 403
    assert agency.post("sue", f"{path}/deletion", {"reason": "oops"}).status_code == 422
    gone = agency.post("sue", f"{path}/deletion", reason)
    assert gone.status_code == 200 and gone.json["deleted"] is True
    assert agency.post("sue", f"{path}/deletion", reason).status_code == 409
    assert agency.get("sue", f"{path}/content").status_code == 404
    [tombstone] = agency.get("sue", f"/api/v1/cases/{case_id}/documents").json
    assert tombstone["deleted_by"] == "sue" and tombstone["delete_reason"] == reason["reason"]
    with agency.ctx.db.reader() as session:
        row = session.get(Document, uuid.UUID(document_id))
        assert row is not None and row.content is None and row.sha256
    [deletion] = audited(agency, "document.deleted")
    assert deletion["actor"] == "sue" and deletion["reason"] == reason["reason"]
