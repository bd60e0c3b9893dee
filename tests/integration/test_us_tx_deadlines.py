"""The us-tx deadlines T04, T12, T16, T30, T35 and T38 of DOMAIN §3, and the 15-of-22 count
behind T34, driven through the shipped bpmn/ with the injected clock: each is armed at the
right local moment (America/Chicago; day rules count local dates), met when the work is done
in time, and missed with its ladder's alerts when it is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

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
    removed,
    reported,
    safe,
    texas,
)
from engine.context import Actor, EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.errors import InvalidTaskData, ScriptFailed
from engine.storage.tables import Timer

CPI_SCREENER = Actor("sue.supervisor", "intake_supervisor")
SECOND = timedelta(seconds=1)


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def rungs(case: CpsCase, deadline_id: str) -> list[tuple[str, datetime]]:
    return [(kind, when) for kind, when, _ in case.ladder(deadline_id)]


# -- T04: formal CPI screening of a priority 2 intake, 72 elapsed hours --------------------


def p2_report_for_cpi_screening(ctx: EngineContext, **screening: Any) -> CpsCase:
    # Friday 16:00 CST; the clocks go forward on Sunday 03-09.
    return reported(ctx, texas(2025, 3, 7, 16, 0), [("Cora", "2017-09-01")], screening=screening)


def test_t04_is_armed_only_for_a_p2_intake_sent_to_formal_cpi_screening(
    ctx: EngineContext, cps: Deployment
) -> None:
    plain = p2_report_for_cpi_screening(ctx)
    assert plain.tasks("cpi_screening") == [] and plain.deadlines("T04") == []

    case = p2_report_for_cpi_screening(ctx, formal_cpi_screening=True)

    screening = case.task("cpi_screening")
    assert screening.role == "intake_supervisor"
    # 72 elapsed hours across the spring-forward night: Monday 17:00 CDT, 22:00 UTC.
    due = datetime(2025, 3, 10, 22, 0, tzinfo=UTC)
    assert screening.due_at == due
    deadline = case.deadline("T04")
    assert (deadline.started_at, deadline.due_at, deadline.status) == (
        texas(2025, 3, 7, 16, 0),
        due,
        "open",
    )
    assert rungs(case, "T04") == [
        ("reminder", datetime(2025, 3, 9, 10, 0, tzinfo=UTC)),  # 36 h
        ("reminder", datetime(2025, 3, 10, 4, 0, tzinfo=UTC)),  # 54 h
        ("overdue", due),
    ]
    # The first-contact clock (T07) runs on its own, in parallel.
    assert case.task("first_contact") and case.deadline("T07").status == "open"


def test_t04_met_when_screened_in_time(ctx: EngineContext, cps: Deployment) -> None:
    case = p2_report_for_cpi_screening(ctx, formal_cpi_screening=True)
    screened = texas(2025, 3, 9, 12, 0)
    case.at(screened)

    case.complete(
        "cpi_screening",
        {"screened_at": screened.isoformat(), "priority_confirmed": True},
        CPI_SCREENER,
    )

    deadline = case.deadline("T04")
    assert (deadline.status, deadline.met_at) == ("met", screened)
    assert case.deadline("T07").status == "open"
    case.at(datetime(2025, 3, 10, 22, 0, tzinfo=UTC) + SECOND)
    assert case.alerts("T04") == [("reminder", "T04", ["assignee"])]  # the 36-hour one only
    # The screening does not stop the investigation clock: no contact yet, T07 is missed.
    assert case.deadline("T07").status == "missed" and case.task("first_contact")


def test_t04_missed_alerts_the_supervisor_and_the_task_stays_open(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = p2_report_for_cpi_screening(ctx, formal_cpi_screening=True)
    due = datetime(2025, 3, 10, 22, 0, tzinfo=UTC)

    for moment in (
        datetime(2025, 3, 9, 10, 0, tzinfo=UTC),
        datetime(2025, 3, 10, 4, 0, tzinfo=UTC),
    ):
        case.at(moment + SECOND)
    case.at(due + SECOND)

    assert case.alerts("T04") == [
        ("reminder", "T04", ["assignee"]),
        ("reminder", "T04", ["assignee"]),
        ("overdue", "T04", ["assignee", "supervisor"]),
    ]
    assert case.deadline("T04").status == "missed"
    screening = case.task("cpi_screening")
    assert case.task_row(screening.id).overdue_since == due
    late = texas(2025, 3, 11, 9, 0)
    case.at(late)
    case.complete(
        "cpi_screening", {"screened_at": late.isoformat(), "priority_confirmed": True}, CPI_SCREENER
    )
    assert case.deadline("T04").status == "missed"


# -- T12: a safe finding older than 45 days is reassessed before the investigation closes --


def safe_and_ruled_out(ctx: EngineContext) -> CpsCase:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    contact(case, texas(2025, 3, 3, 15, 0))
    interview_everyone(case)
    safe(case)  # Monday 03-03 15:00 Central
    dispose(case, "RO")
    assess_risk(case, "MODERATE")
    return case


CLOSE = {
    "approved": True,
    "case_action_final": "CLOSE",
    "service_type_final": "NONE",
    "closure_reason": "risk moderate, allegations ruled out",
    "community_referral": "",
}


def test_t12_is_armed_by_a_safe_finding_and_met_by_closing_in_time(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = safe_and_ruled_out(ctx)

    deadline = case.deadline("T12")
    assert (deadline.started_at, deadline.due_at) == (
        texas(2025, 3, 3, 15, 0),
        end_of_texas_day(2025, 4, 17),  # 45 local days
    )
    assert rungs(case, "T12") == [("overdue", end_of_texas_day(2025, 4, 17))]

    case.at(texas(2025, 4, 10, 10, 0))
    case.complete("approve_disposition", CLOSE, SUPERVISOR)

    assert (case.deadline("T12").status, case.deadline("T12").met_at) == (
        "met",
        texas(2025, 4, 10, 10, 0),
    )
    assert case.tasks("reassess_safety_before_closure") == []
    assert case.task("approve_closure")  # the closure went on
    assert case.tasks("notify_findings") == []  # ruled out: no finding to appeal
    case.at(end_of_texas_day(2025, 4, 17) + SECOND)
    assert case.alerts("T12") == []


@pytest.mark.parametrize(
    ("decision", "then"),
    [("SAFE", "closure"), ("CONDITIONALLY_SAFE", "services")],
    ids=["still-safe-closes", "threat-found-opens-services"],
)
def test_t12_missed_blocks_closure_until_safety_is_reassessed(
    ctx: EngineContext, cps: Deployment, decision: str, then: str
) -> None:
    case = safe_and_ruled_out(ctx)

    case.at(end_of_texas_day(2025, 4, 17) + SECOND)

    assert case.deadline("T12").status == "missed"
    assert case.alerts("T12") == [("overdue", "T12", ["assignee", "supervisor"])]
    case.complete("approve_disposition", CLOSE, SUPERVISOR)
    reassessment = case.task("reassess_safety_before_closure")
    assert reassessment.role == "investigator"
    assert "closure" not in case.processes()  # blocked

    case.complete(
        "reassess_safety_before_closure",
        {"reassessed_on": case.on("2025-04-22"), "reassessed_safety_decision": decision},
    )

    assert case.processes()[then] == ["active"]
    assert {"closure", "services"} & set(case.processes()) == {then}


# -- T16: the findings appeal window, 45 days from the notice -----------------------------


def substantiated_and_noticed(ctx: EngineContext) -> CpsCase:
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
    assert case.task("notify_findings").role == "investigator"
    case.complete(
        "notify_findings",
        {"notice_delivered_on": case.on("2025-03-21"), "method": "certified_mail"},
    )
    return case


def test_t16_opens_the_appeal_window_when_the_notice_is_delivered(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = substantiated_and_noticed(ctx)

    appeal = case.task("record_findings_appeal")
    assert appeal.role == "supervisor"
    assert appeal.due_at == end_of_texas_day(2025, 5, 5)  # 45 local days after 03-21
    deadline = case.deadline("T16")
    assert (deadline.started_at, deadline.due_at) == (
        texas(2025, 3, 21),
        end_of_texas_day(2025, 5, 5),
    )
    assert case.ladder("T16") == []  # the window closes without an alert
    assert case.processes()["services"] == ["active"]  # the case went on meanwhile


def test_t16_met_by_an_appeal_within_the_window(ctx: EngineContext, cps: Deployment) -> None:
    case = substantiated_and_noticed(ctx)

    case.complete(
        "record_findings_appeal",
        {"requested_on": case.on("2025-04-15"), "requested_by": "the mother's attorney"},
        SUPERVISOR,
    )

    assert case.deadline("T16").status == "met"
    assert case.tasks("record_findings_appeal") == []


def test_t16_missed_closes_the_window_quietly(ctx: EngineContext, cps: Deployment) -> None:
    case = substantiated_and_noticed(ctx)

    case.at(end_of_texas_day(2025, 5, 5) - SECOND)
    assert case.task("record_findings_appeal")
    case.at(end_of_texas_day(2025, 5, 5) + SECOND)

    assert case.deadline("T16").status == "missed"
    assert case.tasks("record_findings_appeal") == []  # no appeal can be recorded now
    assert case.alerts("T16") == []


# -- T30 and T35: the court's aggravated-circumstances finding ----------------------------


def goals(**changed: Any) -> dict[str, Any]:
    return {
        "primary_goal": "REUNIFICATION",
        "concurrent_goal": "ADOPTION",
        "placed_with_relative": False,
        "compelling_reason_documented": False,
        "services_not_provided": False,
        "abandoned_or_felony_finding": False,
        "trial_home_visit_days": 0,
        **changed,
    }


def adjudicated(ctx: EngineContext) -> CpsCase:
    """Removed Friday 2025-01-10, adjudicated 02-20: permanency planning has started."""
    case = removed(ctx, texas(2025, 1, 10, 9, 0), [("Ana", "2016-04-04")])
    case.complete("adversary_hearing", {"held_on": case.on("2025-01-24")}, ATTORNEY)
    case.complete("record_adjudication", {"adjudication_on": case.on("2025-02-20")}, ATTORNEY)
    return case


def planned(ctx: EngineContext, **changed: Any) -> CpsCase:
    case = adjudicated(ctx)
    case.complete("set_permanency_goals", goals(**changed), CASEWORKER)
    return case


def test_t30_hearing_within_30_days_of_a_no_reasonable_efforts_finding(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = planned(ctx, aggravated_circumstances_on="2025-02-18")

    hearing = case.task("federal_permanency_hearing")
    assert hearing.role == "attorney"
    assert hearing.due_at == end_of_texas_day(2025, 3, 20)  # not entry + 12 months
    deadline = case.deadline("T30")
    assert (deadline.started_at, deadline.due_at) == (
        texas(2025, 2, 18),
        end_of_texas_day(2025, 3, 20),
    )
    assert case.deadlines("T29") == []
    assert case.tasks("file_tpr") == []  # no abandoned-infant or felony finding

    case.complete("federal_permanency_hearing", {"held_on": case.on("2025-03-14")}, ATTORNEY)

    assert case.deadline("T30").status == "met"


def test_t30_missed_alerts_the_attorney(ctx: EngineContext, cps: Deployment) -> None:
    case = planned(ctx, aggravated_circumstances_on="2025-02-18")

    case.at(end_of_texas_day(2025, 3, 20) + SECOND)

    assert case.deadline("T30").status == "missed"
    assert case.alerts("T30") == [("overdue", "T30", ["attorney", "supervisor"])]
    assert case.task("federal_permanency_hearing")  # still to be held


def test_t35_petition_due_60_days_after_the_finding_not_at_month_15(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = adjudicated(ctx)
    with pytest.raises(InvalidTaskData) as refused:  # the finding needs its date
        case.complete("set_permanency_goals", goals(abandoned_or_felony_finding=True), CASEWORKER)
    assert "/aggravated_circumstances_on" in [e.field for e in refused.value.errors]
    case.complete(
        "set_permanency_goals",
        goals(abandoned_or_felony_finding=True, aggravated_circumstances_on="2025-02-18"),
        CASEWORKER,
    )

    petition = case.task("file_tpr")
    assert petition.due_at == end_of_texas_day(2025, 4, 19)  # 60 local days after 02-18
    assert data_of(case, "file_tpr")["tpr_basis"] == "AGGRAVATED_FINDING"
    deadline = case.deadline("T35")
    assert (deadline.started_at, deadline.due_at) == (
        texas(2025, 2, 18),
        end_of_texas_day(2025, 4, 19),
    )
    assert case.deadlines("T34") == []

    case.complete(
        "file_tpr", {"action": "petition_filed", "filed_on": case.on("2025-04-10")}, ATTORNEY
    )

    assert case.deadline("T35").status == "met"


def test_t35_missed_alerts_the_attorney(ctx: EngineContext, cps: Deployment) -> None:
    case = planned(ctx, abandoned_or_felony_finding=True, aggravated_circumstances_on="2025-02-18")

    case.at(end_of_texas_day(2025, 4, 19) + SECOND)

    assert case.deadline("T35").status == "missed"
    assert case.alerts("T35") == [("overdue", "T35", ["attorney", "supervisor"])]


# -- T38: the ICWA notice 10 days (30 on request) before the hearing -----------------------


def hearing_with_icwa(ctx: EngineContext, **scheduled: Any) -> CpsCase:
    case = planned(ctx, compelling_reason_documented=True)
    case.complete(
        "schedule_permanency_hearing", {"hearing_on": "2025-09-06", **scheduled}, ATTORNEY
    )
    return case


def test_t38_is_due_10_days_before_the_hearing_when_icwa_applies(
    ctx: EngineContext, cps: Deployment
) -> None:
    plain = hearing_with_icwa(ctx)
    assert plain.tasks("confirm_icwa_notice") == [] and plain.deadlines("T38") == []

    case = hearing_with_icwa(ctx, icwa_applies=True)

    notice = case.task("confirm_icwa_notice")
    assert notice.role == "attorney"
    assert notice.due_at == end_of_texas_day(2025, 8, 27)
    assert case.deadline("T38").due_at == end_of_texas_day(2025, 8, 27)
    assert rungs(case, "T38") == [("overdue", end_of_texas_day(2025, 8, 27))]
    # The reunification assessment keeps its own date, 30 days before the hearing.
    assert case.task("assess_reunification").due_at == end_of_texas_day(2025, 8, 7)


def test_t38_met_and_a_hearing_too_early_for_the_notice_is_refused(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = hearing_with_icwa(ctx, icwa_applies=True)
    received = {"notice_received_on": case.on("2025-08-20"), "hearing_on": "2025-09-06"}

    # The tribe asks for 20 more days: no hearing before 08-20 + 30 days.
    with pytest.raises(ScriptFailed, match="no hearing before 2025-09-19"):
        case.complete("confirm_icwa_notice", {**received, "more_time_requested": True}, ATTORNEY)
    case.complete(
        "confirm_icwa_notice",
        {**received, "more_time_requested": True, "hearing_on": "2025-09-19"},
        ATTORNEY,
    )

    assert case.deadline("T38").status == "met"


def test_t38_missed_alerts_the_attorney_and_the_hearing_moves(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = hearing_with_icwa(ctx, icwa_applies=True)

    case.at(end_of_texas_day(2025, 8, 27) + SECOND)

    assert case.deadline("T38").status == "missed"
    assert case.alerts("T38") == [("overdue", "T38", ["attorney", "supervisor"])]
    late = {"notice_received_on": case.on("2025-08-30"), "more_time_requested": False}
    with pytest.raises(ScriptFailed, match="no hearing before 2025-09-09"):
        case.complete("confirm_icwa_notice", {**late, "hearing_on": "2025-09-06"}, ATTORNEY)
    case.complete("confirm_icwa_notice", {**late, "hearing_on": "2025-09-09"}, ATTORNEY)
    assert case.deadline("T38").status == "missed"


# -- T34: the 15-of-22 count from the removal date ----------------------------------------


@pytest.mark.parametrize(
    ("today", "months", "petition_due"),
    [((2026, 5, 10), 16, (2026, 4, 10)), ((2025, 11, 10), 10, None)],
    ids=["removed-16-months-ago-tpr-due", "removed-10-months-ago-not-yet"],
)
def test_the_15_of_22_count_comes_from_the_removal_date(
    ctx: EngineContext,
    cps: Deployment,
    today: tuple[int, int, int],
    months: int,
    petition_due: tuple[int, int, int] | None,
) -> None:
    ctx.clock.move_to(texas(*today, 10))  # type: ignore[attr-defined]
    case = removed(ctx, texas(2025, 1, 10, 9, 0), [("Ana", "2016-04-04")])  # Friday 09:00
    case.complete("adversary_hearing", {"held_on": "2025-01-24"}, ATTORNEY)
    case.complete("record_adjudication", {"adjudication_on": "2025-02-20"}, ATTORNEY)
    case.complete("set_permanency_goals", goals(), CASEWORKER)

    if petition_due is not None:
        assert data_of(case, "file_tpr")["months_in_care_last_22"] == months
        # Due the day the 15th month ended, already past: missed at once, and escalated.
        assert case.task("file_tpr").due_at == end_of_texas_day(*petition_due)
        case.after(SECOND)
        assert case.deadline("T34").status == "missed"
        assert case.alerts("T34") == [("overdue", "T34", ["attorney", "supervisor"])]
    else:
        assert case.tasks("file_tpr") == [] and case.deadlines("T34") == []
        # D7 is decided again on the day the child reaches 15 months: 2026-04-10.
        with ctx.db.reader() as session:
            recheck = session.scalars(
                select(Timer.due_at).where(
                    Timer.case_id == case.id, Timer.bpmn_id == "tpr_count_wait"
                )
            ).all()
        assert recheck == [texas(2026, 4, 10)]
