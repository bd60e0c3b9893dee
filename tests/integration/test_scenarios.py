"""DOMAIN §7 scenarios, driven through the engine on the shipped bpmn/ with the injected clock:
the dates DOMAIN computes, the tasks created, the alerts raised and to whom, the decisions."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import DESIGNER, ROOT
from cps_cases import (
    ATTORNEY,
    CASEWORKER,
    SUPERVISOR,
    CpsCase,
    assess_risk,
    contact,
    data_of,
    dispose,
    end_of_texas_day,
    interview_everyone,
    investigate_to_approval,
    open_report,
    removed,
    report,
    reported,
    safe,
    texas,
    unsafe,
)
from engine.context import EngineContext
from engine.deadlines.extensions import extend_deadline
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.errors import InvalidTaskData, ScriptFailed


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def p1_physical_abuse(ctx: EngineContext) -> CpsCase:
    """Scenario 1's report: physical abuse, age 3, the boyfriend lives in the home."""
    received = texas(2025, 3, 3, 9, 15)
    case = open_report(ctx, [("Lia", "2021-11-02")])
    case.at(received)
    case.complete(
        "record_report",
        report(received, indicators={"physical_abuse": True, "ap_access_24h": True}),
    )
    return case


def test_scenario_1_p1_first_contact_reminders_overdue_and_late_contact(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p1_physical_abuse(ctx)

    contact_task = case.task("first_contact")
    assert contact_task.due_at == texas(2025, 3, 4, 9, 15)  # PT24H from receipt
    assert case.deadline("T06").started_at == texas(2025, 3, 3, 9, 15)
    assert [(kind, when) for kind, when, _ in case.ladder("T06")] == [
        ("reminder", texas(2025, 3, 3, 21, 15)),
        ("reminder", texas(2025, 3, 4, 3, 15)),
        ("overdue", texas(2025, 3, 4, 9, 15)),
        ("escalation", texas(2025, 3, 4, 11, 15)),
    ]

    for moment in (texas(2025, 3, 3, 21, 15), texas(2025, 3, 4, 3, 15), texas(2025, 3, 4, 9, 15)):
        case.at(moment + timedelta(seconds=1))

    assert case.alerts() == [
        ("reminder", "T06", ["assignee"]),
        ("reminder", "T06", ["assignee"]),
        ("overdue", "T06", ["assignee", "supervisor"]),
    ]
    assert {t.bpmn_id for t in case.tasks()} == {"first_contact", "staff_late_contact"}
    assert case.task_row(contact_task.id).overdue_since == texas(2025, 3, 4, 9, 15)

    contact(case, texas(2025, 3, 4, 11, 0))

    deadline = case.deadline("T06")
    assert (deadline.status, deadline.met_at) == ("missed", texas(2025, 3, 4, 11, 0))
    assert case.task("interview_child")  # the investigation goes on
    case.after(timedelta(hours=3))
    assert [a[0] for a in case.alerts()] == ["reminder", "reminder", "overdue"]  # no escalation


def test_scenario_2_child_death_immediate_dispatch_and_sensitive_case(
    ctx: EngineContext, cps: Deployment
) -> None:
    received = texas(2025, 3, 8, 2, 0)
    case = open_report(ctx, [("Ava", "2020-05-01"), ("Ben", "2018-02-11")])
    case.at(received)

    case.complete(
        "record_report",
        report(
            received,
            screening={"child_fatality": True},
            indicators={"death_with_surviving_children": True},
        ),
    )

    assert case.record().sensitive is True
    dispatch = case.task("first_contact")
    assert dispatch.created_at == received  # created at once
    assert dispatch.due_at == texas(2025, 3, 8, 4, 0)
    case.at(texas(2025, 3, 8, 4, 0) + timedelta(seconds=1))
    assert case.alerts() == [("overdue", "T05", ["assignee", "program_director", "supervisor"])]


def test_scenario_3_p2_alternative_response_and_a_duplicate_call(
    ctx: EngineContext, cps: Deployment
) -> None:
    received = texas(2025, 3, 7, 16, 0)  # Friday
    case = open_report(
        ctx, [("Cora", "2017-09-01"), ("Dan", "2015-06-30")], allegations=[("Cora", "PHNG")]
    )
    case.at(received)
    case.complete("record_report", report(received))

    contact_task = case.task("first_contact")
    # 72 elapsed hours; the weekend counts, and so does the spring-forward hour of 03-09:
    # Monday 16:00 CST would be 15:00 CDT, so the window closes at 17:00 CDT (22:00 UTC).
    assert contact_task.due_at == datetime(2025, 3, 10, 22, 0, tzinfo=UTC)
    assert case.deadline("T07").deadline_id == "T07"

    # Saturday: a second caller reports the same incident.
    second = open_report(ctx, [("Cora", "2017-09-01")])
    second.at(texas(2025, 3, 8, 10, 0))
    second.complete(
        "record_report",
        report(texas(2025, 3, 8, 10, 0), screening={"duplicate_of_open_intake": True}),
    )
    assert second.processes() == {"intake": ["completed"]}  # no investigation, no new clock
    assert second.deadlines() == []

    # The alternative-response pathway records no dispositions.
    contact(case, texas(2025, 3, 9, 12, 0))
    interview_everyone(case)
    safe(case)
    assert case.tasks("record_disposition") == []
    assert case.task("assess_risk")


def test_scenario_4_screen_out_needs_a_supervisor(ctx: EngineContext, cps: Deployment) -> None:
    received = texas(2025, 3, 3, 10, 0)
    case = open_report(ctx, [("Eli", "2005-07-01")])  # 19 years old
    case.at(received)

    case.complete(
        "record_report",
        report(received, reporter={"anonymous": True}),
    )
    approval = case.task("approve_screening")
    assert approval.role == "intake_supervisor"
    case.complete(
        "approve_screening",
        {"approved": True, "screen_in_instead": False, "review_notes": "adult: referred to APS"},
        SUPERVISOR,
    )

    assert case.processes() == {"intake": ["completed"]}
    assert case.tasks() == []
    assert case.record().status == "screened_out"


def test_scenario_5_conditionally_safe_plan_expires_and_blocks_closure(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 15), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    contact(case, texas(2025, 3, 4, 9, 0))
    interview_everyone(case)
    case.complete(
        "assess_safety",
        {"threats": ["excessive_discipline"], "in_home_interventions_sufficient": True,
         "protective_placement_agreed": False},
    )  # fmt: skip
    assert data_of(case, "approve_safety_assessment")["safety_decision"] == "CONDITIONALLY_SAFE"
    case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)
    case.complete(
        "write_safety_plan",
        {
            "plan_signed_on": case.on("2025-03-05"),
            "actions": [{"action": "grandmother moves in", "responsible": "grandmother"}],
        },
    )
    case.complete("approve_safety_plan", {"approved": True}, SUPERVISOR)

    assert case.task("follow_up_safety_plan").due_at == end_of_texas_day(2025, 4, 4)
    assert [(k, w) for k, w, _ in case.ladder("T11")] == [
        ("reminder", end_of_texas_day(2025, 3, 30)),
        ("overdue", end_of_texas_day(2025, 4, 4)),
    ]
    case.at(end_of_texas_day(2025, 3, 30) + timedelta(seconds=1))
    case.at(end_of_texas_day(2025, 4, 4) + timedelta(seconds=1))
    assert case.alerts("T11") == [
        ("reminder", "T11", ["assignee"]),
        ("overdue", "T11", ["assignee", "supervisor"]),
    ]
    # Submitting for closure waits for the follow-up and its safety reassessment.
    assert case.tasks("record_disposition") == [] and case.tasks("approve_disposition") == []

    case.complete(
        "follow_up_safety_plan",
        {"outcome": "reassessed_safe", "reassessed_on": case.on("2025-04-06")},
    )

    assert len(case.tasks("record_disposition")) == 1


