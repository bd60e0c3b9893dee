"""The CPS case process of DOMAIN.md, one BPMN process per phase, chained by messages.

intake (S1-S2) -> investigation (S3-S5, calling investigation_work) -> services (S6-S7)
                                                                  -> substitute_care (S8-S9)
                                                                      -> monthly_visit, periodic_review,
                                                                         permanency_hearing (chains)
                                                                      -> permanency (S10)
                                      any of them -> closure (S11) -> casework.close_case
"""

from __future__ import annotations

from tools.bpmn_author.model import Process


def intake() -> Process:
    p = Process(
        "intake",
        "Intake and screening",
        ["intake_screener", "intake_supervisor"],
        "S1-S2: record the hotline report, screen it (D1), set the response priority (D2) and "
        "pathway (D1b), and hand a screened-in report to the investigation.",
    )
    p.start("report_received", "Report received")
    p.user(
        "record_report",
        "Record hotline report",
        doc="The intake clock starts when the hotline received the report, not when it was assigned.",
    )
    p.script(
        "prepare_screening",
        "Prepare screening inputs",
        """
ages = [age_on(c["birth_date"], received_at) for c in children if c.get("birth_date")]
victim_age = min(ages) if ages else 0
min_victim_age = victim_age
jurisdiction = screening.get("jurisdiction", "THIS")
child_fatality = screening.get("child_fatality", False)
duplicate_of_open_intake = screening.get("duplicate_of_open_intake", False)
safely_surrendered_infant = screening.get("safely_surrendered_infant", False)
open_case_without_new_allegation = screening.get("open_stage_or_case", False) and not screening.get("new_allegation", True)
locatable = screening.get("locatable", True)
ap_role = screening.get("ap_role", "CAREGIVER")
failure_to_protect_alleged = screening.get("failure_to_protect_alleged", False)
meets_statutory_definition = screening.get("meets_statutory_definition", True)
ar_excluded_allegation = screening.get("ar_excluded_allegation", False)
death_with_surviving_children = indicators.get("death_with_surviving_children", False)
imminent_danger = indicators.get("imminent_danger", False)
injury_needs_medical_care = indicators.get("injury_needs_medical_care", False)
ap_access_24h = indicators.get("ap_access_24h", False)
sexual_abuse = indicators.get("sexual_abuse", False)
child_afraid_to_go_home = indicators.get("child_afraid_to_go_home", False)
child_vulnerable = indicators.get("child_vulnerable", False) or victim_age <= 5
physical_abuse = indicators.get("physical_abuse", False)
prior_utc_12m = indicators.get("prior_utc_12m", False)
p1_criteria_met = indicators.get("p1_criteria_met", False)
educational_neglect_only = indicators.get("educational_neglect_only", False)
child_in_protected_setting = indicators.get("child_in_protected_setting", False)
""",
    )
    p.rule("screen", "Screen the report (D1)", "screening")
    p.xor("screening_outcome", "Screening outcome?")
    p.user("approve_screening", "Approve the screening decision", lane="intake_supervisor")
    p.xor("approval_outcome", "Screen in after all?", lane="intake_supervisor")
    p.rule("prioritize", "Set response priority (D2)", "priority", lane="intake_screener")
    p.rule("choose_pathway", "Choose the pathway (D1b)", "pathway")
    p.script(
        "set_response_window",
        "Set the response window",
        """
response_due = add_hours(received_at, alert_hours)
initiate_by = add_hours(received_at, response_hours)
""",
    )
    p.xor("fatality_check", "Child fatality?")
    p.throw(
        "mark_sensitive",
        "Restrict access to the case",
        "casework.mark_sensitive",
        '{"reason": "child fatality or near fatality"}',
    )
    p.xor("join_sensitive", "")
    p.end(
        "investigation_requested",
        "Investigation requested",
        message="investigation_requested",
        payload='{"priority": priority, "pathway": pathway, "received_at": received_at, '
        '"response_due": response_due, "initiate_by": initiate_by, '
        '"response_hours": response_hours, "child_fatality": child_fatality}',
    )
    screened_out = '{"status": "screened_out", "reason": screening_decision}'
    p.end(
        "closed_at_intake",
        "Screened out",
        lane="intake_supervisor",
        message="casework.set_status",
        payload=screened_out,
    )
    p.end(
        "no_investigation",
        "No investigation (linked, transferred or information)",
        lane="intake_screener",
        message="casework.set_status",
        payload=screened_out,
    )

    p.chain("report_received", "record_report", "prepare_screening", "screen", "screening_outcome")
    p.flow(
        "screening_outcome", "approve_screening", "supervisor_approval == True", "needs approval"
    )
    p.flow(
        "screening_outcome",
        "prioritize",
        'screening_decision == "SCREEN_IN" and supervisor_approval == False',
        "screened in",
    )
    p.default("screening_outcome", "no_investigation", "linked, transferred, information")
    p.flow("approve_screening", "approval_outcome")
    p.flow("approval_outcome", "prioritize", "screen_in_instead == True", "screen in")
    p.default("approval_outcome", "closed_at_intake", "screen-out approved")
    p.chain("prioritize", "choose_pathway", "set_response_window", "fatality_check")
    p.flow("fatality_check", "mark_sensitive", "child_fatality == True", "yes")
    p.default("fatality_check", "join_sensitive", "no")
    p.flow("mark_sensitive", "join_sensitive")
    p.flow("join_sensitive", "investigation_requested")
    return p


