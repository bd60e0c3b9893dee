"""Every way out of every gateway of England's diagrams (bpmn/england_referral.bpmn,
england_safeguarding.bpmn, england_looked_after.bpmn), driven through the real engine on the
shipped bundle: the four responses to a referral, the strategy discussion's "no", the enquiry's
findings, the conference's plan or none, a review that continues the plan or ends it, a
looked-after child's reviews and the court's 26 weeks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from conftest import DESIGNER, ROOT
from cps_cases import CpsCase
from engine.cases.opening import open_case
from engine.context import Actor, EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.errors import Conflict
from engine.statuses import CaseStatus

FRONT_DOOR = Actor("fay", "intake_screener")
SOCIAL_WORKER = Actor("sally", "ongoing_caseworker")
CHAIR = Actor("chris", "independent_reviewer")
REFERRED = datetime(2025, 3, 3, 9, tzinfo=UTC)


@pytest.fixture
def england(ctx: EngineContext) -> CpsCase:
    ctx.clock.move_to(REFERRED)  # type: ignore[attr-defined]
    deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))
    opened = open_case(
        ctx,
        FRONT_DOOR,
        {
            "profile_id": "england",
            "people": [{"ref": "c1", "role": "child", "name": "Amira", "birth_date": "2021-09-14"}],
            "allegations": [{"victim": "c1", "type": "NEGLECT"}],
        },
        start_process="england_referral",
        start_data={"received_at": REFERRED.isoformat()},
    )
    return CpsCase(ctx, opened.id, opened.case_number)


def decide(case: CpsCase, decision: str) -> None:
    case.complete(
        "decide_on_referral",
        {"decision": decision, "decision_reasons": "as discussed", "consent_sought": True},
        SOCIAL_WORKER,
    )


def strategy(case: CpsCase, started: bool) -> None:
    case.complete(
        "strategy_discussion",
        {
            "strategy_held_on": "2025-03-03",
            "police_took_part": True,
            "health_took_part": True,
            "section_47_started": started,
            "discussion_notes": "agreed",
        },
        SOCIAL_WORKER,
    )


def enquiry(case: CpsCase, harm: bool, services: bool) -> None:
    case.complete(
        "section_47_enquiry",
        {
            "assessment_completed_on": "2025-03-03",
            "child_seen_alone": True,
            "significant_harm_likely": harm,
            "services_required": services,
            "findings": "as found",
        },
        SOCIAL_WORKER,
    )


def conference(case: CpsCase, plan: bool) -> None:
    answer: dict[str, Any] = {
        "conference_held_on": "2025-03-03",
        "plan_required": plan,
        "conference_reasons": "as decided",
    }
    case.complete("hold_initial_conference", answer | ({"category": "NEGLECT"} if plan else {}),
                  CHAIR)  # fmt: skip


def status(case: CpsCase) -> str:
    return str(case.record().status)


@pytest.mark.parametrize("decision", ["NO_FURTHER_ACTION", "EARLY_HELP"])
def test_no_further_action_or_early_help_ends_the_referral(england: CpsCase, decision: str) -> None:
    decide(england, decision)
    assert england.tasks() == []
    # As a report screened out: no case for children's social care, kept as the referrals'
    # history.
    assert status(england) == CaseStatus.SCREENED_OUT
    assert england.processes() == {"england_referral": ["completed"]}


@pytest.mark.parametrize(("services", "closed"), [(True, False), (False, True)])
def test_a_child_in_need_is_assessed_then_supported_or_closed(
    england: CpsCase, services: bool, closed: bool
) -> None:
    decide(england, "CHILD_IN_NEED")
    assert [t.bpmn_id for t in england.tasks()] == ["single_assessment"]
    england.complete(
        "single_assessment",
        {
            "assessment_completed_on": "2025-03-03",
            "services_required": services,
            "assessment_summary": "needs",
        },
        SOCIAL_WORKER,
    )
    assert england.processes() == {
        "england_referral": ["completed"],
        "england_safeguarding": ["completed"],
    }
    assert status(england) == (CaseStatus.CLOSED if closed else CaseStatus.OPEN)


def test_a_strategy_discussion_without_an_enquiry_goes_to_an_assessment(england: CpsCase) -> None:
    decide(england, "SECTION_47")
    strategy(england, started=False)
    assert [t.bpmn_id for t in england.tasks()] == ["single_assessment"]


def test_an_enquiry_without_significant_harm_supports_or_closes(england: CpsCase) -> None:
    decide(england, "SECTION_47")
    strategy(england, started=True)
    enquiry(england, harm=False, services=False)
    assert england.tasks() == []
    assert status(england) == CaseStatus.CLOSED


def test_a_conference_without_a_plan_ends_in_child_in_need_support(england: CpsCase) -> None:
    decide(england, "SECTION_47")
    strategy(england, started=True)
    enquiry(england, harm=True, services=True)
    conference(england, plan=False)
    assert england.tasks() == []
    assert status(england) == CaseStatus.OPEN


def test_a_plan_is_reviewed_until_a_conference_ends_it(england: CpsCase) -> None:
    decide(england, "SECTION_47")
    strategy(england, started=True)
    enquiry(england, harm=True, services=True)
    conference(england, plan=True)
    assert sorted(t.bpmn_id for t in england.tasks()) == ["first_core_group", "review_conference"]
    # The conference sees the plan continue: the next review within six months.
    england.complete(
        "review_conference",
        {"review_held_on": "2025-03-03", "plan_continues": True, "category": "NEGLECT",
         "review_reasons": "not yet safe"},
        CHAIR,
    )  # fmt: skip
    review = england.task("review_conference")
    assert review.due_at == datetime(2025, 9, 3, 22, 59, 59, tzinfo=UTC)  # 23:59:59 BST
    # A review that continues the plan needs its category; one that ends it does not.
    england.complete(
        "review_conference",
        {"review_held_on": "2025-03-03", "plan_continues": False, "review_reasons": "safe now"},
        CHAIR,
    )
    assert england.tasks() == []
    assert status(england) == CaseStatus.CLOSED


def looked_after(case: CpsCase, proceedings_on: str | None) -> None:
    case.message("child_looked_after", {}, SOCIAL_WORKER)
    answer = {"looked_after_on": "2025-03-03", "legal_status": "SECTION_20", "placement": "kin"}
    if proceedings_on is not None:
        answer |= {
            "legal_status": "INTERIM_CARE_ORDER",
            "care_proceedings_issued_on": proceedings_on,
        }
    case.complete("record_looked_after", answer, SOCIAL_WORKER)


def review(case: CpsCase, held_on: str, remains: bool) -> None:
    case.complete(
        "hold_looked_after_review",
        {"review_held_on": held_on, "child_participated": True, "remains_looked_after": remains,
         "care_plan_decisions": "as decided"},
        CHAIR,
    )  # fmt: skip


def test_a_looked_after_child_is_reviewed_until_no_longer_looked_after(england: CpsCase) -> None:
    looked_after(england, proceedings_on=None)
    # No proceedings: only the reviews run (beside the referral), the first within 20
    # working days.
    assert [t.bpmn_id for t in england.tasks()] == [
        "decide_on_referral",
        "hold_looked_after_review",
    ]
    assert england.task("hold_looked_after_review").due_at == datetime(
        2025, 3, 31, 22, 59, 59, tzinfo=UTC
    )
    review(england, "2025-03-03", remains=True)
    # The second within 3 months of the first, then every 6 months.
    assert england.task("hold_looked_after_review").due_at == datetime(
        2025, 6, 3, 22, 59, 59, tzinfo=UTC
    )
    review(england, "2025-03-03", remains=True)
    assert england.task("hold_looked_after_review").due_at == datetime(
        2025, 9, 3, 22, 59, 59, tzinfo=UTC
    )
    review(england, "2025-03-03", remains=False)
    assert england.processes()["england_looked_after"] == ["completed"]


def test_care_proceedings_run_on_the_courts_26_weeks(england: CpsCase) -> None:
    looked_after(england, proceedings_on="2025-03-03")
    order = england.task("record_final_order")
    assert order.due_at == datetime(2025, 9, 1, 22, 59, 59, tzinfo=UTC)  # 26 weeks on
    england.complete(
        "record_final_order", {"final_order_on": "2025-03-03", "order": "CARE_ORDER"},
        SOCIAL_WORKER,
    )  # fmt: skip
    assert "record_final_order" not in [t.bpmn_id for t in england.tasks()]


def test_a_message_starts_only_its_own_jurisdictions_process(
    england: CpsCase, ctx: EngineContext
) -> None:
    texas = open_case(
        ctx,
        Actor("sam", "intake_screener"),
        {
            "profile_id": "us-tx",
            "people": [{"ref": "c1", "role": "child", "name": "Lia"}],
            "allegations": [{"victim": "c1", "type": "PHAB"}],
        },
    )
    with pytest.raises(Conflict, match="no deployed process starts on it"):
        CpsCase(ctx, texas.id, texas.case_number).message("child_looked_after", {})
    # And Texas's placement change is no England case's to start.
    with pytest.raises(Conflict, match="no deployed process starts on it"):
        england.message("placement_change_requested", {}, SOCIAL_WORKER)
    assert set(england.processes()) == {"england_referral"}
