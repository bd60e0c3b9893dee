"""JSON Schema forms for the user tasks of the CPS process (``bpmn/forms/<task id>.schema.json``).

Titles and descriptions are written for caseworkers; required fields are the ones the process
reads. Dates are ``format: date``, instants ``format: date-time``.
"""

from __future__ import annotations

from typing import Any

TX_ALLEGATIONS = ["PHAB", "SXAB", "EMAB", "LBTR", "SXTR", "NSUP", "MDNG", "PHNG", "ABAN", "RAPR"]
LEVELS = ["LOW", "MODERATE", "HIGH", "VERY_HIGH"]
SAFETY = ["SAFE", "CONDITIONALLY_SAFE", "UNSAFE"]
GOALS = [
    "REUNIFICATION",
    "ADOPTION",
    "PERMANENT_MANAGING_CONSERVATORSHIP",
    "FIT_AND_WILLING_RELATIVE",
    "APPLA",
]
SAFETY_THREATS = [
    "serious_physical_harm_or_credible_threat",
    "sexual_abuse_immediate_concern",
    "explanation_inconsistent_with_injury",
    "domestic_violence_likely_to_injure",
    "excessive_discipline",
    "drug_or_alcohol_exposed_infant",
    "caregiver_unable_to_supervise",
    "basic_needs_unmet",
]


def text(title: str, description: str = "", *, long: bool = False, **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "string", "title": title}
    if description:
        field["description"] = description
    field["maxLength"] = 8000 if long else 300
    field.update(extra)
    return field


def date(title: str, description: str = "") -> dict[str, Any]:
    return {
        "type": "string",
        "format": "date",
        "title": title,
        **({"description": description} if description else {}),
    }


def instant(title: str, description: str = "") -> dict[str, Any]:
    return {
        "type": "string",
        "format": "date-time",
        "title": title,
        **({"description": description} if description else {}),
    }


def flag(title: str, description: str = "", default: bool = False) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "boolean", "title": title, "default": default}
    if description:
        field["description"] = description
    return field


def choice(title: str, values: list[str], description: str = "") -> dict[str, Any]:
    field: dict[str, Any] = {"type": "string", "enum": values, "title": title}
    if description:
        field["description"] = description
    return field


def form(
    title: str,
    properties: dict[str, Any],
    required: list[str],
    description: str = "",
    **extra: Any,
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": title,
    }
    if description:
        schema["description"] = description
    schema.update({"properties": properties, "required": required, "additionalProperties": False})
    schema.update(extra)
    return schema


def approval(title: str, description: str) -> dict[str, Any]:
    return form(
        title,
        {
            "approved": flag("Approved", "Leave unticked to send it back with your notes."),
            "notes": text("Notes", long=True),
        },
        ["approved"],
        description,
    )


def held(title: str, field: str, description: str, **more: Any) -> dict[str, Any]:
    return form(
        title,
        {field: date("Held on"), "notes": text("Notes", long=True), **more},
        [field],
        description,
    )