def investigation() -> Process:
    p = Process(
        "investigation",
        "Investigation",
        ["investigator", "supervisor"],
        "S3-S5: initiate within the priority's response window, investigate (a called process "
        "bounded by the 30-day completion deadline), then hand over to services, substitute "
        "care or closure according to the approved case action.",
    )
    p.start(
        "investigation_received",
        "Investigation requested",
        message="investigation_requested",
        variable="intake",
    )
    p.script(
        "open_investigation",
        "Open the investigation",
        """
priority = intake["priority"]
pathway = intake["pathway"]
received_at = intake["received_at"]
response_due = intake["response_due"]
""",
    )
    p.user(
        "first_contact",
        "Make first face-to-face contact",
        doc="Interview and see each alleged victim. The deadline's alerts escalate; the task "
        "stays open until the contact is made.",
    )
    p.boundary_timer(
        "first_contact_deadline", "Response window passed", "first_contact", date="response_due"
    )
    p.user("staff_late_contact", "Staff the late first contact", lane="supervisor")
    p.end("late_contact_staffed", "Late contact staffed", lane="supervisor")
    p.script(
        "record_initiation",
        "Record the initiation",
        """
initiated_at = contact_at
initiated_on_time = is_before(contact_at, response_due)
investigation_due = end_of_day(add_days(contact_at, 30))
safety_assessment_due = end_of_day(add_business_days(contact_at, 2))
""",
        lane="investigator",
    )
    p.call("investigate", "Investigate", "investigation_work")
    p.boundary_timer(
        "investigation_deadline", "Investigation due", "investigate", date="investigation_due"
    )
    p.user("review_overdue_investigation", "Review the overdue investigation", lane="supervisor")
    p.end("overdue_reviewed", "Overdue investigation reviewed", lane="supervisor")
    p.xor("case_action_outcome", "Case action?", lane="investigator")
    p.end(
        "services_requested",
        "In-home services requested",
        message="services_requested",
        payload='{"from": "investigation", "final_risk": final_risk, "case_action": case_action_final}',
    )
    p.end("in_substitute_care", "Child in substitute care")
    p.end(
        "closure_requested",
        "Closure requested",
        message="closure_requested",
        payload='{"reason": closure_reason, "court_involved": False, '
        '"community_referral": community_referral}',
    )
    p.chain("investigation_received", "open_investigation", "first_contact", "record_initiation")
    p.chain("first_contact_deadline", "staff_late_contact", "late_contact_staffed")
    p.chain("record_initiation", "investigate", "case_action_outcome")
    p.chain("investigation_deadline", "review_overdue_investigation", "overdue_reviewed")
    p.flow(
        "case_action_outcome",
        "services_requested",
        'case_action_final == "OPEN" and service_type_final == "IN_HOME"',
        "open: in-home services",
    )
    p.flow(
        "case_action_outcome",
        "in_substitute_care",
        'case_action_final == "OPEN" and service_type_final == "SUBSTITUTE_CARE"',
        "open: substitute care",
    )
    p.default("case_action_outcome", "closure_requested", "close")
    return p


