"""Bad input answers a problem, never 500, and writes nothing: forged and damaged zips in
definition uploads, JSON bodies a parser cannot bound or a database cannot store (deep nesting,
NaN and infinities, lone surrogates), a sign-in form too large to read, and a page form
with a NUL character."""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zlib
from dataclasses import dataclass, replace
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from standardwebhooks import Webhook

from engine.storage.tables import AuditEvent, Case, Contact, DefinitionVersion
from http_support import RECORD_REPORT, Agency, hotline_report, password_of, screened_by_api
from sign_in_form import csrf_token_in, give_password, submit_sign_in

MiB = 1024 * 1024

# -- zips whose headers say what we want ---------------------------------------------------------

LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
END_OF_CENTRAL_DIRECTORY = struct.Struct("<IHHHHIIH")
DEFLATED, BZIP2, LZMA = 8, 12, 14
ENCRYPTED = 0x1


@dataclass(frozen=True)
class Member:
    """One member of a hand-written zip: its stored bytes and what its headers claim."""

    name: str
    data: bytes  # as stored (raw deflate for DEFLATED)
    size: int  # the inflated size the headers declare
    crc: int
    method: int = DEFLATED
    flags: int = 0


def honest(name: str, content: bytes) -> Member:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = compressor.compress(content) + compressor.flush()
    return Member(name, data, len(content), zlib.crc32(content))


