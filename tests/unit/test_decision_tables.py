"""The decision tables of bpmn/ (DOMAIN §4), one test per rule row, and an input that matches no
row is an error of the business-rule task, never a silent pass."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import ManualClock
from engine.deadlines.profiles import DEFAULT_PROFILE
from engine.definitions.bundle import Bundle
from engine.errors import ScriptFailed
from engine.spiff.definitions import compile_bundle
from engine.spiff.runtime import Runtime

BPMN = Path(__file__).resolve().parents[2] / "bpmn"

CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="decide" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="rule"><bpmn:extensionElements>
      <spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>
    </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="rule"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rule" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def decide(decision: str, inputs: dict[str, Any]) -> dict[str, Any]:
    bundle = Bundle(
        {
            "caller.bpmn": CALLER.format(decision=decision).encode(),
            f"{decision}.dmn": (BPMN / f"{decision}.dmn").read_bytes(),
        }
    )
    runtime = Runtime(ManualClock(datetime(2025, 3, 3, tzinfo=UTC)))
    workflow = runtime.start(compile_bundle(bundle).processes["decide"], DEFAULT_PROFILE, inputs)
    return dict(workflow.data)


SCREEN = {
    "victim_age": 5,
    "child_fatality": False,
    "duplicate_of_open_intake": False,
    "jurisdiction": "THIS",
    "safely_surrendered_infant": False,
    "open_case_without_new_allegation": False,
    "locatable": True,
    "ap_role": "CAREGIVER",
    "failure_to_protect_alleged": False,
    "meets_statutory_definition": True,
}
PRIORITY_FLAGS = [
    "death_with_surviving_children",
    "imminent_danger",
    "injury_needs_medical_care",
    "ap_access_24h",
    "sexual_abuse",
    "child_afraid_to_go_home",
    "child_vulnerable",
    "physical_abuse",
    "prior_utc_12m",
    "p1_criteria_met",
    "educational_neglect_only",
    "child_in_protected_setting",
]


def flags(*true: str) -> dict[str, bool]:
    return {name: name in true for name in PRIORITY_FLAGS}


D5 = {"court_ordered_services": False, "family_left_jurisdiction": False}
D6 = dict.fromkeys(
    ["any_rtb", "any_utd", "any_utc", "all_ro_or_admin", "any_ro", "all_admin"], False
)
D7 = {
    "placed_with_relative": False,
    "services_not_provided": False,
    "compelling_reason_documented": False,
    "abandoned_or_felony_finding": False,
    "months_in_care_last_22": 3,
}

ROWS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "D1-1",
        "screening",
        {**SCREEN, "victim_age": 19},
        {"screening_decision": "SCREEN_OUT", "referral": "APS", "supervisor_approval": True},
    ),
    (
        "D1-2",
        "screening",
        {**SCREEN, "duplicate_of_open_intake": True},
        {"screening_decision": "LINK_DUPLICATE", "supervisor_approval": False},
    ),
    (
        "D1-3",
        "screening",
        {**SCREEN, "jurisdiction": "TRIBE"},
        {"screening_decision": "TRANSFER", "referral": "OTHER_JURISDICTION"},
    ),
    (
        "D1-4",
        "screening",
        {**SCREEN, "safely_surrendered_infant": True},
        {"screening_decision": "SAFE_HAVEN"},
    ),
    (
        "D1-5",
        "screening",
        {**SCREEN, "open_case_without_new_allegation": True},
        {"screening_decision": "INFO_TO_OPEN_CASE"},
    ),
    (
        "D1-6",
        "screening",
        {**SCREEN, "locatable": False},
        {"screening_decision": "SCREEN_OUT", "referral": "NONE", "supervisor_approval": True},
    ),
    (
        "D1-7",
        "screening",
        {**SCREEN, "ap_role": "THIRD_PARTY"},
        {"screening_decision": "SCREEN_OUT", "referral": "LAW_ENFORCEMENT"},
    ),
    (
        "D1-8",
        "screening",
        {**SCREEN, "meets_statutory_definition": False},
        {"screening_decision": "SCREEN_OUT", "referral": "COMMUNITY_SERVICES"},
    ),
    (
        "D1-9",
        "screening",
        SCREEN,
        {"screening_decision": "SCREEN_IN", "referral": "NONE", "supervisor_approval": False},
    ),
    (
        "D1b-1",
        "pathway",
        {"priority": "P2_72H", "min_victim_age": 7, "ar_excluded_allegation": False},
        {"pathway": "ALTERNATIVE_RESPONSE"},
    ),
    (
        "D1b-2",
        "pathway",
        {"priority": "P2_72H", "min_victim_age": 5, "ar_excluded_allegation": False},
        {"pathway": "INVESTIGATION"},
    ),
    (
        "D2-1",
        "priority",
        flags("death_with_surviving_children"),
        {"priority": "P1_IMMEDIATE", "alert_hours": 2},
    ),
    (
        "D2-2",
        "priority",
        flags("imminent_danger"),
        {"priority": "P1_IMMEDIATE", "response_hours": 0},
    ),
    (
        "D2-3",
        "priority",
        flags("injury_needs_medical_care", "ap_access_24h"),
        {"priority": "P1_24H", "response_hours": 24},
    ),
    ("D2-4a", "priority", flags("sexual_abuse", "ap_access_24h"), {"priority": "P1_24H"}),
    ("D2-4b", "priority", flags("sexual_abuse", "child_afraid_to_go_home"), {"priority": "P1_24H"}),
    (
        "D2-5",
        "priority",
        flags("physical_abuse", "child_vulnerable", "ap_access_24h"),
        {"priority": "P1_24H"},
    ),
    ("D2-6", "priority", flags("prior_utc_12m", "p1_criteria_met"), {"priority": "P1_24H"}),
    (
        "D2-7",
        "priority",
        flags("educational_neglect_only"),
        {"priority": "P2_72H", "ca_mapping": "TEN_DAY"},
    ),
    ("D2-8", "priority", flags("child_in_protected_setting"), {"priority": "P2_72H"}),
    ("D2-9", "priority", flags("physical_abuse"), {"priority": "P2_72H", "response_hours": 72}),
    (
        "D3-1",
        "safety",
        {
            "threat_count": 0,
            "in_home_interventions_sufficient": False,
            "protective_placement_agreed": False,
        },
        {"safety_decision": "SAFE"},
    ),
    (
        "D3-2",
        "safety",
        {
            "threat_count": 1,
            "in_home_interventions_sufficient": True,
            "protective_placement_agreed": False,
        },
        {"safety_decision": "CONDITIONALLY_SAFE"},
    ),
    (
        "D3-3",
        "safety",
        {
            "threat_count": 2,
            "in_home_interventions_sufficient": False,
            "protective_placement_agreed": True,
        },
        {"safety_decision": "CONDITIONALLY_SAFE"},
    ),
    (
        "D3-4",
        "safety",
        {
            "threat_count": 1,
            "in_home_interventions_sufficient": False,
            "protective_placement_agreed": False,
        },
        {"safety_decision": "UNSAFE"},
    ),
    (
        "D4-1",
        "risk",
        {
            "scored_risk": "LOW",
            "policy_override": True,
            "discretionary_override": "NONE",
            "override_approved": False,
        },
        {"final_risk": "VERY_HIGH"},
    ),
    (
        "D4-2",
        "risk",
        {
            "scored_risk": "LOW",
            "policy_override": False,
            "discretionary_override": "PLUS_ONE",
            "override_approved": True,
        },
        {"final_risk": "MODERATE"},
    ),
    (
        "D4-3",
        "risk",
        {
            "scored_risk": "MODERATE",
            "policy_override": False,
            "discretionary_override": "PLUS_ONE",
            "override_approved": True,
        },
        {"final_risk": "HIGH"},
    ),
    (
        "D4-4",
        "risk",
        {
            "scored_risk": "VERY_HIGH",
            "policy_override": False,
            "discretionary_override": "PLUS_ONE",
            "override_approved": True,
        },
        {"final_risk": "VERY_HIGH"},
    ),
    (
        "D4-5",
        "risk",
        {
            "scored_risk": "HIGH",
            "policy_override": False,
            "discretionary_override": "PLUS_ONE",
            "override_approved": False,
        },
        {"final_risk": "HIGH"},
    ),
    (
        "D5-1",
        "case_action",
        {**D5, "safety_decision": "UNSAFE", "final_risk": "LOW", "finding": "UNSUBSTANTIATED"},
        {"case_action": "OPEN", "service_type": "SUBSTITUTE_CARE"},
    ),
    (
        "D5-2",
        "case_action",
        {
            **D5,
            "safety_decision": "SAFE",
            "final_risk": "LOW",
            "finding": "UNSUBSTANTIATED",
            "court_ordered_services": True,
        },
        {"case_action": "OPEN"},
    ),
    (
        "D5-3",
        "case_action",
        {
            **D5,
            "safety_decision": "SAFE",
            "final_risk": "HIGH",
            "finding": "SUBSTANTIATED",
            "family_left_jurisdiction": True,
        },
        {"case_action": "CLOSE"},
    ),
    (
        "D5-4",
        "case_action",
        {
            **D5,
            "safety_decision": "CONDITIONALLY_SAFE",
            "final_risk": "LOW",
            "finding": "UNSUBSTANTIATED",
        },
        {"case_action": "OPEN", "service_type": "IN_HOME"},
    ),
    (
        "D5-5",
        "case_action",
        {**D5, "safety_decision": "SAFE", "final_risk": "LOW", "finding": "SUBSTANTIATED"},
        {"case_action": "CLOSE"},
    ),
    (
        "D5-6",
        "case_action",
        {**D5, "safety_decision": "SAFE", "final_risk": "MODERATE", "finding": "SUBSTANTIATED"},
        {"case_action": "SUPERVISOR_DECIDES"},
    ),
    (
        "D5-7",
        "case_action",
        {**D5, "safety_decision": "SAFE", "final_risk": "MODERATE", "finding": "UNSUBSTANTIATED"},
        {"case_action": "CLOSE"},
    ),
    (
        "D5-8",
        "case_action",
        {**D5, "safety_decision": "SAFE", "final_risk": "MODERATE", "finding": "FAMILY_ASSESSMENT"},
        {"case_action": "SUPERVISOR_DECIDES"},
    ),
    (
        "D5-9",
        "case_action",
        {**D5, "safety_decision": "SAFE", "final_risk": "VERY_HIGH", "finding": "SUBSTANTIATED"},
        {"case_action": "OPEN"},
    ),
    (
        "D5-10",
        "case_action",
        {**D5, "safety_decision": "SAFE", "final_risk": "HIGH", "finding": "FAMILY_ASSESSMENT"},
        {"case_action": "SUPERVISOR_DECIDES"},
    ),
    (
        "D6-1",
        "disposition",
        {**D6, "any_rtb": True, "any_ro": True},
        {"overall_disposition": "RTB"},
    ),
    ("D6-2", "disposition", {**D6, "any_utd": True}, {"overall_disposition": "UTD"}),
    ("D6-3", "disposition", {**D6, "any_utc": True}, {"overall_disposition": "UTC"}),
    (
        "D6-4",
        "disposition",
        {**D6, "all_ro_or_admin": True, "any_ro": True},
        {"overall_disposition": "RO"},
    ),
    (
        "D6-5",
        "disposition",
        {**D6, "all_ro_or_admin": True, "all_admin": True},
        {"overall_disposition": "ADMIN_CLOSURE"},
    ),
    (
        "D7-1",
        "tpr",
        {**D7, "placed_with_relative": True, "months_in_care_last_22": 16},
        {"tpr_requirement": "EXCEPTION_DOCUMENTED"},
    ),
    (
        "D7-2",
        "tpr",
        {**D7, "services_not_provided": True, "months_in_care_last_22": 16},
        {"tpr_requirement": "EXCEPTION_DOCUMENTED"},
    ),
    (
        "D7-3",
        "tpr",
        {**D7, "compelling_reason_documented": True, "months_in_care_last_22": 16},
        {"tpr_requirement": "EXCEPTION_DOCUMENTED"},
    ),
    (
        "D7-4",
        "tpr",
        {**D7, "abandoned_or_felony_finding": True},
        {"tpr_requirement": "FILE_TPR", "tpr_basis": "AGGRAVATED_FINDING"},
    ),
    (
        "D7-5",
        "tpr",
        {**D7, "months_in_care_last_22": 15},
        {"tpr_requirement": "FILE_TPR", "tpr_basis": "MONTHS_IN_CARE"},
    ),
    ("D7-6", "tpr", D7, {"tpr_requirement": "NOT_REQUIRED"}),
    (
        "D8-1",
        "reunification",
        {
            "reunification_risk": "MODERATE",
            "visitation_quality": "ACCEPTABLE",
            "safety_if_returned": "CONDITIONALLY_SAFE",
            "reunification_time_remaining": True,
        },
        {"reunification_recommendation": "RETURN_HOME"},
    ),
    (
        "D8-2",
        "reunification",
        {
            "reunification_risk": "LOW",
            "visitation_quality": "STRONG",
            "safety_if_returned": "UNSAFE",
            "reunification_time_remaining": True,
        },
        {"reunification_recommendation": "CONTINUE_REUNIFICATION"},
    ),
    (
        "D8-3",
        "reunification",
        {
            "reunification_risk": "HIGH",
            "visitation_quality": "STRONG",
            "safety_if_returned": "SAFE",
            "reunification_time_remaining": True,
        },
        {"reunification_recommendation": "CONTINUE_REUNIFICATION"},
    ),
    (
        "D8-3b",
        "reunification",
        {
            "reunification_risk": "LOW",
            "visitation_quality": "LIMITED",
            "safety_if_returned": "SAFE",
            "reunification_time_remaining": True,
        },
        {"reunification_recommendation": "CONTINUE_REUNIFICATION"},
    ),
    (
        "D8-4",
        "reunification",
        {
            "reunification_risk": "HIGH",
            "visitation_quality": "LIMITED",
            "safety_if_returned": "UNSAFE",
            "reunification_time_remaining": False,
        },
        {"reunification_recommendation": "CHANGE_GOAL"},
    ),
]


@pytest.mark.parametrize(
    ("decision", "inputs", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_each_rule_row_decides_what_domain_says(
    decision: str, inputs: dict[str, Any], expected: dict[str, Any]
) -> None:
    outputs = decide(decision, inputs)

    assert {key: outputs[key] for key in expected} == expected


NO_MATCH = [
    ("screening", {**SCREEN, "victim_age": 19, "child_fatality": True}),
    (
        "safety",
        {
            "threat_count": -1,
            "in_home_interventions_sufficient": False,
            "protective_placement_agreed": False,
        },
    ),
    (
        "risk",
        {
            "scored_risk": "UNKNOWN",
            "policy_override": False,
            "discretionary_override": "NONE",
            "override_approved": False,
        },
    ),
    (
        "case_action",
        {**D5, "safety_decision": "PENDING", "final_risk": "LOW", "finding": "SUBSTANTIATED"},
    ),
    ("disposition", D6),
    (
        "reunification",
        {
            "reunification_risk": "LOW",
            "visitation_quality": "STRONG",
            "safety_if_returned": "UNKNOWN",
            "reunification_time_remaining": True,
        },
    ),
]


@pytest.mark.parametrize(("decision", "inputs"), NO_MATCH, ids=[d for d, _ in NO_MATCH])
def test_an_input_matching_no_row_is_an_error(decision: str, inputs: dict[str, Any]) -> None:
    with pytest.raises(ScriptFailed, match="no rule of decision table") as failed:
        decide(decision, inputs)

    assert failed.value.element_id == "rule"