def investigation_work() -> Process:
    p = Process(
        "investigation_work",
        "Investigate",
        ["investigator", "supervisor"],
        "Interviews, the safety decision (D3) with its plan or removal, dispositions (D6), the "
        "risk level (D4) and the case-opening decision (D5), approved by the supervisor.",
    )
    p.start("work_started", "Investigation initiated")
    p.parallel("split_work", "")
    p.user(
        "interview_child",
        "Interview child",
        each=("children", "child", "interviews", "interview"),
        doc="One interview per child of the case.",
    )
    p.user("assess_safety", "Assess safety")
    p.boundary_timer(
        "safety_assessment_deadline",
        "Safety assessment due",
        "assess_safety",
        date="safety_assessment_due",
    )
    p.end("late_safety_assessment", "Late safety assessment alerted")
    p.script("count_threats", "Count the safety threats", "threat_count = len(threats)")
    p.rule("decide_safety", "Decide safety (D3)", "safety")
    p.user("approve_safety_assessment", "Approve the safety assessment", lane="supervisor")
    p.xor("safety_outcome", "Safety decision?", lane="investigator")
    p.user("write_safety_plan", "Write the safety plan")
    p.script(
        "plan_expiry",
        "Set the safety plan's expiry",
        "safety_plan_expires = end_of_day(add_days(plan_signed_on, 30))",
    )
    p.user("approve_safety_plan", "Approve the safety plan", lane="supervisor")
    p.user(
        "follow_up_safety_plan",
        "Follow up the safety plan",
        lane="investigator",
        doc="A safety plan lasts at most 30 days without an approved extension. Closing the "
        "investigation waits for this follow-up and its safety reassessment.",
    )
    p.boundary_timer(
        "safety_plan_expiry",
        "Safety plan expires",
        "follow_up_safety_plan",
        date="safety_plan_expires",
    )
    p.end("expiry_alerted", "Expiry alerted")
    p.user("record_removal", "Record the removal")
    p.throw(
        "removal_requested",
        "Substitute care requested",
        "removal_requested",
        '{"removal_at": removal_at, "removal_type": removal_type, "placement_type": placement_type}',
    )
    p.xor("safety_done", "")
    p.parallel("join_work", "")
    p.xor("pathway_outcome", "Pathway?")
    p.user(
        "record_disposition",
        "Record the allegation's disposition",
        each=("allegations", "allegation", "dispositions", "disposition"),
        doc="One disposition per allegation (victim-perpetrator pair).",
    )
    p.script(
        "summarize_dispositions",
        "Summarize the dispositions",
        """
findings = [d["finding"] for d in dispositions]
any_rtb = "RTB" in findings
any_utd = "UTD" in findings
any_utc = "UTC" in findings
all_ro_or_admin = all(f in ("RO", "ADMIN") for f in findings)
any_ro = "RO" in findings
all_admin = all(f == "ADMIN" for f in findings)
""",
    )
    p.rule("overall_disposition", "Derive the overall disposition (D6)", "disposition")
    p.script(
        "investigation_finding",
        "Set the finding",
        'finding = "SUBSTANTIATED" if overall_disposition == "RTB" else "UNSUBSTANTIATED"',
    )
    p.script(
        "assessment_finding",
        "Family assessment: no finding",
        'finding = "FAMILY_ASSESSMENT"\noverall_disposition = "NONE"',
    )
    p.xor("findings_done", "")
    p.user("assess_risk", "Assess risk")
    p.script(
        "score_risk",
        "Take the higher SDM level",
        """
levels = ["LOW", "MODERATE", "HIGH", "VERY_HIGH"]
scored_risk = levels[max(levels.index(neglect_level), levels.index(abuse_level))]
""",
    )
    p.rule("decide_risk", "Apply overrides (D4)", "risk")
    p.rule("decide_case_action", "Decide the case action (D5)", "case_action")
    p.user(
        "approve_disposition",
        "Approve dispositions and case action",
        lane="supervisor",
        pre="""
case_action_final = case_action if case_action != "SUPERVISOR_DECIDES" else "OPEN"
service_type_final = service_type
closure_reason = ""
community_referral = ""
override_reason = ""
""",
        post="""
if case_action != "SUPERVISOR_DECIDES" and case_action_final != case_action and not override_reason:
    raise ValueError("changing the decided case action needs an override reason")
if case_action == "SUPERVISOR_DECIDES" and case_action_final == "CLOSE":
    raise ValueError("closing this case needs a community referral: choose CLOSE_WITH_REFERRAL")
if safety_decision == "UNSAFE" and case_action_final != "OPEN":
    raise ValueError("a case cannot close while a child is unsafe")
""",
    )
    p.end("work_done", "Investigation complete", lane="investigator")

    p.chain("work_started", "split_work", "interview_child", "join_work")
    p.chain("split_work", "assess_safety", "count_threats", "decide_safety")
    p.chain("decide_safety", "approve_safety_assessment", "safety_outcome")
    p.chain("safety_assessment_deadline", "late_safety_assessment")
    p.flow(
        "safety_outcome",
        "write_safety_plan",
        'safety_decision == "CONDITIONALLY_SAFE"',
        "conditionally safe",
    )
    p.flow("safety_outcome", "record_removal", 'safety_decision == "UNSAFE"', "unsafe")
    p.default("safety_outcome", "safety_done", "safe")
    p.chain(
        "write_safety_plan",
        "plan_expiry",
        "approve_safety_plan",
        "follow_up_safety_plan",
        "safety_done",
    )
    p.chain("safety_plan_expiry", "expiry_alerted")
    p.chain("record_removal", "removal_requested", "safety_done")
    p.chain("safety_done", "join_work", "pathway_outcome")
    p.flow(
        "pathway_outcome",
        "assessment_finding",
        'pathway == "ALTERNATIVE_RESPONSE"',
        "alternative response",
    )
    p.default("pathway_outcome", "record_disposition", "investigation")
    p.chain(
        "record_disposition",
        "summarize_dispositions",
        "overall_disposition",
        "investigation_finding",
        "findings_done",
    )
    p.chain("assessment_finding", "findings_done")
    p.chain("findings_done", "assess_risk", "score_risk", "decide_risk", "decide_case_action")
    p.chain("decide_case_action", "approve_disposition", "work_done")
    return p


