"""Every supervisor approval in bpmn/ acts on its answer, driven through the shipped diagrams:
"no" (with notes, which the form then requires) returns the work to the worker's task that
produced it, filled in as it was and carrying ``returned_notes``; nothing after the approval
exists meanwhile; the resubmitted work comes back to the approval, and "yes" goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import cps_cases
from conftest import DESIGNER, ROOT
from cps_cases import (
    CASEWORKER,
    SCREENER,
    SUPERVISOR,
    CpsCase,
    assess_risk,
    contact,
    data_of,
    dispose,
    end_of_texas_day,
    interview_everyone,
    investigate_to_approval,
    open_quiet_case,
    open_report,
    removed,
    report,
    reported,
    safe,
    texas,
)
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.errors import InvalidTaskData
from engine.storage.tables import FinishedTask, ProcessInstance


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def send_back(case: CpsCase, approval: str, notes: str, **answer: Any) -> None:
    """The supervisor answers "no" with notes; a "no" without notes is refused by the form."""
    with pytest.raises(InvalidTaskData) as refused:
        case.complete(approval, {"approved": False, **answer}, SUPERVISOR)
    assert "/review_notes" in [e.field for e in refused.value.errors]
    case.complete(approval, {"approved": False, "review_notes": notes, **answer}, SUPERVISOR)


def returned(case: CpsCase, task: str, notes: str, approval: str) -> dict[str, Any]:
    """The worker's task is ready again with the supervisor's notes; the approval is gone."""
    data = data_of(case, task)
    assert data["returned_notes"] == notes
    assert case.tasks(approval) == []
    return data


def asked_again(case: CpsCase, approval: str) -> dict[str, Any]:
    """The approval is back, with the previous answer and the sent-back notes cleared."""
    data = data_of(case, approval)
    assert data["returned_notes"] is None
    assert data.get("approved", False) is False
    return data


def investigating(ctx: EngineContext) -> CpsCase:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    contact(case, texas(2025, 3, 3, 15, 0))
    interview_everyone(case)
    return case


UNSAFE = {**cps_cases.UNSAFE, "notes": "the boyfriend still lives in the home"}
CONDITIONALLY_SAFE = {**UNSAFE, "in_home_interventions_sufficient": True}


# -- intake --------------------------------------------------------------------------------


@pytest.mark.parametrize("second_answer", ["approve", "screen_in"])
def test_a_screen_out_sent_back_returns_to_the_screener(
    ctx: EngineContext, cps: Deployment, second_answer: str
) -> None:
    received = texas(2025, 3, 3, 10, 0)
    case = open_report(ctx, [("Eli", "2005-07-01")])  # 19: D1 screens out, with approval
    case.at(received)
    case.complete("record_report", {**report(received), "narrative": "caller hung up"}, SCREENER)
    notes = "the caller named a 15-year-old sister: call back and record her"

    send_back(case, "approve_screening", notes, screen_in_instead=False)

    data = returned(case, "record_report", notes, "approve_screening")
    assert data["narrative"] == "caller hung up"  # the report opens as it was
    assert case.record().status == "open"
    assert case.processes() == {"intake": ["active"]}
    case.complete("record_report", {**report(received), "narrative": "sister, 15"}, SCREENER)
    asked_again(case, "approve_screening")
    if second_answer == "approve":
        case.complete(
            "approve_screening",
            {"approved": True, "screen_in_instead": False, "review_notes": "adult only"},
            SUPERVISOR,
        )
        assert case.record().status == "screened_out"
        assert case.processes() == {"intake": ["completed"]}
    else:
        case.complete(
            "approve_screening",
            {"approved": False, "screen_in_instead": True, "review_notes": "sister at risk"},
            SUPERVISOR,
        )
        assert case.processes() == {"intake": ["completed"], "investigation": ["active"]}
        assert case.task("first_contact")


# -- investigation -------------------------------------------------------------------------


def test_an_unsafe_assessment_sent_back_does_not_remove_the_child(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = investigating(ctx)
    case.complete("assess_safety", UNSAFE)
    assert data_of(case, "approve_safety_assessment")["safety_decision"] == "UNSAFE"
    notes = "the grandmother offered to move in: assess that before a removal"

    send_back(case, "approve_safety_assessment", notes)

    data = returned(case, "assess_safety", notes, "approve_safety_assessment")
    assert data["threats"] == UNSAFE["threats"]
    assert data["notes"] == UNSAFE["notes"]  # the worker's own notes are kept
    assert case.tasks("record_removal") == [] and case.tasks("write_safety_plan") == []
    assert case.tasks("record_disposition") == []
    assert "substitute_care" not in case.processes()

    case.complete("assess_safety", CONDITIONALLY_SAFE)
    again = asked_again(case, "approve_safety_assessment")
    assert again["safety_decision"] == "CONDITIONALLY_SAFE"
    case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)

    assert case.task("write_safety_plan")
    assert data_of(case, "write_safety_plan")["returned_notes"] is None
    assert case.tasks("record_removal") == []


def test_a_safety_plan_sent_back_is_rewritten_before_it_is_followed_up(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = investigating(ctx)
    case.complete("assess_safety", CONDITIONALLY_SAFE)
    case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)
    plan = {
        "plan_signed_on": case.on("2025-03-04"),
        "actions": [{"action": "grandmother moves in", "responsible": "grandmother"}],
    }
    case.complete("write_safety_plan", plan)
    notes = "no backup if the grandmother is away: add one"

    send_back(case, "approve_safety_plan", notes)

    data = returned(case, "write_safety_plan", notes, "approve_safety_plan")
    assert data["actions"] == plan["actions"]
    assert case.tasks("follow_up_safety_plan") == []
    case.complete("write_safety_plan", {**plan, "backup_plan": "aunt stays over"})
    asked_again(case, "approve_safety_plan")
    case.complete("approve_safety_plan", {"approved": True}, SUPERVISOR)

    assert case.task("follow_up_safety_plan")
    assert data_of(case, "follow_up_safety_plan")["backup_plan"] == "aunt stays over"


def test_dispositions_sent_back_are_recorded_again_then_risk_and_case_action(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    investigate_to_approval(case, texas(2025, 3, 3, 15, 0), findings=("RTB",), risk="HIGH")
    assert data_of(case, "approve_disposition")["case_action"] == "OPEN"
    notes = "the doctor's report does not support Reason to Believe"

    send_back(
        case,
        "approve_disposition",
        notes,
        case_action_final="OPEN",
        service_type_final="IN_HOME",
    )

    data = returned(case, "record_disposition", notes, "approve_disposition")
    assert data["disposition"] == {"finding": "RTB", "rationale": "evidence reviewed"}
    assert case.tasks("assess_risk") == []
    assert "services" not in case.processes() and "closure" not in case.processes()

    dispose(case, "RO")
    risk = data_of(case, "assess_risk")
    assert (risk["returned_notes"], risk["neglect_level"]) == (notes, "HIGH")  # opens filled in
    assess_risk(case, "MODERATE")
    again = asked_again(case, "approve_disposition")
    assert (again["overall_disposition"], again["case_action"]) == ("RO", "CLOSE")
    case.complete(
        "approve_disposition",
        {"approved": True, "case_action_final": "CLOSE", "service_type_final": "NONE",
         "closure_reason": "ruled out on review"},
        SUPERVISOR,
    )  # fmt: skip

    assert "services" not in case.processes()
    assert case.processes()["closure"] == ["active"]


def test_an_alternative_response_sent_back_returns_to_the_risk_assessment(
    ctx: EngineContext, cps: Deployment
) -> None:
    received = texas(2025, 3, 7, 16, 0)
    case = open_report(
        ctx, [("Cora", "2017-09-01"), ("Dan", "2015-06-30")], allegations=[("Cora", "PHNG")]
    )
    case.at(received)
    case.complete("record_report", report(received))
    contact(case, texas(2025, 3, 9, 12, 0))
    interview_everyone(case)
    safe(case)
    assess_risk(case, "HIGH")
    notes = "the school reports more absences: weigh them"

    send_back(
        case, "approve_disposition", notes, case_action_final="OPEN", service_type_final="IN_HOME"
    )

    returned(case, "assess_risk", notes, "approve_disposition")
    assert case.tasks("record_disposition") == []  # no dispositions on this pathway
    assess_risk(case, "VERY_HIGH")
    asked_again(case, "approve_disposition")
    case.complete(
        "approve_disposition",
        {"approved": True, "case_action_final": "OPEN", "service_type_final": "IN_HOME",
         "action_change_reason": "very high risk: in-home services"},
        SUPERVISOR,
    )  # fmt: skip
    assert case.processes()["services"] == ["active"]


def test_approving_an_open_case_asks_for_no_closure_reason(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = reported(
        ctx, texas(2025, 3, 3, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    investigate_to_approval(case, texas(2025, 3, 3, 15, 0), findings=("RTB",), risk="HIGH")
    opened = {"approved": True, "case_action_final": "OPEN", "service_type_final": "IN_HOME"}
    with pytest.raises(InvalidTaskData) as refused:
        case.complete("approve_disposition", {**opened, "case_action_final": "CLOSE"}, SUPERVISOR)
    assert [e.field for e in refused.value.errors] == ["/closure_reason"]
    with pytest.raises(InvalidTaskData) as refused:
        case.complete(
            "approve_disposition",
            {**opened, "case_action_final": "CLOSE_WITH_REFERRAL", "closure_reason": "declines"},
            SUPERVISOR,
        )
    assert [e.field for e in refused.value.errors] == ["/community_referral"]

    case.complete("approve_disposition", opened, SUPERVISOR)  # no closure fields at all

    assert case.processes()["services"] == ["active"]


# -- the discretionary risk override -------------------------------------------------------


def to_risk(ctx: EngineContext) -> CpsCase:
    case = investigating(ctx)
    safe(case)
    dispose(case, "RTB")
    return case


def test_the_investigator_cannot_approve_a_risk_override_for_the_supervisor(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = to_risk(ctx)
    with pytest.raises(InvalidTaskData) as refused:
        assess_risk(case, "MODERATE", discretionary_override="PLUS_ONE", override_approved=True)
    assert [e.field for e in refused.value.errors] == ["/override_approved", "/override_reason"]


def test_a_risk_override_sent_back_then_approved_raises_the_level(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = to_risk(ctx)
    assess_risk(case, "MODERATE", discretionary_override="PLUS_ONE", override_reason="infant")
    assert case.task("approve_risk_override").role == "supervisor"
    assert case.tasks("approve_disposition") == []
    notes = "say which prior injuries you mean"

    send_back(case, "approve_risk_override", notes)

    data = returned(case, "assess_risk", notes, "approve_risk_override")
    assert (data["discretionary_override"], data["override_reason"]) == ("PLUS_ONE", "infant")
    assert case.tasks("approve_disposition") == []
    assess_risk(
        case,
        "MODERATE",
        discretionary_override="PLUS_ONE",
        override_reason="infant; fractures in January and March",
    )
    asked_again(case, "approve_risk_override")
    case.complete("approve_risk_override", {"approved": True}, SUPERVISOR)

    decided = data_of(case, "approve_disposition")
    assert (decided["scored_risk"], decided["final_risk"]) == ("MODERATE", "HIGH")


def test_a_risk_override_withdrawn_after_a_no_keeps_the_scored_level(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = to_risk(ctx)
    assess_risk(case, "MODERATE", discretionary_override="PLUS_ONE", override_reason="infant")
    send_back(case, "approve_risk_override", "not enough for an override")

    assess_risk(case, "MODERATE")  # the investigator withdraws it: no approval needed

    assert case.tasks("approve_risk_override") == []
    decided = data_of(case, "approve_disposition")
    assert (decided["final_risk"], decided["override_approved"]) == ("MODERATE", False)
    assert decided["returned_notes"] is None


# -- in-home services, substitute care, closure ---------------------------------------------


def in_home_services(ctx: EngineContext) -> CpsCase:
    case = open_quiet_case(ctx, [("Ana", "2016-04-04")])
    case.at(texas(2025, 4, 1, 9, 0))
    case.message(
        "services_requested", {"from": "investigation", "final_risk": "HIGH", "case_action": "OPEN"}
    )
    return case


FAMILY_PLAN = {"goals": ["safe supervision"], "parent_actions": "attend parenting classes"}


def service_period(case: CpsCase, *, plan_sent_back: str | None = None) -> None:
    case.complete("ten_day_contacts", {"contacts_completed_on": case.today()}, CASEWORKER)
    case.complete("family_plan", {**FAMILY_PLAN, "signed_on": case.today()}, CASEWORKER)
    if plan_sent_back:
        send_back(case, "approve_family_plan", plan_sent_back)
        data = returned(case, "family_plan", plan_sent_back, "approve_family_plan")
        assert data["goals"] == FAMILY_PLAN["goals"]
        assert case.tasks("monitor_services") == []
        case.complete(
            "family_plan",
            {**FAMILY_PLAN, "services": ["parenting class"], "signed_on": case.today()},
            CASEWORKER,
        )
        asked_again(case, "approve_family_plan")
    case.complete("approve_family_plan", {"approved": True}, SUPERVISOR)
    assert data_of(case, "monitor_services")["returned_notes"] is None
    case.complete("monitor_services", {"progress": "classes attended"}, CASEWORKER)
    case.complete(
        "reassess_risk", {"reassessed_risk": "LOW", "unresolved_threats": False}, CASEWORKER
    )


def test_a_family_plan_sent_back_is_rewritten_before_services_are_monitored(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = in_home_services(ctx)

    service_period(case, plan_sent_back="the plan lists no services CPS provides")

    assert case.processes()["closure"] == ["active"]  # risk low: closure requested


def test_a_case_plan_sent_back_is_rewritten_before_it_counts(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = removed(ctx, texas(2025, 1, 15, 10, 0), [("Ana", "2016-04-04")])
    case.at(texas(2025, 2, 10, 10, 0))
    plan = {"plan_on": case.today(), "goals": ["reunification"]}
    case.complete("federal_case_plan", plan, CASEWORKER)
    notes = "add the concurrent goal and the services"

    send_back(case, "approve_case_plan", notes)

    data = returned(case, "federal_case_plan", notes, "approve_case_plan")
    assert data["goals"] == ["reunification"]
    case.complete(
        "federal_case_plan",
        {**plan, "goals": ["reunification", "adoption"], "services": ["parenting class"]},
        CASEWORKER,
    )
    asked_again(case, "approve_case_plan")
    case.complete("approve_case_plan", {"approved": True}, SUPERVISOR)

    assert case.tasks("federal_case_plan") == [] and case.tasks("approve_case_plan") == []
    assert case.processes()["substitute_care"] == ["active"]  # the other clocks go on


def closure_requested(ctx: EngineContext) -> CpsCase:
    case = open_quiet_case(ctx, [("Ana", "2016-04-04")])
    case.at(texas(2025, 5, 1, 9, 0))
    case.message("closure_requested", {"reason": "risk reduced", "court_involved": False})
    return case


def test_a_refused_closure_returns_the_case_to_services_then_closes(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = closure_requested(ctx)
    assert case.tasks("family_closure_meeting") == []  # the supervisor decides first
    notes = "the father moved back in: reassess with him"
    with pytest.raises(InvalidTaskData) as refused:
        case.complete("approve_closure", {"closure_approved": False}, SUPERVISOR)
    assert [e.field for e in refused.value.errors] == ["/review_notes"]
    with pytest.raises(InvalidTaskData) as refused:
        case.complete("approve_closure", {"closure_approved": True}, SUPERVISOR)
    assert [e.field for e in refused.value.errors] == ["/closing_summary"]

    case.complete("approve_closure", {"closure_approved": False, "review_notes": notes}, SUPERVISOR)

    assert case.processes() == {"closure": ["completed"], "services": ["active"]}
    assert case.tasks("family_closure_meeting") == [] and case.tasks("file_court_order") == []
    assert case.record().status == "open"
    assert data_of(case, "ten_day_contacts")["returned_notes"] == notes

    case.at(texas(2025, 5, 20, 9, 0))
    service_period(case)  # risk low again: closure is requested again
    asked_again(case, "approve_closure")
    case.complete(
        "approve_closure", {"closure_approved": True, "closing_summary": "risk low"}, SUPERVISOR
    )
    case.complete("family_closure_meeting", {"held_on": case.today()}, CASEWORKER)

    assert case.record().status == "closed"


# -- state size ------------------------------------------------------------------------------


def state_sizes(case: CpsCase, *, head_only: bool = False) -> dict[str, list[int]]:
    """Each process's instances' stored state sizes (the head in the instance row and the
    finished tasks' rows; ``head_only``: what a step rewrites), the active one last
    (instances started in the same instant have no order of their own)."""
    with case.ctx.db.reader() as session:
        rows = session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.case_id == case.id)
            .order_by(ProcessInstance.created_at)
        ).all()
        finished = dict(
            session.execute(
                select(FinishedTask.instance_id, func.sum(func.length(FinishedTask.body)))
                .where(FinishedTask.case_id == case.id)
                .group_by(FinishedTask.instance_id)
            ).all()
        )
    sizes: dict[str, list[int]] = {}
    for row in sorted(rows, key=lambda r: (r.created_at, r.status == "active")):
        stored = len(row.state) if head_only else len(row.state) + (finished.get(row.id) or 0)
        sizes.setdefault(row.process_id, []).append(stored)
    return sizes


def test_refused_closures_start_short_instances_that_do_not_grow(
    ctx: EngineContext, cps: Deployment
) -> None:
    """Each refusal ends its closure instance and starts a service period: no instance holds
    the loop, so none grows with the number of refusals."""
    case = closure_requested(ctx)
    closures = []
    for refusal in range(1, 11):
        case.complete(
            "approve_closure",
            {"closure_approved": False, "review_notes": f"not yet ({refusal})"},
            SUPERVISOR,
        )
        service_period(case)
        closures.append(state_sizes(case)["closure"][-1])
    assert case.processes()["closure"] == ["completed"] * 10 + ["active"]
    assert max(closures) - min(closures) < 200  # the notes' digits, nothing more


def test_a_rejection_loop_inside_an_instance_grows_it_by_a_small_constant(
    ctx: EngineContext, cps: Deployment
) -> None:
    """SpiffWorkflow 3.2 keeps every task it ran: a loop back to an earlier task adds the loop's
    tasks (their data as deltas) on every round. The growth is linear and small, never with
    the data's size; a loop inside a subprocess would copy the whole data every round."""
    case = investigating(ctx)
    case.complete("assess_safety", CONDITIONALLY_SAFE)
    case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)
    plan = {
        "plan_signed_on": case.on("2025-03-04"),
        "actions": [{"action": "grandmother moves in", "responsible": "grandmother"}],
    }
    sizes, heads = {}, {}
    for rejection in range(1, 21):
        case.complete("write_safety_plan", plan)
        case.complete(
            "approve_safety_plan", {"approved": False, "review_notes": "revise"}, SUPERVISOR
        )
        if rejection in (1, 2, 5, 10, 20):
            sizes[rejection] = state_sizes(case)["investigation"][0]
            heads[rejection] = state_sizes(case, head_only=True)["investigation"][0]
    per_round = (sizes[20] - sizes[10]) / 10
    assert per_round < 4000, sizes
    assert abs((sizes[10] - sizes[2]) / 8 - per_round) < 0.1 * per_round, sizes  # linear
    # What a step rewrites does not grow: the finished rounds are rows written once.
    assert heads[20] < heads[2] * 1.1, heads
    case.complete("write_safety_plan", plan)
    case.complete("approve_safety_plan", {"approved": True}, SUPERVISOR)
    assert case.task("follow_up_safety_plan")


