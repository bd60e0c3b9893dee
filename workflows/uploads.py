"""What is uploaded over HTTP: a document kept on a case, and a definition bundle. A bundle is
multipart files (a zip among them is unpacked), or one zip as the whole body. The API and the
pages read uploads the same way.

A zip is read as untrusted: the sizes its headers state are only a claim (a forged archive
claims a kilobyte and inflates to a gigabyte), so members are inflated a chunk at a time and
reading stops as soon as the bytes that really came out pass the limit. A damaged, encrypted or
oddly compressed archive is a problem naming the file, like any other bad definition."""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass

from flask import request

from engine.cases.documents import NewDocument
from engine.definitions.bundle import MAX_FILE_BYTES
from engine.errors import InvalidDefinition, InvalidInput, Problem

MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # everything the zips of one upload unpack to
MAX_ZIP_FILES = 500
CHUNK_BYTES = 64 * 1024
RAW_BODY = "request body"  # how a problem names a zip sent as the whole body
SUPPORTED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                         zipfile.ZIP_LZMA)  # fmt: skip
# What zipfile lets through from a damaged archive: its own BadZipFile, its decompressors'
# errors (zlib, bz2's OSError, lzma), EOFError from a cut stream, ValueError from an offset
# that points before the start, struct.error from a short header; NotImplementedError and
# RuntimeError for compression or encryption it cannot handle, should the checks before miss.
UNREADABLE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError,
              struct.error, NotImplementedError, RuntimeError)  # fmt: skip


@dataclass
class _Allowance:
    """What one upload may still unpack. Shared by all its zips, so that many small zips do not
    each get the whole allowance."""

    files: int = MAX_ZIP_FILES
    bytes: int = MAX_UNPACKED_BYTES


def uploaded_files(field: str = "files") -> dict[str, bytes]:
    """The uploaded files by path; InvalidDefinition when there are none or a zip is bad."""
    allowance = _Allowance()
    if request.mimetype == "application/zip":
        return _unzip(request.get_data(), RAW_BODY, allowance)
    files: dict[str, bytes] = {}
    for upload in request.files.getlist(field):
        name = upload.filename or ""
        content = upload.read()
        if name.lower().endswith(".zip"):
            files.update(_unzip(content, name, allowance))
        elif name:
            files[name] = content
    if not files:
        raise InvalidDefinition(
            [Problem("-", f"send the bundle's files as multipart '{field}' or one zip")]
        )
    return files


def _refused(file: str, message: str) -> InvalidDefinition:
    return InvalidDefinition([Problem(file, message)])


def _unzip(content: bytes, name: str, allowance: _Allowance) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        # Not ZipInfo.is_dir(): it fails on the empty name a forged header may carry.
        entries = [e for e in archive.infolist() if not e.filename.endswith("/")]
    except UNREADABLE as exc:
        raise _refused(name, f"not a readable zip archive: {exc}") from None
    allowance.files -= len(entries)
    if allowance.files < 0:
        raise _refused(name, f"the upload holds more than {MAX_ZIP_FILES} files")
    # A claim past the limit is refused without reading; a claim within it is not believed.
    if sum(e.file_size for e in entries) > allowance.bytes:
        raise _refused(name, f"the upload unpacks to more than {MAX_UNPACKED_BYTES} bytes")
    return {entry.filename: _member(archive, entry, allowance) for entry in entries}


def _member(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, allowance: _Allowance) -> bytes:
    """One member's content, counted as it inflates; what it takes leaves the allowance."""
    if entry.flag_bits & 0x1:
        raise _refused(entry.filename, "is encrypted; upload it unencrypted")
    if entry.compress_type not in SUPPORTED_COMPRESSION:
        raise _refused(entry.filename, f"uses compression method {entry.compress_type}, which "
                       "casework cannot unpack; use deflate")  # fmt: skip
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(entry) as member:
            # read(n) inflates at most n bytes at a time (read() would inflate it all at once).
            while chunk := member.read(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise _refused(entry.filename, f"file is larger than {MAX_FILE_BYTES} bytes")
                if size > allowance.bytes:
                    raise _refused(
                        entry.filename,
                        f"the upload unpacks to more than {MAX_UNPACKED_BYTES} bytes",
                    )
                chunks.append(chunk)
    except UNREADABLE as exc:
        raise _refused(
            entry.filename, f"cannot be unpacked, the archive is damaged: {exc}"
        ) from None
    allowance.bytes -= size
    return b"".join(chunks)


def _yes_or_no(said: str) -> bool:
    """A form's yes/no: what is not clearly one or the other is refused, not taken as no (a
    document that identifies the reporter must never be shown by mistake)."""
    value = said.strip().lower()
    if value in ("true", "on", "1", "yes"):
        return True
    if value in ("", "false", "off", "0", "no"):
        return False
    raise InvalidInput(f"identifies_reporter is true or false, not {said!r}")


def uploaded_document() -> NewDocument:
    """A document sent as a multipart form: its ``file``, ``title``, ``category``, whether it
    ``identifies_reporter``, and what it concerns (``link_kind``, ``link_id``). The API and the
    case page read it the same way; the engine checks the file."""
    # Read, not judged: the engine checks the case first, then the file (none sent is empty).
    upload = request.files.get("file")
    link_kind = request.form.get("link_kind", "").strip() or None
    link_id = request.form.get("link_id", "").strip()
    if not link_kind and request.form.get("person_id", "").strip():
        link_kind, link_id = "person", request.form["person_id"].strip()  # the page's choice
    return NewDocument(
        filename=(upload.filename or "") if upload else "",
        declared_type=(upload.mimetype or "") if upload else "",
        content=upload.read() if upload else b"",
        title=request.form.get("title", ""),
        category=request.form.get("category", "").strip(),
        identifies_reporter=_yes_or_no(request.form.get("identifies_reporter", "")),
        link_kind=link_kind,
        link_id=link_id or None,
    )