def services() -> Process:
    p = Process(
        "services",
        "In-home services",
        ["ongoing_caseworker", "supervisor"],
        "S6-S7 (TX FBSS): ten-day contacts, the family plan of service, monitoring and a risk "
        "reassessment; each service period is its own instance and hands over to the next.",
    )
    p.start(
        "services_received", "Services requested", message="services_requested", variable="referral"
    )
    p.script(
        "services_dates",
        "Set the service period's dates",
        "ten_day_due = end_of_day(add_days(today(), 10))",
    )
    p.user("ten_day_contacts", "Make the ten-day contacts")
    p.boundary_timer(
        "ten_day_deadline", "Ten-day contacts due", "ten_day_contacts", date="ten_day_due"
    )
    p.end("ten_day_alerted", "Late contacts alerted")
    p.user("family_plan", "Write the family plan of service")
    p.user("approve_family_plan", "Approve the family plan", lane="supervisor")
    p.user("monitor_services", "Monitor services and visit", lane="ongoing_caseworker")
    p.user("reassess_risk", "Reassess risk")
    p.xor("reassessment_outcome", "Risk reduced?")
    p.end(
        "services_closure",
        "Closure requested",
        message="closure_requested",
        payload='{"reason": "risk reduced; no unresolved safety threats", "court_involved": False}',
    )
    p.end(
        "next_period",
        "Next service period",
        message="services_requested",
        payload='{"from": "services", "final_risk": reassessed_risk}',
    )
    p.chain("services_received", "services_dates", "ten_day_contacts", "family_plan")
    p.chain("ten_day_deadline", "ten_day_alerted")
    p.chain(
        "family_plan",
        "approve_family_plan",
        "monitor_services",
        "reassess_risk",
        "reassessment_outcome",
    )
    p.flow(
        "reassessment_outcome",
        "services_closure",
        'reassessed_risk in ("LOW", "MODERATE") and unresolved_threats == False',
        "close",
    )
    p.default("reassessment_outcome", "next_period", "continue services")
    return p