def test_scenario_7_investigation_extension_and_derived_disposition(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 8, 0), [("Lia", "2021-11-02"), ("Max", "2019-01-09")],
        allegations=[("Lia", "PHAB"), ("Max", "NSUP")], indicators={"physical_abuse": True},
    )  # fmt: skip
    contact(case, texas(2025, 3, 3, 15, 0))
    assert case.deadline("T13").due_at == end_of_texas_day(2025, 4, 2)  # P30D from initiation

    case.at(texas(2025, 3, 28, 10, 0))
    extend_deadline(
        ctx, SUPERVISOR, case.id, "T13", end_of_texas_day(2025, 5, 2), "approved extension staffing"
    )

    assert case.deadline("T13").due_at == end_of_texas_day(2025, 5, 2)
    case.at(end_of_texas_day(2025, 4, 2) + timedelta(hours=1))
    assert case.alerts("T13") == []  # the old date passed quietly
    interview_everyone(case)
    safe(case)
    dispose(case, "RTB", "RO")
    assess_risk(case, "HIGH")
    decided = data_of(case, "approve_disposition")
    assert decided["overall_disposition"] == "RTB"
    assert decided["finding"] == "SUBSTANTIATED"
    assert [k for k, _, s in case.ladder("T13") if s == "pending"] == [
        "reminder",
        "overdue",
        "escalation",
    ]


