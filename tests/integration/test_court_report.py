"""The court report is built from the record through the jurisdiction's own template: the
children, the findings with their rationales, the assessments, the chronology of contacts
(late entries marked), the documents; printed to PDF it reads the same; the reporter is
withheld from a reader who may not see them; every report made is audited; and a template
that does not parse, or a profile naming none of the bundle's, is refused at deploy."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from conftest import DESIGNER, ROOT
from cps_cases import (
    ATTORNEY,
    CpsCase,
    end_of_texas_day,
    investigate_to_approval,
    removed,
    reported,
    texas,
)
from engine.cases import documents
from engine.cases.court_report import court_report_html
from engine.context import EngineContext
from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment, validate
from engine.identity.users import Principal
from engine.storage.tables import AuditEvent, RecordEntry
from engine.tasks.completion import complete
from workflows.printing import pdf_of

SUE = Principal(
    "sue.supervisor", "Sue", frozenset({"supervisor"}), "north",
    supervised_teams=frozenset({"north"}),
)  # fmt: skip
IVY = Principal("ivy.investigator", "Ivy", frozenset({"investigator"}), "north")


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def investigated(ctx: EngineContext) -> CpsCase:
    case = reported(ctx, texas(2025, 3, 3, 9, 15), [("Lia Moreno", "2021-11-02")])
    investigate_to_approval(case, texas(2025, 3, 3, 14, 0), findings=("RTB",), risk="HIGH")
    return case


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_report_reads_the_record_and_prints_the_same(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = investigated(ctx)
    html = court_report_html(ctx, SUE, case.id)
    for said in (case.number, "Lia Moreno", "Reason to believe", "evidence reviewed",
                 "First face-to-face contact", "Risk", "Chronology"):  # fmt: skip
        assert said in html, said
    printed = text_of(pdf_of(html))
    assert case.number in printed and "Lia Moreno" in printed
    assert "evidence reviewed" in printed


def test_the_reporter_is_withheld_from_who_may_not_see_them(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = investigated(ctx)
    reporter = "Rita Reporter"
    _add_reporter(case, reporter)
    assert reporter in court_report_html(ctx, SUE, case.id)
    for_worker = court_report_html(ctx, IVY, case.id)
    assert reporter not in for_worker and reporter not in text_of(pdf_of(for_worker))
    assert "withheld" in for_worker
    with ctx.db.reader() as session:
        made = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "court_report.generated")
        ).all()
    assert sorted(made) == ["ivy.investigator", "sue.supervisor"]


def test_a_broken_template_or_a_missing_one_is_refused_at_deploy() -> None:
    files: dict[str, bytes] = dict(read_bundle([ROOT / "bpmn"]).files)
    broken = {**files, "reports/court-report-us-tx.html": b"<h1>{{ case.case_number </h1>"}
    problems = validate(Bundle(broken))
    assert [(p.file, p.line) for p in problems] == [("reports/court-report-us-tx.html", 1)]
    missing = {k: v for k, v in files.items() if not k.startswith("reports/")}
    problems = validate(Bundle(missing))
    # Each jurisdiction's profile names its own template, and each is said missing.
    said = sorted((p.file, p.message) for p in problems)
    assert [file for file, _ in said] == ["profiles/england.json", "profiles/us-tx.json"]
    assert "data.court_report names 'reports/court-report-england.html'" in said[0][1]
    assert "data.court_report names 'reports/court-report-us-tx.html'" in said[1][1]


def _add_reporter(case: CpsCase, name: str) -> None:
    """The neighbour who called, on the case as intake keeps a reporter."""
    from engine.storage.tables import CasePerson

    with case.ctx.db.writer() as session:
        session.add(CasePerson(id=uuid.uuid4(), case_id=case.id, role="reporter", name=name))
        session.commit()


CAL = Principal("cal.caseworker", "Cal", frozenset({"ongoing_caseworker"}), "north")
HELD = {"final_order": False, "parental_rights_terminated": False}


def test_each_hearing_has_its_report_prepared_and_kept_as_it_went_to_court(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = removed(ctx, texas(2025, 3, 6, 9, 0), [("Ana Ruiz", "2016-04-04")])
    case.complete("obtain_tmc_order", {"tmc_order_on": case.on("2025-03-10")}, ATTORNEY)
    held = {"hearing_held_on": case.on("2025-09-05"), **HELD}
    case.complete("initial_permanency_hearing", held, ATTORNEY)

    # The next hearing is 120 days on; its report is asked for 30 days before it, due 10.
    assert case.task("hold_permanency_hearing").due_at == end_of_texas_day(2026, 1, 3)
    case.at(texas(2025, 12, 3, 23, 0))
    assert case.tasks("prepare_court_report") == []
    case.at(texas(2025, 12, 4, 0, 1))
    report = case.task("prepare_court_report")
    assert report.due_at == end_of_texas_day(2025, 12, 24)
    assert report.role == "ongoing_caseworker"

    # Reminded ten days ahead, and alerted once late, like every statutory deadline.
    case.at(texas(2025, 12, 15, 9, 0))
    assert [kind for kind, _, _ in case.alerts("T31-report")] == ["reminder"]
    case.at(texas(2025, 12, 25, 9, 0))
    assert [kind for kind, _, _ in case.alerts("T31-report")] == ["reminder", "overdue"]

    recommendation = "Ana stays in foster care while her mother completes counselling."
    complete(ctx, CAL, report.id, {"recommendation": recommendation, "family_informed": True})
    kept = [d for d in documents.shelf(ctx, SUE, case.id)["documents"]
            if d["category"] == "court_report"]  # fmt: skip
    assert len(kept) == 1 and kept[0]["uploaded_by"] == "cal.caseworker"
    with ctx.db.reader() as session:
        entry = session.scalars(select(RecordEntry).where(RecordEntry.task_id == report.id)).one()
    assert (kept[0]["link_kind"], kept[0]["link_id"]) == ("entry", str(entry.id))
    _, pdf = documents.content_of(ctx, SUE, case.id, uuid.UUID(kept[0]["id"]))
    printed = " ".join(text_of(pdf).split())
    assert recommendation in printed and "Ana Ruiz" in printed and case.number in printed

    # The hearing itself is the attorney's, apart: held with a final order and parental
    # rights terminated, the next is within 90 days; with a final order alone, 6 months.
    case.complete("hold_permanency_hearing", {"hearing_held_on": case.on("2026-01-02"),
                  "final_order": True, "parental_rights_terminated": True}, ATTORNEY)  # fmt: skip
    assert case.task("hold_permanency_hearing").due_at == end_of_texas_day(2026, 4, 2)
    case.complete("hold_permanency_hearing", {"hearing_held_on": case.on("2026-03-30"),
                  "final_order": True, "parental_rights_terminated": False}, ATTORNEY)  # fmt: skip
    assert case.task("hold_permanency_hearing").due_at == end_of_texas_day(2026, 9, 30)


def test_without_a_printer_the_report_task_is_done_and_keeps_nothing(
    ctx: EngineContext, cps: Deployment
) -> None:
    ctx = replace(ctx, printer=None)
    case = removed(ctx, texas(2025, 3, 6, 9, 0), [("Ana Ruiz", "2016-04-04")])
    case.complete("obtain_tmc_order", {"tmc_order_on": case.on("2025-03-10")}, ATTORNEY)
    held = {"hearing_held_on": case.on("2025-09-05"), **HELD}
    case.complete("initial_permanency_hearing", held, ATTORNEY)
    case.at(texas(2025, 12, 5, 9, 0))
    report = case.task("prepare_court_report")
    complete(ctx, CAL, report.id, {"recommendation": "x" * 30, "family_informed": False})
    assert case.tasks("prepare_court_report") == []
    assert documents.shelf(ctx, SUE, case.id)["documents"] == []


def test_a_report_key_that_is_not_file_is_refused_at_deploy() -> None:
    files: dict[str, bytes] = dict(read_bundle([ROOT / "bpmn"]).files)
    form = json.loads(files["forms/prepare_court_report.schema.json"])
    form["x-casework-court-report"] = "print"
    odd = {**files, "forms/prepare_court_report.schema.json": json.dumps(form).encode()}
    [problem] = validate(Bundle(odd))
    assert problem.file == "forms/prepare_court_report.schema.json"
    assert 'x-casework-court-report is "file"' in problem.message


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('{{ "x" * 100000 }}', "a value too large"),
        ('{{ ("x" * 10000) * 10000 }}', "a value too large"),
        ('{% set ns = namespace(s="x" * 1000) %}{% for i in range(30) %}'
         '{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}', "a value too large"),
        ('{{ "x".ljust(2000000) }}', "a value too large"),
        ("{{ '{:>999999999}'.format(1) }}", "str.format is not offered"),
        ("{{ 10 ** 100000 }}", "a power above 64"),
        ('{% set s = "x" * 10000 %}{% for i in range(100000) %}{% for j in range(100000) %}'
         "{{ s }}{% endfor %}{% endfor %}", "more than 20,000,000 characters"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
         "s of CPU"),
    ],
    ids=["a huge repeat", "a repeat of a repeat", "doubling in a loop", "a huge padding",
         "a formatted width", "a huge power", "writing without end", "looping without end"],
)  # fmt: skip
def test_a_report_template_that_runs_away_is_stopped_with_a_reason(
    ctx: EngineContext, body: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.cases import court_report
    from engine.errors import ScriptFailed

    monkeypatch.setattr(court_report, "REPORT_CPU_SECONDS", 0.5)  # the budget, made short
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    files: dict[str, bytes] = dict(read_bundle([ROOT / "bpmn"]).files)
    deploy_bundle(
        ctx, DESIGNER, Bundle({**files, "reports/court-report-us-tx.html": body.encode()})
    )
    case = reported(ctx, texas(2025, 3, 3, 9, 15), [("Lia Moreno", "2021-11-02")])
    with pytest.raises(ScriptFailed, match=said):
        court_report_html(ctx, SUE, case.id)


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("referral_answer_days", "ten", "data/referral_answer_days"),
        ("services", {"x" * 65: "Too long a code"}, "data/services"),
        ("document_categories", {"medical": ""}, "data/document_categories/medical"),
        ("code_labels", {"RTB": 3}, "data/code_labels/RTB"),
        ("court_report", "../etc/report.html", "data/court_report"),
    ],
)
def test_profile_data_casework_reads_is_checked_at_deploy(
    key: str, value: object, where: str
) -> None:
    files: dict[str, bytes] = dict(read_bundle([ROOT / "bpmn"]).files)
    profile = json.loads(files["profiles/us-tx.json"])
    profile["data"][key] = value
    odd = {**files, "profiles/us-tx.json": json.dumps(profile).encode()}

    problems = validate(Bundle(odd))

    assert problems and {p.file for p in problems} == {"profiles/us-tx.json"}, problems
    assert any(p.message.startswith(where) for p in problems), problems
