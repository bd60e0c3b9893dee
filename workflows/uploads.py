"""A definition bundle sent over HTTP: multipart files (a zip among them is unpacked), or one
zip as the whole body. The API and the designer's page read uploads the same way."""

from __future__ import annotations

import io
import zipfile

from flask import request

from engine.errors import InvalidDefinition, Problem

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_ZIP_FILES = 500


def uploaded_files(field: str = "files") -> dict[str, bytes]:
    """The uploaded files by path; InvalidDefinition when there are none or a zip is bad."""
    files: dict[str, bytes] = {}
    if request.mimetype == "application/zip":
        return _unzip(request.get_data())
    for upload in request.files.getlist(field):
        name = upload.filename or ""
        content = upload.read()
        if name.lower().endswith(".zip"):
            files.update(_unzip(content))
        elif name:
            files[name] = content
    if not files:
        raise InvalidDefinition(
            [Problem("-", f"send the bundle's files as multipart '{field}' or one zip")]
        )
    return files


def _unzip(content: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise InvalidDefinition([Problem("-", "not a zip archive")]) from None
    entries = [e for e in archive.infolist() if not e.is_dir()]
    # Sizes as the archive states them; Bundle refuses any one file larger than its limit.
    if len(entries) > MAX_ZIP_FILES or sum(e.file_size for e in entries) > MAX_ZIP_BYTES:
        raise InvalidDefinition([Problem("-", "the archive is too large")])
    return {e.filename: archive.read(e) for e in entries}