@pytest.mark.parametrize(
    ("findings", "risk", "threats", "decided"),
    [
        (("RTB",), "HIGH", None, ("OPEN", "IN_HOME")),  # (a) rule 9
        (("RO",), "MODERATE", None, ("CLOSE", "NONE")),  # (b) rule 7
        (("RO",), "VERY_HIGH", None, ("SUPERVISOR_DECIDES", "IN_HOME")),  # (c) rule 10
        (("RO",), "LOW", ["excessive_discipline"], ("OPEN", "IN_HOME")),  # (d) rule 4 before 5
    ],
    ids=["a-open", "b-close", "c-supervisor-decides", "d-conditionally-safe-low"],
)
def test_scenario_8_risk_to_case_opening(
    ctx: EngineContext,
    cps: Deployment,
    findings: tuple[str, ...],
    risk: str,
    threats: list[str] | None,
    decided: tuple[str, str],
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    investigate_to_approval(
        case, texas(2025, 3, 3, 15, 0), findings=findings, risk=risk, threats=threats
    )

    data = data_of(case, "approve_disposition")
    assert (data["case_action"], data["service_type"]) == decided


def test_scenario_8a_open_starts_in_home_services_with_ten_day_tasks(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    investigate_to_approval(case, texas(2025, 3, 3, 15, 0), findings=("RTB",), risk="HIGH")
    case.at(texas(2025, 3, 20, 10, 0))

    case.complete(
        "approve_disposition",
        {"approved": True, "case_action_final": "OPEN", "service_type_final": "IN_HOME",
         "closure_reason": "", "community_referral": ""},
        SUPERVISOR,
    )  # fmt: skip

    assert case.processes()["services"] == ["active"]
    assert case.task("ten_day_contacts").due_at == end_of_texas_day(2025, 3, 30)


def test_scenario_8b_close_needs_a_reason_and_goes_to_closure(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    investigate_to_approval(case, texas(2025, 3, 3, 15, 0), findings=("RO",), risk="MODERATE")

    with pytest.raises(InvalidTaskData) as refused:
        case.complete(
            "approve_disposition",
            {"approved": True, "case_action_final": "CLOSE", "service_type_final": "NONE",
             "closure_reason": "", "community_referral": ""},
            SUPERVISOR,
        )  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["/closure_reason"]
    case.complete(
        "approve_disposition",
        {"approved": True, "case_action_final": "CLOSE", "service_type_final": "NONE",
         "closure_reason": "risk moderate, allegations ruled out", "community_referral": ""},
        SUPERVISOR,
    )  # fmt: skip

    assert case.task("approve_closure").role == "supervisor"


def test_scenario_8c_supervisor_decides_closing_needs_a_community_referral(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    investigate_to_approval(case, texas(2025, 3, 3, 15, 0), findings=("RO",), risk="VERY_HIGH")
    plain_close = {"approved": True, "case_action_final": "CLOSE", "service_type_final": "NONE",
                   "closure_reason": "family declines services", "community_referral": ""}  # fmt: skip

    with pytest.raises(ScriptFailed, match="community referral"):
        case.complete("approve_disposition", plain_close, SUPERVISOR)
    case.complete(
        "approve_disposition",
        {
            **plain_close,
            "case_action_final": "CLOSE_WITH_REFERRAL",
            "community_referral": "family resource center",
        },
        SUPERVISOR,
    )

    assert case.processes()["closure"] == ["active"]


def test_scenario_6_emergency_removal_and_the_texas_court_chain(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 7, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    contact(case, texas(2025, 3, 7, 14, 0))
    interview_everyone(case)
    unsafe(case)
    possession = texas(2025, 3, 7, 18, 0)  # Friday evening, no court order
    case.at(possession)

    case.complete(
        "record_removal",
        {"removal_at": possession.isoformat(), "removal_type": "emergency_possession",
         "placement_type": "relative_kinship", "reason": "unsafe; no protective caregiver",
         "placements": [{"child_id": case.person_id("Lia"), "provider": "grandmother Rosa",
                         "placement_type": "relative_kinship"}]},
    )  # fmt: skip

    due = {t.bpmn_id: t.due_at for t in case.tasks()}
    assert due["obtain_tmc_order"] == end_of_texas_day(2025, 3, 10)  # first working day
    assert due["adversary_hearing"] == end_of_texas_day(2025, 3, 21)  # day 14
    assert due["medical_exam"] == end_of_texas_day(2025, 3, 12)  # 3 business days
    assert due["notify_relatives"] == end_of_texas_day(2025, 4, 6)  # 30 days
    assert due["federal_case_plan"] == end_of_texas_day(2025, 5, 6)  # removal + 60
    assert due["reasonable_efforts_finding"] == end_of_texas_day(2025, 5, 6)
    assert due["schedule_initial_services"] == end_of_texas_day(2025, 3, 28)

    case.at(texas(2025, 3, 10, 11, 0))
    case.complete("obtain_tmc_order", {"tmc_order_on": "2025-03-10"}, ATTORNEY)

    due = {t.bpmn_id: t.due_at for t in case.tasks()}
    assert due["file_service_plan"] == end_of_texas_day(2025, 4, 24)  # TMC + 45
    assert due["status_hearing"] == end_of_texas_day(2025, 5, 9)  # TMC + 60
    assert due["initial_permanency_hearing"] == end_of_texas_day(2025, 9, 6)  # TMC + 180
    assert due["track_dismissal_date"] == end_of_texas_day(2026, 3, 16)  # Monday after TMC + 1 year
    assert [(k, w) for k, w, _ in case.ladder("T33")] == [
        ("reminder", end_of_texas_day(2025, 12, 16)),
        ("due", end_of_texas_day(2026, 1, 15)),  # party notice 60 days ahead
        ("overdue", end_of_texas_day(2026, 3, 16)),
    ]
    assert {p: s for p, s in case.processes().items()} | {} == {
        "intake": ["completed"],
        "investigation": ["active"],
        "substitute_care": ["active"],
        "monthly_visit": ["active"],
        "periodic_review": ["active"],
    }


def test_scenario_9_monthly_visits_and_the_residence_rule(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = removed(ctx, texas(2025, 1, 15, 10, 0), [("Ana", "2016-04-04")])
    assert case.task("record_visit").due_at == end_of_texas_day(2025, 1, 31)

    case.at(texas(2025, 1, 20, 15, 0))
    case.complete("record_visit", {"visited_on": "2025-01-20", "location": "child_residence",
                                   "child_seen_alone": True}, CASEWORKER)  # fmt: skip
    case.at(end_of_texas_day(2025, 1, 31) + timedelta(seconds=1))  # January closes, February opens
    case.at(texas(2025, 2, 27, 15, 0))
    case.complete("record_visit", {"visited_on": "2025-02-27", "location": "school",
                                   "child_seen_alone": True}, CASEWORKER)  # fmt: skip
    assert case.task("review_visit_location").role == "supervisor"  # TX first-three-months rule
    case.at(end_of_texas_day(2025, 2, 28) + timedelta(seconds=1))

    case.at(texas(2025, 3, 20, 0, 0) + timedelta(seconds=1))
    # On the 20th of each month with no visit yet: January's and February's visits came later.
    assert case.alerts("T27-reminder") == [("reminder", "T27-reminder", ["assignee"])] * 3
    case.at(end_of_texas_day(2025, 3, 31) + timedelta(seconds=1))

    months = [
        (d.started_at.astimezone(UTC).date().isoformat(), d.status) for d in case.deadlines("T27")
    ]
    assert [status for _, status in months[:3]] == ["met", "met", "missed"]
    assert case.alerts("T27") == [("overdue", "T27", ["supervisor"])]
    assert len(case.deadlines("T27")) == 4  # April is open


@pytest.mark.parametrize(
    ("relative", "home_visit_days", "tpr_due"),
    [(True, 0, None), (False, 0, (2026, 4, 10)), (False, 10, (2026, 4, 20))],
    ids=["a-relative-exception", "b-file-tpr", "trial-home-visit-moves-it"],
)
def test_scenario_10_federal_clocks_and_the_15_of_22_rule(
    ctx: EngineContext,
    cps: Deployment,
    relative: bool,
    home_visit_days: int,
    tpr_due: tuple[int, int, int] | None,
) -> None:
    case = removed(ctx, texas(2025, 1, 10, 9, 0), [("Ana", "2016-04-04")])
    case.complete("adversary_hearing", {"held_on": case.on("2025-01-24")}, ATTORNEY)
    case.at(texas(2025, 4, 1, 10, 0))

    case.complete("record_adjudication", {"adjudication_on": "2025-04-01"}, ATTORNEY)
    case.complete(
        "set_permanency_goals",
        {"primary_goal": "REUNIFICATION", "concurrent_goal": "ADOPTION",
         "placed_with_relative": relative, "compelling_reason_documented": False,
         "services_not_provided": False, "abandoned_or_felony_finding": False,
         "trial_home_visit_days": home_visit_days},
        CASEWORKER,
    )  # fmt: skip

    # Entered care = min(adjudication 04-01, removal + 60 days = 03-11).
    assert case.task("federal_permanency_hearing").due_at == end_of_texas_day(2026, 3, 11)
    # 2.7 months in care of the last 22 (removed 01-10): no petition yet, or ever with a
    # relative. Otherwise D7 is decided again on the day the count reaches 15 (removal + 15
    # months, later by the days on trial home visits), and the petition is due that day.
    assert case.tasks("file_tpr") == []
    if tpr_due is not None:
        case.at(texas(*tpr_due) - timedelta(minutes=1))
        assert case.tasks("file_tpr") == []
        case.at(texas(*tpr_due) + timedelta(seconds=1))
        assert case.task("file_tpr").due_at == end_of_texas_day(*tpr_due)
        assert data_of(case, "file_tpr")["months_in_care_last_22"] == 15
        assert case.deadline("T34").due_at == end_of_texas_day(*tpr_due)


def test_scenario_11_reunification_and_closure_gates(ctx: EngineContext, cps: Deployment) -> None:
    case = removed(ctx, texas(2025, 1, 10, 9, 0), [("Ana", "2016-04-04")])
    case.complete("adversary_hearing", {"held_on": case.on("2025-01-24")}, ATTORNEY)
    case.complete("record_adjudication", {"adjudication_on": case.on("2025-02-20")}, ATTORNEY)
    case.complete(
        "set_permanency_goals",
        {"primary_goal": "REUNIFICATION", "concurrent_goal": "ADOPTION",
         "placed_with_relative": False, "compelling_reason_documented": True,
         "services_not_provided": False, "abandoned_or_felony_finding": False,
         "trial_home_visit_days": 0},
        CASEWORKER,
    )  # fmt: skip
    case.complete("schedule_permanency_hearing", {"hearing_on": "2025-09-06"}, ATTORNEY)
    assert case.task("assess_reunification").due_at == end_of_texas_day(2025, 8, 7)

    case.at(texas(2025, 8, 1, 10, 0))
    case.complete(
        "assess_reunification",
        {"reunification_risk": "MODERATE", "visitation_quality": "ACCEPTABLE",
         "safety_if_returned": "CONDITIONALLY_SAFE", "reunification_time_remaining": True},
        CASEWORKER,
    )  # fmt: skip
    case.complete("monitored_return", {"returned_on": case.on("2025-09-08")}, CASEWORKER)
    case.at(texas(2025, 10, 1, 10, 0))
    case.complete(
        "inhome_risk_reassessment",
        {"reassessed_risk": "LOW", "unresolved_threats": False},
        CASEWORKER,
    )

    assert case.processes()["closure"] == ["active"]
    assert case.tasks("family_closure_meeting") == []  # the supervisor decides first
    case.complete(
        "approve_closure",
        {"closure_approved": True, "closing_summary": "reunified, risk low"},
        SUPERVISOR,
    )
    assert case.task("family_closure_meeting").due_at == end_of_texas_day(2025, 10, 16)
    case.complete("family_closure_meeting", {"held_on": case.on("2025-10-10")}, CASEWORKER)
    assert case.record().status == "open"  # still waiting for the court's order
    case.complete(
        "file_court_order",
        {"order_on": case.on("2025-10-14"), "document_reference": "order-5521"},
        ATTORNEY,
    )

    closed = case.record()
    assert (closed.status, closed.closed_at) == ("closed", ctx.clock.now())
    assert case.tasks() == []
    statuses = case.processes()
    assert statuses["closure"] == ["completed"]
    assert "active" not in {s for states in statuses.values() for s in states}


def test_a_designer_changes_a_response_window_and_the_next_case_follows(
    ctx: EngineContext, cps: Deployment, tmp_path: Path
) -> None:
    before = reported(
        ctx,
        texas(2025, 3, 3, 9, 0),
        [("Lia", "2021-11-02")],
        indicators={"physical_abuse": True, "ap_access_24h": True},
    )
    edited = tmp_path / "bpmn"
    shutil.copytree(ROOT / "bpmn", edited)
    table = edited / "priority.dmn"
    table.write_text(table.read_text().replace("<text>24</text>", "<text>12</text>"))
    # The designer's scenario of a late P1 contact says so too, or the deploy is refused.
    scenario = edited / "scenarios" / "late_first_contact.json"
    told = scenario.read_text().replace("2025-03-04T09:00:00-06:00", "2025-03-03T21:00:00-06:00")
    scenario.write_text(told.replace('"PT23H"', '"PT11H"'))

    second = deploy_bundle(ctx, DESIGNER, read_bundle([edited]))
    after = reported(
        ctx,
        texas(2025, 3, 3, 10, 0),
        [("Max", "2021-11-02")],
        indicators={"physical_abuse": True, "ap_access_24h": True},
    )

    assert second.version_id == cps.version_id + 1
    assert after.task("first_contact").due_at == texas(2025, 3, 3, 22, 0)  # 12 hours now
    assert before.task("first_contact").due_at == texas(2025, 3, 4, 9, 0)  # its version: 24