def zip_of(members: list[Member]) -> bytes:
    """The archive, local and central headers both saying what each member claims."""
    body, directory = b"", b""
    for m in members:
        name = m.name.encode()
        fields = (m.flags, m.method, 0, 0x21, m.crc, len(m.data), m.size, len(name))
        directory += CENTRAL_HEADER.pack(0x02014B50, 20, 20, *fields, 0, 0, 0, 0, 0, len(body))
        directory += name
        body += LOCAL_HEADER.pack(0x04034B50, 20, *fields, 0) + name + m.data
    end = END_OF_CENTRAL_DIRECTORY.pack(
        0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return body + directory + end


def deflated_zeros(total: int) -> bytes:
    """A raw deflate stream of `total` zero bytes, built without compressing them all: after a
    full flush the compressor starts afresh, so every 16 MiB block compresses to the same bytes."""
    block = 16 * MiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return piece * (total // block) + compressor.flush()


def deploy_zip(agency: Agency, archive: bytes) -> Any:
    return agency.post("dana", "/api/v1/definitions", data=archive, content_type="application/zip")


def versions_deployed(agency: Agency) -> int:
    with agency.ctx.db.reader() as session:
        return session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0


def test_a_zip_whose_headers_understate_its_members_is_refused_in_bounded_time(
    agency: Agency,
) -> None:
    # Four members that each claim 1 KiB and inflate to 256 MiB: a gibibyte in all.
    stream = deflated_zeros(256 * MiB)
    bomb = zip_of([Member(f"bomb{i}.bpmn", stream, 1024, 0) for i in range(4)])
    before = versions_deployed(agency)

    started = time.process_time()
    refused = deploy_zip(agency, bomb)
    cpu_seconds = time.process_time() - started

    assert refused.status_code == 422, refused.data[:500]
    assert refused.content_type == "application/problem+json"
    assert refused.json["problems"][0]["file"] == "bomb0.bpmn"
    print("CPU", cpu_seconds)
    assert cpu_seconds < 1.0  # an upper bound: inflating the claim's gibibyte takes seconds
    assert versions_deployed(agency) == before


def test_several_zips_in_one_upload_share_one_limit(agency: Agency) -> None:
    # Each zip alone is under the 50 MiB limit (ten honest 4.5 MiB members); together they are not.
    member = bytes(4 * MiB + MiB // 2)
    one_zip = zip_of([honest(f"part{i}/file.bpmn", member) for i in range(10)])
    upload = {"files": [(io.BytesIO(one_zip), f"bundle{n}.zip") for n in range(3)]}

    tracemalloc.start()
    try:
        refused = agency.client.post(
            "/api/v1/definitions",
            data=upload,
            headers=agency.headers("dana"),
            content_type="multipart/form-data",
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert refused.status_code == 422
    assert "more than" in refused.json["problems"][0]["message"]
    assert peak < 80 * MiB  # the whole upload would hold 135 MiB


def damaged_zips() -> dict[str, bytes]:
    """A good member, and the ways a zip can be broken after its signature."""
    good = honest("intake.bpmn", b"<definitions>" + b"a process " * 400 + b"</definitions>")
    return {
        "wrong_crc": zip_of([replace(good, crc=good.crc ^ 1)]),
        "corrupt_deflate_stream": zip_of([replace(good, data=b"\xff" * len(good.data))]),
        "truncated_member": zip_of([replace(good, data=good.data[: len(good.data) // 2])]),
        "unsupported_compression": zip_of([replace(good, method=99)]),
        "encrypted": zip_of([replace(good, flags=ENCRYPTED)]),
        "not_bzip2_data": zip_of([replace(good, method=BZIP2)]),
        "not_lzma_data": zip_of([replace(good, method=LZMA)]),
        "truncated_archive": zip_of([good])[:-30],
    }


@pytest.mark.parametrize("damage", sorted(damaged_zips()))
def test_a_damaged_zip_is_a_problem_naming_the_file(agency: Agency, damage: str) -> None:
    before = versions_deployed(agency)

    refused = deploy_zip(agency, damaged_zips()[damage])

    assert refused.status_code == 422, refused.data[:500]
    assert refused.content_type == "application/problem+json"
    [problem] = refused.json["problems"]
    # The member that cannot be read, or the whole body when its directory is gone.
    assert problem["file"] == ("request body" if damage == "truncated_archive" else "intake.bpmn")
    assert versions_deployed(agency) == before


def test_validating_a_damaged_zip_reports_it_as_a_problem(agency: Agency) -> None:
    damaged = damaged_zips()["corrupt_deflate_stream"]

    checked = agency.client.post(
        "/api/v1/definitions/validate",
        data={"files": [(io.BytesIO(damaged), "bundle.zip")]},
        headers=agency.headers("dana"),
        content_type="multipart/form-data",
    )

    # Validation's answer is the list of problems, so a bad upload is one of them.
    assert checked.status_code == 200
    assert checked.json["valid"] is False
    assert checked.json["problems"][0]["file"] == "intake.bpmn"


def test_the_designer_page_shows_a_damaged_zip_as_a_problem(agency: Agency) -> None:
    give_password(agency.ctx, "dana")
    browser = agency.app.test_client()
    assert submit_sign_in(browser, "dana", password_of("dana")).status_code == 302
    token = csrf_token_in(browser.get("/designer").get_data(as_text=True))
    before = versions_deployed(agency)

    shown = browser.post(
        "/designer/upload",
        data={
            "csrf_token": token,
            "action": "deploy",
            "files": [(io.BytesIO(damaged_zips()["encrypted"]), "bundle.zip")],
        },
        content_type="multipart/form-data",
    )

    assert shown.status_code == 422
    assert "intake.bpmn" in shown.get_data(as_text=True)
    assert versions_deployed(agency) == before


# -- JSON that cannot be bounded or stored -------------------------------------------------------

PLACEHOLDER = '"__bad__"'
DEEP = "[" * 5000 + "]" * 5000  # past the parser's recursion limit
DEEPER_THAN_ALLOWED = '{"a":' * 100 + "1" + "}" * 100  # parses, but past the 64 levels allowed
BAD_VALUES = {
    "nan": ("NaN", "NaN"),
    "infinity": ("Infinity", "Infinity"),
    "minus_infinity": ("-Infinity", "-Infinity"),
    "overflowing_number": ("1e999", "1e999"),
    "lone_high_surrogate": ('"child \\ud800"', "surrogate"),
    "lone_low_surrogate": ('"\\udc00 child"', "surrogate"),
    "lone_surrogate_in_a_key": ('{"\\ud83d": 1}', "surrogate"),
    "nested_past_the_recursion_limit": (DEEP, "nested"),
    "nested_past_the_allowed_depth": (DEEPER_THAN_ALLOWED, "nested"),
}
CONTACT = {
    "occurred_at": "2025-03-03T16:00:00+00:00",
    "type": "phone",
    "location": "office",
    "narrative": "called the school",
}


@dataclass(frozen=True)
class Screened:
    case_id: str
    first_contact: str  # the investigator's task


@pytest.fixture
def screened(agency: Agency) -> Screened:
    """A report filed and screened in: the case and its first-contact task are ian's."""
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    assert filed.status_code == 201, filed.json
    case_id = filed.json["id"]
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    done = agency.post("sam", f"/api/v1/tasks/{task['id']}/complete", RECORD_REPORT)
    assert done.status_code == 200, done.json
    [contact] = agency.get("ian", f"/api/v1/tasks?view=mine&case_id={case_id}").json["items"]
    return Screened(case_id, contact["id"])


def with_bad_value(body: dict[str, Any], field: str, bad: str) -> str:
    """The body as JSON text with `bad` (JSON text) as the value of `field`."""
    return json.dumps({**body, field: "__bad__"}).replace(PLACEHOLDER, bad)


def send(agency: Agency, method: str, user: str, path: str, text: str) -> Any:
    return agency.client.open(
        path,
        method=method,
        data=text.encode(),
        headers=agency.headers(user, **{"Content-Type": "application/json"}),
    )


def assert_refused_saying(answer: Any, reason: str) -> None:
    assert answer.status_code in (400, 422), answer.data[:500]
    assert answer.content_type == "application/problem+json"
    assert reason.lower() in answer.json["detail"].lower()


def cases_opened(agency: Agency) -> int:
    with agency.ctx.db.reader() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def contacts_recorded(agency: Agency) -> int:
    with agency.ctx.db.reader() as session:
        return session.scalar(select(func.count()).select_from(Contact)) or 0


@pytest.mark.parametrize("bad", sorted(BAD_VALUES))
def test_a_report_with_bad_json_opens_no_case(agency: Agency, bad: str) -> None:
    value, reason = BAD_VALUES[bad]
    before = cases_opened(agency)

    answer = send(
        agency, "POST", "sam", "/api/v1/intakes", with_bad_value(hotline_report(), "summary", value)
    )

    assert_refused_saying(answer, reason)
    assert cases_opened(agency) == before


@pytest.mark.parametrize("bad", sorted(BAD_VALUES))
def test_a_draft_with_bad_json_leaves_the_draft_as_it_was(
    agency: Agency, screened: Screened, bad: str
) -> None:
    value, reason = BAD_VALUES[bad]
    draft = f"/api/v1/tasks/{screened.first_contact}/draft"
    assert agency.put("ian", draft, {"location": "school"}).status_code == 200

    answer = send(agency, "PUT", "ian", draft, with_bad_value({}, "location", value))

    assert_refused_saying(answer, reason)
    task = agency.get("ian", f"/api/v1/tasks/{screened.first_contact}").json
    assert task["draft"] == {"location": "school"}


@pytest.mark.parametrize("bad", sorted(BAD_VALUES))
def test_a_contact_with_bad_json_is_not_recorded(
    agency: Agency, screened: Screened, bad: str
) -> None:
    value, reason = BAD_VALUES[bad]
    path = f"/api/v1/cases/{screened.case_id}/contacts"
    before = contacts_recorded(agency)

    answer = send(agency, "POST", "ian", path, with_bad_value(CONTACT, "narrative", value))

    assert_refused_saying(answer, reason)
    assert contacts_recorded(agency) == before


@pytest.fixture
def court_secret(agency: Agency) -> str:
    routes = {"court.tmc_order": {"message": "court_tmc_order"}}
    made = agency.post("alex", "/api/v1/inbound-sources", {"id": "court", "routes": routes})
    assert made.status_code == 201, made.json
    return str(made.json["secret"])


def signed_by_the_court(agency: Agency, secret: str, body: str) -> Any:
    now = agency.ctx.clock.now()
    headers = {
        "webhook-id": "msg_court_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_court_1", now, body),
        "content-type": "application/json",
    }
    return agency.client.post("/api/v1/inbound/court", data=body, headers=headers)


@pytest.mark.parametrize("bad", sorted(BAD_VALUES))
def test_an_inbound_event_with_bad_json_is_refused_saying_why(
    agency: Agency, court_secret: str, bad: str
) -> None:
    value, reason = BAD_VALUES[bad]
    event = {"type": "court.tmc_order", "data": {"case_number": "2025-000001"}}

    answer = signed_by_the_court(agency, court_secret, with_bad_value(event, "note", value))

    assert_refused_saying(answer, reason)
    assert answer.json["code"] == "malformed_event"
    with agency.ctx.db.reader() as session:
        delivered = select(func.count()).where(AuditEvent.action == "message.delivered")
        assert session.scalar(delivered) == 0


def test_answers_are_never_written_with_nan_or_infinity(agency: Agency) -> None:
    with agency.app.app_context():
        for number in (float("nan"), float("inf"), float("-inf")):
            with pytest.raises(ValueError):
                agency.app.json.dumps({"score": number})


# -- forms too large to read ---------------------------------------------------------------------


FORM_BIGGER_THAN_ANY_REQUEST = {"user": "x" * (27 * MiB)}  # a 25 MB document and its form, at most
FIELD_BIGGER_THAN_A_FORM_FIELD = {"user": (None, "x" * (3 * MiB))}  # werkzeug holds 500 kB


@pytest.mark.parametrize(
    "send_form",
    [
        lambda url: requests.post(url, data=FORM_BIGGER_THAN_ANY_REQUEST, timeout=30),
        lambda url: requests.post(url, files=FIELD_BIGGER_THAN_A_FORM_FIELD, timeout=30),
    ],
    ids=["request_too_large", "multipart_field_too_large"],
)
def test_an_oversized_sign_in_form_is_413_not_500(server: str, send_form: Any) -> None:
    answer = send_form(f"{server}/sign-in")

    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "413" in answer.text


def test_a_page_form_with_a_nul_character_is_refused_whole(agency: Agency) -> None:
    """PostgreSQL cannot keep a NUL in text: a form carrying one, in a field, its name or a
    file's name, is a 400 that says so, and nothing of it is kept."""
    case_id, _ = screened_by_api(agency)
    give_password(agency.ctx, "sue")
    browser = agency.app.test_client()
    assert submit_sign_in(browser, "sue", password_of("sue")).status_code == 302
    token = csrf_token_in(browser.get(f"/cases/{case_id}").get_data(as_text=True))
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

    def upload(title: str, filename: str) -> Any:
        return browser.post(
            f"/cases/{case_id}/documents",
            data={"csrf_token": token, "title": title, "category": "other",
                  "file": [(io.BytesIO(pdf), filename)]},
            content_type="multipart/form-data",
        )  # fmt: skip

    for refused in (
        upload("Hospital\x00report", "report.pdf"),
        browser.post(f"/cases/{case_id}/referrals", data={"csrf_token": token, "reason\x00": "x"}),
        browser.get("/cases?q=Lia\x00"),
    ):
        assert refused.status_code == 400
        assert "NUL character" in refused.get_data(as_text=True)
    assert agency.get("sue", f"/api/v1/cases/{case_id}/documents").json == []
    assert upload("Hospital report", "report.pdf").status_code == 302  # the same, clean: kept