def substitute_care() -> Process:
    p = Process(
        "substitute_care",
        "Substitute care and the court track",
        ["ongoing_caseworker", "attorney", "supervisor"],
        "S8-S9 (TX): after a removal, the statutory clocks of the placement and the court "
        "calendar run in parallel; monthly visits, periodic reviews and permanency hearings "
        "run as chains of short instances.",
    )
    p.start("removal_received", "Removal", message="removal_requested", variable="removal")
    p.script(
        "removal_dates",
        "Compute the removal's deadlines",
        """
removal_at = removal["removal_at"]
removal_date = local_date(removal_at)
ex_parte_due = end_of_day(next_working_day(removal_at))
adversary_due = end_of_day(add_days(removal_at, 14))
medical_due = end_of_day(add_business_days(removal_at, 3))
relatives_due = end_of_day(add_days(removal_at, 30))
services_due = end_of_day(add_days(removal_at, 21))
case_plan_due = end_of_day(add_days(removal_at, 60))
first_month = removal_date[:8] + "01"
""",
    )
    p.parallel("split_care", "")
    # The court calendar that runs from the temporary managing conservatorship order.
    p.user("obtain_tmc_order", "Ex parte hearing: obtain the TMC order", lane="attorney")
    p.boundary_timer(
        "ex_parte_deadline", "Ex parte hearing due", "obtain_tmc_order", date="ex_parte_due"
    )
    # The court's system may send the order itself (an inbound webhook routed to this message):
    # it then takes the place of the attorney's entry.
    p.boundary_message(
        "tmc_order_filed", "TMC order received from the court", "obtain_tmc_order",
        "court_tmc_order", "court_order",
    )  # fmt: skip
    p.script(
        "take_court_order",
        "Take the court's order",
        """
tmc_order_on = court_order["order_date"]
contrary_to_welfare = court_order.get("contrary_to_welfare", False) is True
""",
        lane="attorney",
    )
    p.script(
        "court_dates",
        "Compute the court calendar",
        """
service_plan_due = end_of_day(add_days(tmc_order_on, 45))
status_hearing_due = end_of_day(add_days(tmc_order_on, 60))
initial_hearing_due = end_of_day(add_days(tmc_order_on, 180))
dismissal_on = first_monday_after(add_months(tmc_order_on, 12))
dismissal_due = end_of_day(dismissal_on)
""",
        lane="attorney",
    )
    p.parallel("split_court", "", lane="attorney")
    p.user("file_service_plan", "File the service plan", lane="ongoing_caseworker")
    p.boundary_timer(
        "service_plan_deadline", "Service plan due", "file_service_plan", date="service_plan_due"
    )
    p.user("status_hearing", "Status hearing", lane="attorney")
    p.boundary_timer(
        "status_hearing_deadline", "Status hearing due", "status_hearing", date="status_hearing_due"
    )
    p.user("initial_permanency_hearing", "Initial permanency hearing")
    p.boundary_timer(
        "initial_hearing_deadline", "Initial permanency hearing due", "initial_permanency_hearing",
        date="initial_hearing_due",
    )  # fmt: skip
    p.throw(
        "next_permanency_hearing",
        "Schedule the next permanency hearing",
        "permanency_hearing_due",
        '{"due": end_of_day(add_days(hearing_held_on, 120)), "final_order": final_order}',
    )
    p.user("track_dismissal_date", "Dismissal date: trial, extension or monitored return")
    p.boundary_timer(
        "dismissal_deadline", "Dismissal date", "track_dismissal_date", date="dismissal_due"
    )
    p.parallel("join_court", "")
    # Hearings and findings that run from the removal itself.
    p.user("adversary_hearing", "Full adversary hearing", lane="attorney")
    p.boundary_timer(
        "adversary_deadline", "Adversary hearing due", "adversary_hearing", date="adversary_due"
    )
    p.user("record_adjudication", "Record the adjudication", lane="attorney")
    p.script(
        "entered_care",
        "Compute the date the child entered foster care",
        """
sixty_days = add_days(removal_date, 60)
entered_care_on = adjudication_on if is_before(adjudication_on, sixty_days) else sixty_days
""",
        lane="attorney",
    )
    p.throw(
        "permanency_planning",
        "Start permanency planning",
        "permanency_planning_started",
        '{"entered_care_on": entered_care_on, "removal_date": removal_date}',
    )
    p.user("medical_exam", "Medical exam after removal", lane="ongoing_caseworker")
    p.boundary_timer("medical_deadline", "Medical exam due", "medical_exam", date="medical_due")
    p.user("notify_relatives", "Notify adult relatives")
    p.boundary_timer(
        "relatives_deadline", "Relative notices due", "notify_relatives", date="relatives_due"
    )
    p.user("reasonable_efforts_finding", "Reasonable-efforts finding", lane="attorney")
    p.boundary_timer(
        "reasonable_efforts_deadline", "Reasonable-efforts finding due", "reasonable_efforts_finding",
        date="case_plan_due",
    )  # fmt: skip
    p.user("federal_case_plan", "Write the case plan", lane="ongoing_caseworker")
    p.boundary_timer(
        "case_plan_deadline", "Case plan due", "federal_case_plan", date="case_plan_due"
    )
    p.user("approve_case_plan", "Approve the case plan", lane="supervisor")
    p.user("schedule_initial_services", "Schedule initial services", lane="ongoing_caseworker")
    p.boundary_timer(
        "services_deadline",
        "Initial services due",
        "schedule_initial_services",
        date="services_due",
    )
    p.throw(
        "start_visits", "Open the first visit month", "visit_month_started",
        '{"month_start": first_month, "placement_start": removal_date}',
    )  # fmt: skip
    p.throw(
        "start_reviews", "Schedule the first periodic review", "review_due",
        '{"due": end_of_day(add_months(removal_date, 6))}',
    )  # fmt: skip
    p.parallel("join_care", "", lane="ongoing_caseworker")
    p.end("care_clocks_done", "Removal deadlines done")

    p.chain("removal_received", "removal_dates", "split_care")
    for branch in (
        "obtain_tmc_order",
        "adversary_hearing",
        "medical_exam",
        "notify_relatives",
        "reasonable_efforts_finding",
        "federal_case_plan",
        "schedule_initial_services",
        "start_visits",
        "start_reviews",
    ):
        p.flow("split_care", branch)
    p.chain("obtain_tmc_order", "court_dates", "split_court")
    p.chain("tmc_order_filed", "take_court_order", "court_dates")
    for branch in (
        "file_service_plan",
        "status_hearing",
        "initial_permanency_hearing",
        "track_dismissal_date",
    ):
        p.flow("split_court", branch)
    p.chain("initial_permanency_hearing", "next_permanency_hearing", "join_court")
    for branch in ("file_service_plan", "status_hearing", "track_dismissal_date"):
        p.flow(branch, "join_court")
    p.flow("join_court", "join_care")
    p.chain(
        "adversary_hearing",
        "record_adjudication",
        "entered_care",
        "permanency_planning",
        "join_care",
    )
    p.chain("federal_case_plan", "approve_case_plan", "join_care")
    for branch in ("medical_exam", "notify_relatives", "reasonable_efforts_finding",
                   "schedule_initial_services", "start_visits", "start_reviews"):  # fmt: skip
        p.flow(branch, "join_care")
    p.flow("join_care", "care_clocks_done")
    for timer in ("ex_parte_deadline", "service_plan_deadline", "status_hearing_deadline",
                  "initial_hearing_deadline", "dismissal_deadline", "adversary_deadline",
                  "medical_deadline", "relatives_deadline", "reasonable_efforts_deadline",
                  "case_plan_deadline", "services_deadline"):  # fmt: skip
        p.alerted(timer)
    return p


