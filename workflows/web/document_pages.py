"""A case's documents on its page: keep one (a file with its title and category), download
one, and, for the supervision chain, delete one with a reason (a tombstone stays); and the
court report the record makes."""

from __future__ import annotations

import uuid

from flask import Response, current_app, flash, redirect, request, url_for

from engine.cases import court_report as court_reports
from engine.cases import documents
from engine.errors import InvalidInput
from workflows.http.downloads import download, report_response
from workflows.uploads import uploaded_document
from workflows.web.case_pages import case_page_with
from workflows.web.site import bp, engine, signed_in, who


@bp.post("/cases/<uuid:case_id>/documents")
@signed_in
def add_document(case_id: uuid.UUID) -> Response | tuple[str, int]:
    limit = current_app.extensions["casework"].settings.max_document_bytes
    try:
        kept = documents.upload(engine(), who(), case_id, uploaded_document(), limit)
    except InvalidInput as exc:
        # Nothing was kept: the page says why, beside the form.
        return case_page_with(case_id, document_error=exc.message, status=422)
    flash(f"“{kept['title']}” is kept on the case.", "info")
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="documents"))


@bp.get("/cases/<uuid:case_id>/documents/<uuid:document_id>")
@signed_in
def document_download(case_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    return download(*documents.content_of(engine(), who(), case_id, document_id))


@bp.get("/cases/<uuid:case_id>/court-report")
@signed_in
def court_report(case_id: uuid.UUID) -> Response:
    """The court report from the record: the PDF, or (?format=html) its printable page."""
    html = court_reports.court_report_html(engine(), who(), case_id)
    return report_response(html, request.args.get("format", "pdf"))


@bp.post("/cases/<uuid:case_id>/court-report")
@signed_in
def keep_court_report(case_id: uuid.UUID) -> Response:
    """The report as it is now, kept on the case: what went to court stays as it was."""
    kept = court_reports.keep(engine(), who(), case_id)
    flash(f"“{kept['title']}” is kept on the case.", "info")
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="documents"))


@bp.post("/cases/<uuid:case_id>/documents/<uuid:document_id>/delete")
@signed_in
def delete_document(case_id: uuid.UUID, document_id: uuid.UUID) -> Response | tuple[str, int]:
    reason = request.form.get("reason", "")
    try:
        gone = documents.delete(engine(), who(), case_id, document_id, reason)
    except InvalidInput as exc:
        return case_page_with(case_id, document_error=exc.message, status=422)
    flash(f"“{gone['title']}” was deleted; the record keeps that it was there.", "info")
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="documents"))
