"""Files sent back: a kept document, and the court report. A kept document goes as an
attachment, with the type its bytes were found to be, never rendered or sniffed by the browser
as anything else (a PDF with script, an SVG, HTML)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response

from workflows.printing import pdf_of


def download(document: dict[str, Any], content: bytes) -> Response:
    """A document's bytes as a download: never shown inline, never sniffed as something else."""
    response = Response(content, mimetype=document["content_type"])
    response.headers["Content-Disposition"] = content_disposition(document["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def content_disposition(filename: str) -> str:
    """The name to save as: plain ASCII for every browser, and the real name (RFC 5987)."""
    plain = (
        "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in filename)
        or "document"
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


def report_response(html: str, layout: str) -> Response:
    """A court report: the PDF to keep (a download), or its printable page."""
    if layout == "html":
        page = Response(html, mimetype="text/html")
        page.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    else:
        page = Response(pdf_of(html), mimetype="application/pdf")
        page.headers["Content-Disposition"] = content_disposition("court-report.pdf")
    page.headers["X-Content-Type-Options"] = "nosniff"
    page.headers["Cache-Control"] = "no-store"
    return page