def monthly_visit() -> Process:
    p = Process(
        "monthly_visit",
        "Monthly caseworker visit",
        ["ongoing_caseworker", "supervisor"],
        "T27: one instance per calendar month of care. A visit in the month makes it compliant; "
        "TX wants the first three months' visits in the child's residence. At month end the "
        "next month opens.",
    )
    p.start("month_opened", "Visit month opened", message="visit_month_started", variable="month")
    p.script(
        "month_dates",
        "Compute the month's dates",
        """
month_start = month["month_start"]
placement_start = month["placement_start"]
month_end_due = end_of_day(add_days(add_months(month_start, 1), -1))
reminder_at = start_of_day(add_days(month_start, 19))
next_month = add_months(month_start, 1)
residence_required = is_before(month_start, add_months(placement_start[:8] + "01", 3))
""",
    )
    p.parallel("split_month", "")
    p.user("record_visit", "Visit the child")
    p.boundary_timer("visit_reminder", "No visit by the 20th", "record_visit", date="reminder_at")
    p.end("reminded", "Reminder sent")
    p.boundary_timer(
        "visit_month_end", "Month over without a visit", "record_visit", date="month_end_due",
        interrupting=True,
    )  # fmt: skip
    p.script(
        "month_missed",
        "Record a missed month",
        "visit_compliant = False\nvisited_in_residence = False",
        lane="supervisor",
    )
    p.end("month_not_compliant", "Month not compliant", lane="supervisor")
    p.script(
        "assess_visit",
        "Assess the visit",
        """
visit_compliant = True
visited_in_residence = location == "child_residence"
residence_rule_broken = residence_required and not visited_in_residence
""",
        lane="ongoing_caseworker",
    )
    p.xor("residence_check", "In the residence as required?")
    p.user("review_visit_location", "Review a visit outside the residence", lane="supervisor")
    p.xor("visit_checked", "", lane="ongoing_caseworker")
    p.end("month_compliant", "Month compliant")
    p.wait("month_over", "Month over", date="month_end_due")
    p.end(
        "next_month",
        "Next month opened",
        message="visit_month_started",
        payload='{"month_start": next_month, "placement_start": placement_start}',
    )
    p.chain(
        "month_opened",
        "month_dates",
        "split_month",
        "record_visit",
        "assess_visit",
        "residence_check",
    )
    p.flow("residence_check", "review_visit_location", "residence_rule_broken == True", "no")
    p.default("residence_check", "visit_checked", "yes")
    p.chain("review_visit_location", "visit_checked", "month_compliant")
    p.chain("visit_reminder", "reminded")
    p.chain("visit_month_end", "month_missed", "month_not_compliant")
    p.chain("split_month", "month_over", "next_month")
    return p


def periodic_review() -> Process:
    p = Process(
        "periodic_review",
        "Periodic case review",
        ["supervisor", "ongoing_caseworker"],
        "T28: a review at least every six months of care; each review schedules the next.",
    )
    p.start("review_opened", "Review due", message="review_due", variable="review")
    p.script("review_dates", "Take the due date", 'review_due_at = review["due"]')
    p.user("hold_periodic_review", "Hold the periodic review")
    p.boundary_timer("review_deadline", "Review due", "hold_periodic_review", date="review_due_at")
    p.end("review_alerted", "Late review alerted")
    p.end(
        "next_review",
        "Next review scheduled",
        message="review_due",
        payload='{"due": end_of_day(add_months(reviewed_on, 6))}',
    )
    p.chain("review_opened", "review_dates", "hold_periodic_review", "next_review")
    p.chain("review_deadline", "review_alerted")
    return p


