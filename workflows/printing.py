"""A court report printed to PDF with WeasyPrint. The page is the designer's template filled
from the record: it may fetch nothing (no file, no address on the network); images come inline
as data: URLs or not at all."""

from __future__ import annotations

from weasyprint import HTML
from weasyprint.urls import URLFetcher


def pdf_of(html: str) -> bytes:
    inline_only = URLFetcher(allowed_protocols={"data"}, timeout=1)
    printed: bytes = HTML(string=html, url_fetcher=inline_only).write_pdf()
    return printed