FORMS: dict[str, dict[str, Any]] = {
    # -- intake -------------------------------------------------------------------------------
    "record_report": form(
        "Hotline report",
        {
            "received_at": instant(
                "Received at", "When the hotline received the report: the intake clock starts here."
            ),
            "channel": choice("Channel", ["phone", "online", "fax", "letter"]),
            "county": text("County"),
            "language": text("Language or interpreter needed"),
            "reporter": {
                "type": "object",
                "title": "Reporter",
                "description": "Confidential: never shown to the family or released without redaction.",
                "properties": {
                    "name": text("Name"),
                    "contact": text("Phone or address"),
                    "relationship": text("Relationship or occupation"),
                    "mandated": flag("Mandated reporter"),
                    "anonymous": flag("Wishes to stay anonymous"),
                    "wants_outcome_notice": flag("Asks to be told the outcome"),
                },
                "additionalProperties": False,
            },
            "narrative": text("What the reporter said", long=True, minLength=1),
            "screening": {
                "type": "object",
                "title": "Screening facts",
                "properties": {
                    "jurisdiction": choice(
                        "Responsible jurisdiction",
                        ["THIS", "OTHER_COUNTY", "OTHER_STATE", "TRIBE", "MILITARY"],
                    ),
                    "child_fatality": flag("A child died (or nearly died)"),
                    "duplicate_of_open_intake": flag("Same incident as an open intake"),
                    "open_stage_or_case": flag("The family has an open stage or case"),
                    "new_allegation": flag("The report makes a new allegation", default=True),
                    "safely_surrendered_infant": flag("Safely surrendered infant (Baby Moses)"),
                    "locatable": flag("The family can be located", default=True),
                    "ap_role": choice(
                        "Alleged perpetrator's role",
                        ["CAREGIVER", "PERSON_RESPONSIBLE", "THIRD_PARTY", "UNKNOWN"],
                    ),
                    "failure_to_protect_alleged": flag("Failure to protect is alleged"),
                    "meets_statutory_definition": flag(
                        "Meets the statutory definition of abuse or neglect", default=True
                    ),
                    "ar_excluded_allegation": flag(
                        "An allegation excluded from alternative response"
                    ),
                },
                "additionalProperties": False,
            },
            "indicators": {
                "type": "object",
                "title": "Priority indicators",
                "properties": {
                    "death_with_surviving_children": flag("Child death with surviving children"),
                    "imminent_danger": flag(
                        "Death or serious harm will result without immediate help"
                    ),
                    "injury_needs_medical_care": flag("An injury needs immediate medical care"),
                    "ap_access_24h": flag(
                        "The alleged perpetrator has access in the next 24 hours"
                    ),
                    "sexual_abuse": flag("Sexual abuse is alleged"),
                    "child_afraid_to_go_home": flag("The child is afraid to go home"),
                    "child_vulnerable": flag(
                        "The child is vulnerable",
                        "Aged 0-5, disabled, non-verbal or hidden from view",
                    ),
                    "physical_abuse": flag("Physical abuse is alleged"),
                    "prior_utc_12m": flag("An unable-to-complete report in the last 12 months"),
                    "p1_criteria_met": flag("Priority 1 criteria are met"),
                    "educational_neglect_only": flag("Educational neglect only"),
                    "child_in_protected_setting": flag("The child is in a protected setting now"),
                },
                "additionalProperties": False,
            },
            "risk_flags": {
                "type": "object",
                "title": "Risk flags",
                "properties": {
                    "domestic_violence": flag("Domestic violence"),
                    "substance_use": flag(
                        "Substance use (substance-affected infant: plan of safe care)"
                    ),
                    "weapons": flag("Weapons in the home"),
                    "worker_safety": flag("Worker-safety concern"),
                },
                "additionalProperties": False,
            },
        },
        ["received_at", "channel", "narrative", "screening", "indicators"],
        "Record every report, even one that will be screened out.",
    ),
    "approve_screening": form(
        "Approve the screening decision",
        {
            "approved": flag("I approve the decision"),
            "screen_in_instead": flag("Screen the report in instead"),
            "reason": text("Reason", long=True, minLength=1),
        },
        ["approved", "screen_in_instead", "reason"],
        "Screen-outs need a supervisor's approval and a documented reason.",
    ),
    # -- investigation --------------------------------------------------------------------------
    "first_contact": form(
        "First face-to-face contact",
        {
            "contact_at": instant("Contact made at"),
            "location": choice("Where", ["child_residence", "school", "hospital", "other"]),
            "children_seen": {
                "type": "array",
                "title": "Alleged victims seen",
                "items": {"type": "string"},
            },
            "rights_notice_given": flag("Parents and alleged perpetrator given the rights summary"),
            "notes": text("Notes", long=True),
        },
        ["contact_at", "location"],
        "See and interview each alleged victim. Record attempts separately in the contacts log.",
    ),
    "staff_late_contact": form(
        "Staff the late first contact",
        {
            "staffed_at": instant("Staffed at"),
            "plan": text("Plan to make contact", long=True, minLength=1),
        },
        ["staffed_at", "plan"],
        "The response window passed without a face-to-face contact.",
    ),
    "interview_child": form(
        "Interview the child",
        {
            "interview": {
                "type": "object",
                "title": "Interview",
                "properties": {
                    "interviewed_on": date("Interviewed on"),
                    "seen_alone": flag("Seen alone"),
                    "recorded": flag("Audio/video recorded"),
                    "summary": text("Summary", long=True, minLength=1),
                },
                "required": ["interviewed_on", "summary"],
                "additionalProperties": False,
            }
        },
        ["interview"],
    ),
    "assess_safety": form(
        "Safety assessment",
        {
            "threats": {
                "type": "array",
                "title": "Safety threats present",
                "items": {"enum": SAFETY_THREATS},
                "uniqueItems": True,
            },
            "in_home_interventions_sufficient": flag(
                "Family, network or agency actions control every threat in the home"
            ),
            "protective_placement_agreed": flag(
                "The family agreed to a protective caregiver placement (PCSP)"
            ),
            "notes": text("Caregiver protective capacities and notes", long=True),
        },
        ["threats", "in_home_interventions_sufficient", "protective_placement_agreed"],
        "Required before leaving a child in the home.",
    ),
    "approve_safety_assessment": approval(
        "Approve the safety assessment", "A final assessment is locked."
    ),
    "write_safety_plan": form(
        "Safety plan",
        {
            "plan_signed_on": date("Signed on"),
            "actions": {
                "type": "array",
                "title": "Action steps",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "action": text("Action"),
                        "responsible": text("Who"),
                    },
                    "required": ["action", "responsible"],
                    "additionalProperties": False,
                },
            },
            "backup_plan": text("Backup plan", long=True),
            "monitoring": text("How it is monitored", long=True),
        },
        ["plan_signed_on", "actions"],
        "A written plan of action steps, not a list of services. It lasts at most 30 days "
        "without an approved extension.",
    ),
    "approve_safety_plan": approval("Approve the safety plan", ""),
    "follow_up_safety_plan": form(
        "Safety plan follow-up",
        {
            "outcome": choice(
                "Outcome",
                [
                    "reassessed_safe",
                    "reassessed_conditionally_safe",
                    "reassessed_unsafe",
                    "plan_ended",
                ],
            ),
            "reassessed_on": date("Safety reassessed on"),
            "notes": text("Notes", long=True),
        },
        ["outcome", "reassessed_on"],
        "The investigation cannot be submitted for closure until the safety plan is followed up "
        "with a safety reassessment.",
    ),
    "record_removal": form(
        "Removal",
        {
            "removal_at": instant("Removed at"),
            "removal_type": choice(
                "How", ["emergency_possession", "court_order", "voluntary_placement"]
            ),
            "placement_type": choice(
                "Placed with",
                ["relative_kinship", "non_relative_foster", "congregate", "pre_adoptive"],
            ),
            "reason": text("Reason", long=True, minLength=1),
        },
        ["removal_at", "removal_type", "placement_type", "reason"],
        "Emergency possession without a court order needs an ex parte hearing on the next working day.",
    ),
    "record_disposition": form(
        "Allegation disposition",
        {
            "disposition": {
                "type": "object",
                "title": "Disposition",
                "properties": {
                    "finding": {
                        "type": "string",
                        "title": "Finding",
                        "enum": ["RTB", "RO", "UTC", "UTD", "ADMIN"],
                        "description": "Reason to Believe, Ruled Out, Unable to Complete, Unable "
                        "to Determine, Administrative Closure",
                    },
                    "rationale": text("Rationale", long=True, minLength=1),
                },
                "required": ["finding", "rationale"],
                "additionalProperties": False,
            }
        },
        ["disposition"],
        "Reason to Believe needs a preponderance of evidence.",
    ),
    "assess_risk": form(
        "Risk assessment",
        {
            "neglect_level": choice("Neglect index level", LEVELS, "From the SDM risk assessment"),
            "abuse_level": choice("Abuse index level", LEVELS, "From the SDM risk assessment"),
            "policy_override": flag("Policy override applies"),
            "discretionary_override": choice("Discretionary override", ["NONE", "PLUS_ONE"]),
            "override_approved": flag("The supervisor approved the discretionary override"),
            "override_reason": text("Override reason", long=True),
            "court_ordered_services": flag("A court ordered services"),
            "family_left_jurisdiction": flag("The family left the jurisdiction"),
        },
        [
            "neglect_level",
            "abuse_level",
            "policy_override",
            "discretionary_override",
            "override_approved",
            "court_ordered_services",
            "family_left_jurisdiction",
        ],
        "Complete after the safety assessment and the allegation findings, before the case-opening decision.",
    ),
    "approve_disposition": form(
        "Approve dispositions and case action",
        {
            "approved": flag("I approve the dispositions"),
            "case_action_final": choice(
                "Case action",
                ["OPEN", "CLOSE", "CLOSE_WITH_REFERRAL"],
                "Every closure needs a documented reason.",
            ),
            "service_type_final": choice("Services", ["IN_HOME", "SUBSTITUTE_CARE", "NONE"]),
            "closure_reason": text("Closure reason", long=True),
            "community_referral": text("Community referral"),
            "override_reason": text("Why the decided action was changed", long=True),
        },
        [
            "approved",
            "case_action_final",
            "service_type_final",
            "closure_reason",
            "community_referral",
        ],
        "The decision table's case action is filled in; change it only with a reason.",
        allOf=[
            {
                "if": {
                    "properties": {"case_action_final": {"enum": ["CLOSE", "CLOSE_WITH_REFERRAL"]}}
                },
                "then": {"properties": {"closure_reason": {"minLength": 1}}},
            },
            {
                "if": {"properties": {"case_action_final": {"const": "CLOSE_WITH_REFERRAL"}}},
                "then": {"properties": {"community_referral": {"minLength": 1}}},
            },
        ],
    ),
    "review_overdue_investigation": form(
        "Overdue investigation",
        {
            "decision": choice("Decision", ["extension_requested", "escalated", "completing_now"]),
            "notes": text("Notes", long=True),
        },
        ["decision"],
        "The investigation passed its 30 days. Approve an extension (which moves the deadline) "
        "or escalate.",
    ),
    # -- in-home services ------------------------------------------------------------------------
    "ten_day_contacts": form(
        "Ten-day contacts",
        {"contacts_completed_on": date("All contacts made by"), "notes": text("Notes", long=True)},
        ["contacts_completed_on"],
        "Face-to-face with each person receiving services, each locatable parent and the caregivers.",
    ),
    "family_plan": form(
        "Family plan of service",
        {
            "goals": {"type": "array", "title": "Goals", "minItems": 1, "items": text("Goal")},
            "services": {
                "type": "array",
                "title": "Services CPS provides",
                "items": text("Service"),
            },
            "parent_actions": text("What the parents will do", long=True, minLength=1),
            "signed_on": date("Signed by the parents on"),
            "refusal_documented": flag("A parent refused to sign (documented)"),
        },
        ["goals", "parent_actions", "signed_on"],
    ),
    "approve_family_plan": approval("Approve the family plan", ""),
    "monitor_services": form(
        "Services and monitoring",
        {
            "progress": text("Progress", long=True, minLength=1),
            "visits_made": {"type": "integer", "minimum": 0, "title": "Visits made"},
        },
        ["progress"],
    ),
    "reassess_risk": form(
        "Risk reassessment",
        {
            "reassessed_risk": choice("Reassessed risk", LEVELS),
            "unresolved_threats": flag("Unresolved safety threats remain"),
            "notes": text("Notes", long=True),
        },
        ["reassessed_risk", "unresolved_threats"],
        "Low or moderate with no unresolved threats: close. High or very high: continue.",
    ),
    # -- substitute care and court ---------------------------------------------------------------
    "obtain_tmc_order": form(
        "Ex parte hearing",
        {
            "tmc_order_on": date("Temporary managing conservatorship order dated"),
            "contrary_to_welfare": flag(
                "The order finds removal necessary (contrary to the welfare)"
            ),
            "notes": text("Notes", long=True),
        },
        ["tmc_order_on"],
        "After an emergency removal: the first working day, three days at most.",
    ),
    "file_service_plan": held("Service plan filed", "filed_on", "Due 45 days after the TMC order."),
    "status_hearing": held("Status hearing", "held_on", "Due 60 days after the TMC order."),
    "initial_permanency_hearing": form(
        "Initial permanency hearing",
        {
            "hearing_held_on": date("Held on"),
            "final_order": flag("The court entered a final order"),
            "parental_rights_terminated": flag("Parental rights were terminated"),
            "notes": text("Notes", long=True),
        },
        ["hearing_held_on", "final_order", "parental_rights_terminated"],
        "Due 180 days after the TMC order; later hearings every 120 days until the final order.",
    ),
    "track_dismissal_date": form(
        "Dismissal date",
        {
            "outcome": choice(
                "Before the dismissal date",
                ["trial_begun", "extension_granted", "monitored_return", "dismissed"],
            ),
            "notes": text("Notes", long=True),
        },
        ["outcome"],
        "Automatic dismissal on the first Monday after the first anniversary of the TMC order.",
    ),
    "adversary_hearing": held(
        "Full adversary hearing",
        "held_on",
        "Due 14 days after the removal.",
        continued_conservatorship=flag("The court continued DFPS's conservatorship"),
    ),
    "record_adjudication": form(
        "Adjudication",
        {
            "adjudication_on": date("First judicial finding of abuse or neglect"),
            "notes": text("Notes", long=True),
        },
        ["adjudication_on"],
        "The child entered foster care on the earlier of this finding and 60 days after the removal.",
    ),
    "medical_exam": form(
        "Medical exam",
        {
            "exam_on": date("Examined on"),
            "provider": text("Provider"),
            "notes": text("Notes", long=True),
        },
        ["exam_on"],
        "Within three business days of the removal.",
    ),
    "notify_relatives": form(
        "Relative notices",
        {
            "notified": {
                "type": "array",
                "title": "Relatives notified",
                "items": text("Name and relationship"),
            },
            "family_violence_exception": flag("Not notified for a family-violence reason"),
            "notified_by": date("All notices sent by"),
        },
        ["notified", "notified_by"],
        "All adult grandparents and other adult relatives within 30 days, with their options.",
    ),
    "reasonable_efforts_finding": form(
        "Reasonable-efforts finding",
        {
            "finding_on": date("Finding dated"),
            "reasonable_efforts_made": flag("Reasonable efforts to prevent removal were made"),
        },
        ["finding_on", "reasonable_efforts_made"],
        "Within 60 days of the removal, or the child is not eligible for Title IV-E.",
    ),
    "federal_case_plan": form(
        "Case plan",
        {
            "plan_on": date("Plan written on"),
            "goals": {"type": "array", "title": "Goals", "minItems": 1, "items": text("Goal")},
            "services": {"type": "array", "title": "Services", "items": text("Service")},
        },
        ["plan_on", "goals"],
        "Within 60 days of the removal (45 CFR 1356.21(g)).",
    ),
    "approve_case_plan": approval("Approve the case plan", ""),
    "schedule_initial_services": held(
        "Initial services", "scheduled_on", "By the 21st day in substitute care."
    ),
    "record_visit": form(
        "Caseworker visit",
        {
            "visited_on": date("Visited on"),
            "location": choice("Where", ["child_residence", "school", "office", "other"]),
            "child_seen_alone": flag("Child seen alone"),
            "announced": flag("Announced", default=True),
            "notes": text("Notes", long=True),
        },
        ["visited_on", "location", "child_seen_alone"],
        "Monthly; the first three months' visits in the child's residence (TX).",
    ),
    "review_visit_location": approval(
        "Visit outside the residence",
        "In the first three months TX requires visits in the residence.",
    ),
    "hold_periodic_review": held("Periodic review", "reviewed_on", "At least every six months."),
    "hold_permanency_hearing": form(
        "Permanency hearing",
        {
            "hearing_held_on": date("Held on"),
            "final_order": flag("A final order is in place"),
            "parental_rights_terminated": flag("Parental rights were terminated"),
            "notes": text("Notes", long=True),
        },
        ["hearing_held_on", "final_order", "parental_rights_terminated"],
    ),
    # -- permanency ------------------------------------------------------------------------------
    "set_permanency_goals": form(
        "Permanency goals",
        {
            "primary_goal": choice("Primary goal", GOALS),
            "concurrent_goal": choice("Concurrent goal", GOALS),
            "placed_with_relative": flag("The child is placed with a relative"),
            "compelling_reason_documented": flag("A compelling reason against TPR is documented"),
            "services_not_provided": flag("Reunification services were not provided"),
            "abandoned_or_felony_finding": flag("Abandoned-infant or aggravated-felony finding"),
            "trial_home_visit_days": {
                "type": "integer",
                "minimum": 0,
                "title": "Days on trial home visits or runaway",
                "description": "They do not count toward the 15 of 22 months.",
            },
        },
        [
            "primary_goal",
            "concurrent_goal",
            "placed_with_relative",
            "compelling_reason_documented",
            "services_not_provided",
            "abandoned_or_felony_finding",
            "trial_home_visit_days",
        ],
    ),
    "federal_permanency_hearing": held(
        "Permanency hearing (federal)", "held_on", "Within 12 months of entering foster care."
    ),
    "file_tpr": form(
        "TPR petition",
        {
            "action": choice("Action", ["petition_filed", "exception_documented"]),
            "filed_on": date("On"),
            "notes": text("Notes", long=True),
        },
        ["action", "filed_on"],
        "15 of the last 22 months in care: file or join a petition, or document an exception.",
    ),
    "schedule_permanency_hearing": form(
        "Permanency hearing date",
        {"hearing_on": date("Hearing set for")},
        ["hearing_on"],
        "The reunification assessment is due 30 days before it.",
    ),
    "assess_reunification": form(
        "Reunification assessment",
        {
            "reunification_risk": choice("Reunification risk", LEVELS),
            "visitation_quality": choice("Visitation", ["STRONG", "ACCEPTABLE", "LIMITED"]),
            "safety_if_returned": choice("Safety if the child returned", SAFETY),
            "reunification_time_remaining": flag("Time remains for reunification", default=True),
            "notes": text("Notes", long=True),
        },
        [
            "reunification_risk",
            "visitation_quality",
            "safety_if_returned",
            "reunification_time_remaining",
        ],
    ),
    "monitored_return": form(
        "Monitored return",
        {"returned_on": date("Child returned home on"), "notes": text("Notes", long=True)},
        ["returned_on"],
    ),
    "inhome_risk_reassessment": form(
        "Risk reassessment at home",
        {
            "reassessed_risk": choice("Reassessed risk", LEVELS),
            "unresolved_threats": flag("Unresolved safety threats remain"),
        },
        ["reassessed_risk", "unresolved_threats"],
    ),
    "change_permanency_goal": form(
        "Change the permanency goal",
        {
            "new_primary_goal": choice("New primary goal", GOALS),
            "reason": text("Reason", long=True, minLength=1),
        },
        ["new_primary_goal", "reason"],
    ),
    "transition_plan": form(
        "Transition plan",
        {
            "written_on": date("Written on"),
            "housing": text("Housing"),
            "health_insurance": text("Health insurance"),
            "education": text("Education"),
            "mentors": text("Mentors and supports"),
            "employment": text("Employment"),
        },
        ["written_on", "housing", "health_insurance"],
        "A 90-day plan before the youth leaves care at 18 or later.",
    ),
    # -- closure ---------------------------------------------------------------------------------
    "approve_closure": form(
        "Approve the closure",
        {
            "closure_approved": flag("I approve closing the case"),
            "closing_summary": text("Closing summary", long=True, minLength=1),
        },
        ["closure_approved", "closing_summary"],
        "A current risk reassessment must support closure.",
    ),
    "file_court_order": form(
        "Court order terminating jurisdiction",
        {
            "order_on": date("Order dated"),
            "document_reference": text("Document reference", minLength=1),
        },
        ["order_on", "document_reference"],
    ),
    "family_closure_meeting": held(
        "Family closure meeting", "held_on", "Within 15 days of the closure decision."
    ),
}