# -- monthly visits --------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["approve", "send back"])
def test_a_first_months_visit_outside_the_residence_is_approved_or_visited_again_at_home(
    ctx: EngineContext, cps: Deployment, answer: str
) -> None:
    case = removed(ctx, texas(2025, 1, 15, 10, 0), [("Ana", "2016-04-04")])
    case.at(texas(2025, 1, 20, 15, 0))
    case.complete("record_visit", {"visited_on": "2025-01-20", "location": "school",
                                   "child_seen_alone": True}, CASEWORKER)  # fmt: skip
    assert case.task("review_visit_location").role == "supervisor"

    if answer == "approve":
        case.complete("review_visit_location", {"approved": True}, SUPERVISOR)
        assert case.tasks("record_visit") == []
    else:
        send_back(case, "review_visit_location", "no reason not to visit at home: go this week")
        returned(case, "record_visit", "no reason not to visit at home: go this week",
                 "review_visit_location")  # fmt: skip
        case.at(texas(2025, 1, 24, 15, 0))
        case.complete("record_visit", {"visited_on": "2025-01-24", "location": "child_residence",
                                       "child_seen_alone": True}, CASEWORKER)  # fmt: skip
        assert case.tasks("review_visit_location") == []  # at home: nothing to review
        assert case.tasks("record_visit") == []
    case.at(end_of_texas_day(2025, 1, 31) + timedelta(seconds=1))

    assert case.deadlines("T27")[0].status == "met"  # January was visited either way
