"""The case record, through the shipped diagrams: what a completed task's form said becomes an
entry of the case file with its event time and entry time; dates ahead of the clock are
refused; deadlines, the case file and the team's measures judge work by when it happened;
amendments keep the original; decisions say why; per-child work names its child."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from conftest import DESIGNER, ROOT
from cps_cases import (
    CASEWORKER,
    SUPERVISOR,
    UNSAFE,
    CpsCase,
    contact,
    end_of_texas_day,
    interview_everyone,
    open_report,
    report,
    texas,
    unsafe,
)
from engine.cases import amendments, casefile
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.errors import Conflict, Forbidden, InvalidTaskData
from engine.identity.users import Principal
from engine.instances import messages
from engine.storage.tables import AuditEvent, RecordEntry
from engine.tasks.caseload import caseload
from engine.tasks.completion import complete_task
from engine.tasks.detail import task_detail

SUE = Principal(
    "sue.supervisor", "Sue", frozenset({"supervisor"}), "north",
    supervised_teams=frozenset({"north"}),
)  # fmt: skip
IVY = Principal("ivy.investigator", "Ivy", frozenset({"investigator"}), "north")
RECEIVED = texas(2025, 3, 3, 9, 15)  # a P1 report: first contact due 24 hours later


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def p1_case(ctx: EngineContext, children: list[tuple[str, str]] | None = None) -> CpsCase:
    case = open_report(ctx, children or [("Lia Moreno", "2021-11-02")])
    case.at(RECEIVED)
    case.complete(
        "record_report",
        report(RECEIVED, indicators={"physical_abuse": True, "ap_access_24h": True}),
    )
    return case


def entries(case: CpsCase, kind: str | None = None) -> list[dict[str, Any]]:
    found = casefile.case_file(case.ctx, SUE, case.id)["record"]
    return [e for e in found if kind is None or e["kind"] == kind]


def test_a_completed_form_is_an_entry_with_both_clocks_and_its_labels(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_case(ctx)
    case.at(texas(2025, 3, 3, 15, 0))
    case.complete(
        "first_contact",
        {"contact_at": texas(2025, 3, 3, 14, 30).isoformat(), "location": "child_residence",
         "children_seen": ["Lia Moreno"], "notes": "Lia seen at home, bruise on the left cheek"},
    )  # fmt: skip

    [first] = entries(case, "initiation")
    assert first["title"] == "First face-to-face contact"
    assert first["occurred_at"] == texas(2025, 3, 3, 14, 30).isoformat()
    assert first["entered_at"] == texas(2025, 3, 3, 15, 0).isoformat()
    assert (first["entered_by"], first["late_entry"]) == ("ivy.investigator", False)
    said = {f["label"]: f["text"] for f in first["facts"]}
    assert said["Notes"] == "Lia seen at home, bruise on the left cheek"
    assert said["Where"] == "Child residence"  # a code in words

    # The report the screener recorded is on the record too, after the report as filed.
    kinds = [e["kind"] for e in entries(case)]
    assert kinds.index("report") < kinds.index("initiation")
    assert "decision" in kinds


def test_an_event_dated_ahead_of_the_clock_is_refused_and_changes_nothing(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_case(ctx)
    task = case.task("first_contact")
    ahead = {"contact_at": texas(2025, 4, 3, 9, 0).isoformat(), "location": "child_residence"}

    with pytest.raises(InvalidTaskData) as refused:
        complete_task(ctx, case_actor(), task.id, ahead)

    assert [e.field for e in refused.value.errors] == ["/contact_at"]
    assert case.task("first_contact").id == task.id  # still open, nothing moved
    assert entries(case, "initiation") == []
    # A few minutes of clock drift between devices is not "the future".
    near = {**ahead, "contact_at": (ctx.clock.now() + timedelta(minutes=2)).isoformat()}
    complete_task(ctx, case_actor(), task.id, near)
    assert len(entries(case, "initiation")) == 1


def case_actor() -> Any:
    from cps_cases import INVESTIGATOR

    return INVESTIGATOR


def test_a_late_entry_of_work_done_in_time_is_on_time_on_the_case_and_the_dashboard(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_case(ctx)
    due = texas(2025, 3, 4, 9, 15)
    case.at(due + timedelta(seconds=1))  # the clock passes the deadline: missed, overdue
    assert case.deadline("T06").status == "missed"

    # The contact was made 30 minutes before the deadline and typed an hour after it.
    case.at(due + timedelta(hours=1))
    case.complete(
        "first_contact",
        {"contact_at": (due - timedelta(minutes=30)).isoformat(), "location": "child_residence"},
    )

    deadline = case.deadline("T06")
    assert (deadline.status, deadline.met_at) == ("met", due - timedelta(minutes=30))
    assert deadline.entered_at == due + timedelta(hours=1)
    [shown] = [d for d in casefile.case_file(ctx, SUE, case.id)["deadlines"]
               if d["deadline_id"] == "T06"]  # fmt: skip
    assert (shown["status"], shown["late_entry"]) == ("met", True)
    measure = caseload(ctx, SUE)["measures"]["initiation_timeliness"]
    assert (measure["on_time"], measure["total"]) == (1, 1)
    with ctx.db.reader() as session:
        recomputed = session.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case.id, AuditEvent.action == "deadline.recomputed"
            )
        ).all()
    assert [a.details["status"] for a in recomputed] == ["met"]


def test_work_done_after_its_deadline_stays_missed_whenever_it_is_entered(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_case(ctx)
    contact(case, texas(2025, 3, 4, 11, 0))  # two hours after the deadline
    deadline = case.deadline("T06")
    assert (deadline.status, deadline.met_at) == ("missed", texas(2025, 3, 4, 11, 0))
    measure = caseload(ctx, SUE)["measures"]["initiation_timeliness"]
    assert (measure["on_time"], measure["total"]) == (0, 1)


def test_an_amendment_keeps_the_original_and_judges_the_deadline_again(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_case(ctx)
    contact(case, texas(2025, 3, 4, 8, 0))
    assert case.deadline("T06").status == "met"
    [entry] = entries(case, "initiation")
    corrected = {"contact_at": texas(2025, 3, 4, 10, 0).isoformat(), "location": "school"}
    change = amendments.Amendment(case.id, uuid.UUID(entry["id"]), corrected, "")

    with pytest.raises(InvalidTaskData) as no_reason:
        amendments.amend(ctx, SUE, change)
    assert [e.field for e in no_reason.value.errors] == ["/reason"]
    other = Principal("ian.investigator", "Ian", frozenset({"investigator"}), "north")
    with pytest.raises(Exception) as not_theirs:
        amendments.amend(ctx, other, change)
    assert isinstance(not_theirs.value, Forbidden) or "no case" in str(not_theirs.value)
    future = amendments.Amendment(
        case.id, change.entry_id, {**corrected, "contact_at": "2025-05-01T10:00:00-05:00"},
        "the time was typed wrong",
    )  # fmt: skip
    with pytest.raises(InvalidTaskData):
        amendments.amend(ctx, SUE, future)
    with ctx.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(RecordEntry).where(
            RecordEntry.amends_id.is_not(None))) == 0  # fmt: skip

    case.at(texas(2025, 3, 4, 12, 0))
    why = "the visit log says 10:00"
    shown = amendments.amend(
        ctx, SUE, amendments.Amendment(case.id, change.entry_id, corrected, why)
    )

    assert shown["amended"] is True
    assert shown["occurred_at"] == texas(2025, 3, 4, 10, 0).isoformat()
    assert shown["original"]["data"]["location"] == "child_residence"
    assert [(a["entered_by"], a["reason"]) for a in shown["amendments"]] == [
        ("sue.supervisor", "the visit log says 10:00")
    ]
    # 10:00 is after the 09:15 deadline: the amended event time misses it, visibly.
    assert case.deadline("T06").status == "missed"
    with ctx.db.reader() as session:
        actions = list(session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_id == case.id)
            .order_by(AuditEvent.at, AuditEvent.id)))  # fmt: skip
    assert sorted(actions[-2:]) == ["deadline.recomputed", "record.amended"]


def test_per_child_work_names_its_child_everywhere(ctx: EngineContext, cps: Deployment) -> None:
    case = p1_case(ctx, [("Lia Moreno", "2021-11-02"), ("Ben Moreno", "2018-06-30")])
    contact(case, texas(2025, 3, 3, 16, 0))

    names = sorted(t.name for t in case.tasks("interview_child"))
    assert names == ["Interview child — Ben Moreno (6)", "Interview child — Lia Moreno (3)"]
    for task in case.tasks("interview_child"):
        said = {"interview": {"interviewed_on": case.today(), "summary": task.name}}
        complete_task(ctx, case_actor(), task.id, said)
    interviews = entries(case, "interview")
    assert sorted(e["subject"] for e in interviews) == ["Ben Moreno (6)", "Lia Moreno (3)"]
    assert all(e["subject_id"] for e in interviews)


def test_a_decision_keeps_its_inputs_and_the_rule_that_matched(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_case(ctx)
    decisions = casefile.case_file(ctx, SUE, case.id)["decisions"]
    [priority] = [d for d in decisions if d["element_id"] == "prioritize"]
    assert priority["rules"] and all(isinstance(r["row"], int) for r in priority["rules"])
    assert priority["inputs"]
    assert f"rule {priority['rules'][0]['row']} of {priority['table']}" in priority["explanation"]


def test_supervisor_decisions_show_on_the_record(ctx: EngineContext, cps: Deployment) -> None:
    case = p1_case(ctx)
    contact(case, texas(2025, 3, 3, 16, 0))
    approvals_before = len(entries(case))
    case.complete(
        "assess_safety",
        {"threats": [], "in_home_interventions_sufficient": False,
         "protective_placement_agreed": False},
    )  # fmt: skip
    case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)
    assert len(entries(case)) > approvals_before
    [assessment] = entries(case, "safety_assessment")
    assert assessment["entered_by"] == "ivy.investigator"


def test_the_report_as_filed_opens_the_record_and_fills_record_hotline_report(
    ctx: EngineContext, cps: Deployment
) -> None:
    sam = Principal("sam.screener", "Sam", frozenset({"intake_screener"}), "north")
    ctx.clock.move_to(RECEIVED)  # type: ignore[attr-defined]
    filed = casefile.file_intake(
        ctx,
        sam,
        {
            "team": "north",
            "county": "Travis",
            "summary": "bruises on a toddler's face",
            "reporter": {"name": "Rita Reporter", "contact": "555-0100", "mandated": True},
            "children": [{"name": "Lia Moreno", "birth_date": "2021-11-02"}],
            "alleged_perpetrators": [{"name": "Rob"}],
            "allegations": [{"victim": 0, "perpetrator": 0, "type": "PHAB",
                             "narrative": "slapped at bedtime"}],
        },
    )  # fmt: skip
    case = CpsCase(ctx, filed.id, filed.case_number)
    detail = task_detail(ctx, sam, case.task("record_report").id)

    data = detail["data"]
    assert data["county"] == "Travis"
    assert data["reporter"]["contact"] == "555-0100"
    assert data["indicators"] == {"physical_abuse": True}
    assert "slapped at bedtime" in data["narrative"]
    assert data["received_at"] == RECEIVED.isoformat()
    [intake] = entries(case, "intake")
    said = {f["label"]: f for f in intake["facts"]}
    assert said["County"]["text"] == "Travis"


def test_an_entry_typed_days_after_the_event_is_marked_late(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_case(ctx)
    contact(case, texas(2025, 3, 3, 16, 0))
    [first] = case.tasks("interview_child")
    case.at(texas(2025, 3, 7, 10, 0))
    said = {"interview": {"interviewed_on": "2025-03-03", "summary": "seen at home"}}
    complete_task(ctx, case_actor(), first.id, said)
    [interview] = entries(case, "interview")
    assert (interview["occurred_on"], interview["late_entry"]) == ("2025-03-03", True)


def unsafe_and_removed(ctx: EngineContext) -> CpsCase:
    case = p1_case(ctx, [("Lia Moreno", "2021-11-02"), ("Ben Moreno", "2018-06-30")])
    contact(case, texas(2025, 3, 3, 16, 0))
    for task in case.tasks("interview_child"):
        said = {"interview": {"interviewed_on": case.today(), "summary": "seen"}}
        complete_task(ctx, case_actor(), task.id, said)
    unsafe(case)
    case.at(texas(2025, 3, 3, 19, 0))
    removal = {
        "removal_at": texas(2025, 3, 3, 18, 30).isoformat(),
        "removal_type": "emergency_possession",
        "placement_type": "relative_kinship",
        "reason": "unsafe; no protective caregiver",
    }
    stranger = {"child_id": str(uuid.uuid4()), "provider": "x", "placement_type": "congregate"}
    with pytest.raises(InvalidTaskData) as refused:
        case.complete("record_removal", {**removal, "placements": [stranger]})
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("/placements/0/child_id", "names none of this case's children")
    ]
    lia, ben = case.person_id("Lia Moreno"), case.person_id("Ben Moreno")
    case.complete(
        "record_removal",
        {**removal, "placements": [
            {"child_id": lia, "provider": "grandmother Rosa", "placement_type": "relative_kinship",
             "address": "4 Oak Rd"},
            {"child_id": ben, "provider": "Hill foster home",
             "placement_type": "non_relative_foster"},
        ]},
    )  # fmt: skip
    return case


def test_a_removal_records_each_child_and_a_move_is_a_process_of_its_own(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = unsafe_and_removed(ctx)
    lia, ben = case.person_id("Lia Moreno"), case.person_id("Ben Moreno")
    [removal] = entries(case, "removal")
    rows = next(f for f in removal["facts"] if f["field"] == "placements")["rows"]
    assert [r[0]["text"] for r in rows] == ["Lia Moreno (3)", "Ben Moreno (6)"]  # names, not ids

    # Ben moves: his caseworker starts a placement change from the case.
    case.at(texas(2025, 4, 2, 10, 0))
    messages.send_message(ctx, SUE, "placement_change_requested", case_id=case.id, payload={})
    with pytest.raises(Forbidden):
        messages.send_message(
            ctx, Principal("ada", "Ada", frozenset({"attorney"}), "north",
                           supervised_teams=frozenset({"north"})),
            "placement_change_requested", case_id=case.id, payload={},
        )  # fmt: skip
    case.complete(
        "record_placement_change",
        {"child_id": ben, "moved_on": "2025-04-01", "provider": "aunt Lola",
         "placement_type": "relative_kinship", "reason_for_change": "kin_found"},
        CASEWORKER,
    )  # fmt: skip
    assert case.task("notify_placement_change").due_at == end_of_texas_day(2025, 4, 3)
    assert case.task("visit_new_placement").due_at == end_of_texas_day(2025, 4, 8)
    case.complete(
        "notify_placement_change", {"notified_on": "2025-04-02", "parties": ["parents", "court"]},
        CASEWORKER,
    )  # fmt: skip

    stays = casefile.case_file(ctx, SUE, case.id)["placements"]
    assert [(s["provider"], s["start"], s["end"]) for s in stays[ben]] == [
        ("Hill foster home", "2025-03-03", "2025-04-01"),
        ("aunt Lola", "2025-04-01", None),
    ]
    assert [(s["provider"], s["end"]) for s in stays[lia]] == [("grandmother Rosa", None)]
    assert case.deadline("PC1").status == "met"


def test_a_decision_is_not_amended(ctx: EngineContext, cps: Deployment) -> None:
    case = p1_case(ctx)
    [decision, *_] = entries(case, "decision")
    change = amendments.Amendment(
        case.id, uuid.UUID(decision["id"]), {"rules": [{}]}, "the table was wrong here"
    )
    with pytest.raises(Conflict):
        amendments.amend(ctx, SUE, change)


def test_a_form_starts_with_its_own_earlier_answers_never_another_forms(
    ctx: EngineContext, cps: Deployment
) -> None:
    """Forms share field names ("notes"): the first contact's notes are not the safety
    assessment's, but an assessment sent back opens with what its worker wrote."""
    case = p1_case(ctx)
    case.at(texas(2025, 3, 3, 15, 0))
    case.complete(
        "first_contact",
        {
            "contact_at": texas(2025, 3, 3, 14, 0).isoformat(),
            "location": "child_residence",
            "notes": "seen at the hospital",
        },
    )
    interview_everyone(case)
    assessment = case.task("assess_safety")
    assert "notes" not in task_detail(ctx, SUE, assessment.id)["data"]

    threats = {**UNSAFE, "notes": "the boyfriend still lives in the home"}
    case.complete("assess_safety", threats)
    case.complete(
        "approve_safety_assessment",
        {"approved": False, "review_notes": "ask the grandmother first"},
        SUPERVISOR,
    )
    again = task_detail(ctx, SUE, case.task("assess_safety").id)["data"]
    assert again["notes"] == "the boyfriend still lives in the home"
    # Resubmitted, the supervisor's decision is asked afresh: it never starts answered.
    case.complete("assess_safety", {**threats, "notes": "the grandmother moved in"})
    asked = task_detail(ctx, SUE, case.task("approve_safety_assessment").id)["data"]
    assert "approved" not in asked and "review_notes" not in asked