def permanency_hearing() -> Process:
    p = Process(
        "permanency_hearing",
        "Permanency hearing",
        ["attorney", "ongoing_caseworker"],
        "T31/T36: subsequent permanency hearings (TX: every 120 days before the final order, "
        "then within 90 days of a TPR order or 6 months, and every 6 months after).",
    )
    p.start("hearing_opened", "Hearing due", message="permanency_hearing_due", variable="hearing")
    p.script("hearing_dates", "Take the due date", 'hearing_due_at = hearing["due"]')
    p.user("hold_permanency_hearing", "Hold the permanency hearing")
    p.boundary_timer(
        "hearing_deadline", "Hearing due", "hold_permanency_hearing", date="hearing_due_at"
    )
    p.end("hearing_alerted", "Late hearing alerted")
    p.script(
        "next_hearing_date",
        "Compute the next hearing's date",
        """
if final_order and parental_rights_terminated and not hearing.get("final_order"):
    next_due = end_of_day(add_days(hearing_held_on, 90))
elif final_order:
    next_due = end_of_day(add_months(hearing_held_on, 6))
else:
    next_due = end_of_day(add_days(hearing_held_on, 120))
""",
    )
    p.end(
        "next_hearing",
        "Next hearing scheduled",
        message="permanency_hearing_due",
        payload='{"due": next_due, "final_order": final_order}',
    )
    p.chain(
        "hearing_opened",
        "hearing_dates",
        "hold_permanency_hearing",
        "next_hearing_date",
        "next_hearing",
    )
    p.chain("hearing_deadline", "hearing_alerted")
    return p


def permanency() -> Process:
    p = Process(
        "permanency",
        "Permanency planning",
        ["ongoing_caseworker", "attorney", "supervisor"],
        "S10: concurrent planning from the day the child entered foster care: the federal "
        "permanency hearing clock, the 15-of-22-months TPR rule (D7), the reunification "
        "assessment and decision (D8), and the youth's transition plan.",
    )
    p.start(
        "planning_started", "Permanency planning started",
        message="permanency_planning_started", variable="care",
    )  # fmt: skip
    p.user("set_permanency_goals", "Set the primary and concurrent goals")
    p.script(
        "federal_clocks",
        "Compute the federal clocks",
        """
entered_care_on = care["entered_care_on"]
federal_hearing_due = end_of_day(add_months(entered_care_on, 12))
tpr_trigger_on = add_days(add_months(entered_care_on, 15), trial_home_visit_days)
tpr_due = end_of_day(tpr_trigger_on)
months_in_care_last_22 = 15
reunification_planned = "REUNIFICATION" in (primary_goal, concurrent_goal)
ages = [age_on(c["birth_date"], entered_care_on) for c in children if c.get("birth_date")]
oldest = max(ages) if ages else 0
births = [c["birth_date"] for c in children if c.get("birth_date")]
transition_due = end_of_day(add_days(add_months(min(births), 18 * 12), -90)) if births else None
transition_needed = oldest >= 14
""",
    )
    p.parallel("split_plans", "")
    p.user("federal_permanency_hearing", "Federal permanency hearing", lane="attorney")
    p.boundary_timer(
        "federal_hearing_deadline", "Permanency hearing due", "federal_permanency_hearing",
        date="federal_hearing_due",
    )  # fmt: skip
    p.rule("decide_tpr", "TPR requirement (D7)", "tpr", lane="attorney")
    p.xor("tpr_outcome", "File TPR?", lane="attorney")
    p.user("file_tpr", "File the TPR petition or document an exception", lane="attorney")
    p.boundary_timer("tpr_deadline", "15 of 22 months reached", "file_tpr", date="tpr_due")
    p.xor("reunification_check", "Reunification a goal?", lane="ongoing_caseworker")
    p.user("schedule_permanency_hearing", "Schedule the permanency hearing", lane="attorney")
    p.script(
        "reunification_due_date",
        "Reunification assessment due 30 days before the hearing",
        "reunification_due = end_of_day(add_days(hearing_on, -30))",
        lane="ongoing_caseworker",
    )
    p.user("assess_reunification", "Assess reunification")
    p.boundary_timer(
        "reunification_deadline", "Reunification assessment due", "assess_reunification",
        date="reunification_due",
    )  # fmt: skip
    p.rule("recommend_reunification", "Recommend (D8)", "reunification")
    p.xor("reunification_outcome", "Recommendation?")
    p.user("monitored_return", "Monitored return home")
    p.user("inhome_risk_reassessment", "Reassess risk in the home")
    p.xor("return_outcome", "Risk low enough to close?")
    p.throw(
        "reunification_closure", "Request closure", "closure_requested",
        '{"reason": "reunified", "court_involved": True}',
    )  # fmt: skip
    p.user("change_permanency_goal", "Make the concurrent plan primary", lane="supervisor")
    p.xor("transition_check", "Youth near 18?", lane="ongoing_caseworker")
    p.user("transition_plan", "Write the 90-day transition plan")
    p.boundary_timer(
        "transition_deadline", "Transition plan due", "transition_plan", date="transition_due"
    )
    p.end("plans_done", "Plan branch done")

    p.chain("planning_started", "set_permanency_goals", "federal_clocks", "split_plans")
    for branch in (
        "federal_permanency_hearing",
        "decide_tpr",
        "reunification_check",
        "transition_check",
    ):
        p.flow("split_plans", branch)
    p.flow("federal_permanency_hearing", "plans_done")
    p.chain("decide_tpr", "tpr_outcome")
    p.flow("tpr_outcome", "file_tpr", 'tpr_requirement == "FILE_TPR"', "file")
    p.default("tpr_outcome", "plans_done", "exception or not required")
    p.flow("file_tpr", "plans_done")
    p.flow(
        "reunification_check", "schedule_permanency_hearing", "reunification_planned == True", "yes"
    )
    p.default("reunification_check", "plans_done", "no")
    p.chain("schedule_permanency_hearing", "reunification_due_date", "assess_reunification",
            "recommend_reunification", "reunification_outcome")  # fmt: skip
    p.flow(
        "reunification_outcome",
        "monitored_return",
        'reunification_recommendation == "RETURN_HOME"',
        "return home",
    )
    p.flow(
        "reunification_outcome",
        "change_permanency_goal",
        'reunification_recommendation == "CHANGE_GOAL"',
        "change goal",
    )
    p.default("reunification_outcome", "plans_done", "continue reunification")
    p.chain("monitored_return", "inhome_risk_reassessment", "return_outcome")
    p.flow(
        "return_outcome", "reunification_closure",
        'reassessed_risk in ("LOW", "MODERATE") and unresolved_threats == False', "close",
    )  # fmt: skip
    p.default("return_outcome", "plans_done", "keep monitoring")
    p.flow("reunification_closure", "plans_done")
    p.flow("change_permanency_goal", "plans_done")
    p.flow("transition_check", "transition_plan", "transition_needed == True", "yes")
    p.default("transition_check", "plans_done", "no")
    p.flow("transition_plan", "plans_done")
    for timer in ("federal_hearing_deadline", "tpr_deadline", "reunification_deadline",
                  "transition_deadline"):  # fmt: skip
        p.alerted(timer)
    return p


