"""The court report is built from the record through the jurisdiction's own template: the
children, the findings with their rationales, the assessments, the chronology of contacts
(late entries marked), the documents; printed to PDF it reads the same; the reporter is
withheld from a reader who may not see them; every report made is audited; and a template
that does not parse, or a profile naming none of the bundle's, is refused at deploy."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from conftest import DESIGNER, ROOT
from cps_cases import CpsCase, investigate_to_approval, reported, texas
from engine.cases.court_report import court_report_html
from engine.context import EngineContext
from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment, validate
from engine.identity.users import Principal
from engine.storage.tables import AuditEvent
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
    [problem] = validate(Bundle(missing))
    assert "data.court_report names 'reports/court-report-us-tx.html'" in problem.message


def _add_reporter(case: CpsCase, name: str) -> None:
    """The neighbour who called, on the case as intake keeps a reporter."""
    import uuid

    from engine.storage.tables import CasePerson

    with case.ctx.db.writer() as session:
        session.add(CasePerson(id=uuid.uuid4(), case_id=case.id, role="reporter", name=name))
        session.commit()