def closure() -> Process:
    p = Process(
        "closure",
        "Case closure",
        ["supervisor", "ongoing_caseworker", "attorney"],
        "S11: closure waits for the supervisor's approval, the court order terminating "
        "jurisdiction when a court is involved, and the family closure meeting within 15 days.",
    )
    p.start(
        "closure_received", "Closure requested", message="closure_requested", variable="closure"
    )
    p.script(
        "closure_dates",
        "Set the closure's dates",
        """
closure_reason = closure.get("reason") or ""
court_involved = closure.get("court_involved", False)
decided_on = today()
meeting_due = end_of_day(add_days(decided_on, 15))
""",
    )
    p.parallel("split_closure", "")
    p.user("approve_closure", "Approve the closure")
    p.xor("court_check", "Court involved?", lane="attorney")
    p.user("file_court_order", "File the order terminating jurisdiction", lane="attorney")
    p.xor("court_done", "", lane="attorney")
    p.user("family_closure_meeting", "Hold the family closure meeting", lane="ongoing_caseworker")
    p.boundary_timer(
        "meeting_deadline", "Closure meeting due", "family_closure_meeting", date="meeting_due"
    )
    p.end("meeting_alerted", "Late meeting alerted", lane="ongoing_caseworker")
    p.parallel("join_closure", "", lane="supervisor")
    p.xor("closure_outcome", "Closure approved?", lane="supervisor")
    p.end(
        "case_closed", "Case closed", message="casework.close_case",
        payload='{"reason": closure_reason}',
    )  # fmt: skip
    p.end(
        "closure_refused", "Services continue", message="services_requested",
        payload='{"from": "closure", "final_risk": "UNKNOWN"}',
    )  # fmt: skip
    p.chain("closure_received", "closure_dates", "split_closure", "approve_closure", "join_closure")
    p.chain("split_closure", "court_check")
    p.flow("court_check", "file_court_order", "court_involved == True", "yes")
    p.default("court_check", "court_done", "no")
    p.chain("file_court_order", "court_done", "join_closure")
    p.chain("split_closure", "family_closure_meeting", "join_closure")
    p.chain("meeting_deadline", "meeting_alerted")
    p.chain("join_closure", "closure_outcome")
    p.flow("closure_outcome", "case_closed", "closure_approved == True", "approved")
    p.default("closure_outcome", "closure_refused", "not approved")
    return p


ALL = [
    intake,
    investigation,
    investigation_work,
    services,
    substitute_care,
    monthly_visit,
    periodic_review,
    permanency_hearing,
    permanency,
    closure,
]
