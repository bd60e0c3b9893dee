"""The decision tables of DOMAIN §4 (D1, D1b, D2-D8) as DMN. Cells are Python: ``-`` is any
value, ``?`` stands for the input. Every table ends where DOMAIN ends: an input no row
matches is an error of the business-rule task, never a silent pass."""

from __future__ import annotations

from tools.bpmn_author.decisions import Input, Output, Rule, table

ANY = "-"
T, F = "True", "False"


def screening() -> str:
    """D1. Screening decision — hit policy FIRST (rules are priority-ordered)."""
    inputs = [
        Input("Youngest alleged victim's age", "victim_age", "number"),
        Input("Child fatality", "child_fatality", "boolean"),
        Input("Duplicate of an open intake", "duplicate_of_open_intake", "boolean"),
        Input("Jurisdiction", "jurisdiction"),
        Input("Safely surrendered infant", "safely_surrendered_infant", "boolean"),
        Input(
            "Open stage/case and no new allegation", "open_case_without_new_allegation", "boolean"
        ),
        Input("Family can be located", "locatable", "boolean"),
        Input("Alleged perpetrator's role", "ap_role"),
        Input("Failure to protect alleged", "failure_to_protect_alleged", "boolean"),
        Input("Meets the statutory definition", "meets_statutory_definition", "boolean"),
    ]
    outputs = [
        Output("screening_decision", "Decision"),
        Output("referral", "Referral"),
        Output("supervisor_approval", "Supervisor approval", "boolean"),
    ]
    this = '"THIS"'
    rules = [
        Rule(("? >= 18", F, *[ANY] * 8), ('"SCREEN_OUT"', '"APS"', T), "alleged victim is an adult"),
        Rule((ANY, ANY, T, *[ANY] * 7), ('"LINK_DUPLICATE"', '"NONE"', F), "same incident"),
        Rule((ANY, ANY, ANY, '? != "THIS"', *[ANY] * 6), ('"TRANSFER"', '"OTHER_JURISDICTION"', F)),
        Rule((ANY, ANY, ANY, this, T, *[ANY] * 5), ('"SAFE_HAVEN"', '"NONE"', F)),
        Rule((ANY, ANY, ANY, this, ANY, T, *[ANY] * 4), ('"INFO_TO_OPEN_CASE"', '"NONE"', F)),
        Rule(("? < 18", ANY, ANY, this, ANY, ANY, F, ANY, ANY, ANY), ('"SCREEN_OUT"', '"NONE"', T),
             "not enough information to locate the family"),
        Rule(("? < 18", ANY, ANY, this, ANY, ANY, T, '"THIRD_PARTY"', F, ANY),
             ('"SCREEN_OUT"', '"LAW_ENFORCEMENT"', T), "not within CPS authority [SIMPLIFIED]"),
        Rule(("? < 18", ANY, ANY, this, ANY, ANY, T, ANY, ANY, F),
             ('"SCREEN_OUT"', '"COMMUNITY_SERVICES"', T), "does not meet the definition"),
        Rule(("? < 18", ANY, ANY, this, ANY, ANY, T, ANY, ANY, T), ('"SCREEN_IN"', '"NONE"', F)),
    ]  # fmt: skip
    return table(
        "screening", "D1 Screening decision", "FIRST", inputs, outputs, rules,
        "DOMAIN §4 D1. Rule order is priority order.",
    )  # fmt: skip


def pathway() -> str:
    """D1b. Pathway — hit policy FIRST (TX profile)."""
    inputs = [
        Input("Priority", "priority"),
        Input("Youngest alleged victim's age", "min_victim_age", "number"),
        Input("Allegation excluded from AR", "ar_excluded_allegation", "boolean"),
    ]
    outputs = [Output("pathway", "Pathway")]
    rules = [
        Rule(('"P2_72H"', "? >= 6", F), ('"ALTERNATIVE_RESPONSE"',), "no disposition, no registry"),
        Rule((ANY, ANY, ANY), ('"INVESTIGATION"',)),
    ]
    return table("pathway", "D1b Pathway", "FIRST", inputs, outputs, rules)


def priority() -> str:
    """D2. Response priority — hit policy FIRST [SIMPLIFIED]."""
    names = [
        ("Child death with surviving children", "death_with_surviving_children"),
        ("Imminent death or serious harm", "imminent_danger"),
        ("Injury needs immediate medical care", "injury_needs_medical_care"),
        ("Alleged perpetrator has access in the next 24 h", "ap_access_24h"),
        ("Sexual abuse", "sexual_abuse"),
        ("Child afraid to go home", "child_afraid_to_go_home"),
        ("Child vulnerable (0-5, disability, non-verbal)", "child_vulnerable"),
        ("Physical abuse", "physical_abuse"),
        ("Unable-to-complete report in the last 12 months", "prior_utc_12m"),
        ("P1 criteria met", "p1_criteria_met"),
        ("Educational neglect only", "educational_neglect_only"),
        ("Child in a protected setting", "child_in_protected_setting"),
    ]
    inputs = [Input(label, name, "boolean") for label, name in names]
    outputs = [
        Output("priority", "Priority"),
        Output("response_hours", "Response within (hours)", "number"),
        Output("alert_hours", "Overdue after (hours)", "number"),
        Output("ca_mapping", "CA mapping"),
    ]

    def when(**flags: bool) -> tuple[str, ...]:
        return tuple(str(flags[n]) if n in flags else ANY for _, n in names)

    immediate = ('"P1_IMMEDIATE"', "0", "2", '"IMMEDIATE_24H"')
    p1 = ('"P1_24H"', "24", "24", '"IMMEDIATE_24H"')
    p2 = ('"P2_72H"', "72", "72", '"TEN_DAY"')
    rules = [
        Rule(when(death_with_surviving_children=True), immediate, "alert threshold PT2H [DESIGN]"),
        Rule(when(imminent_danger=True), immediate),
        Rule(when(injury_needs_medical_care=True, ap_access_24h=True), p1),
        Rule(when(sexual_abuse=True, ap_access_24h=True), p1),
        Rule(when(sexual_abuse=True, child_afraid_to_go_home=True), p1),
        Rule(when(physical_abuse=True, child_vulnerable=True, ap_access_24h=True), p1),
        Rule(when(prior_utc_12m=True, p1_criteria_met=True), p1),
        Rule(when(educational_neglect_only=True), p2),
        Rule(when(child_in_protected_setting=True), p2),
        Rule(when(), p2, "otherwise (meets the definition)"),
    ]
    return table("priority", "D2 Response priority", "FIRST", inputs, outputs, rules)


def safety() -> str:
    """D3. Safety decision — hit policy FIRST."""
    inputs = [
        Input("Safety threats", "threat_count", "number"),
        Input(
            "In-home interventions control every threat",
            "in_home_interventions_sufficient",
            "boolean",
        ),
        Input("Protective caregiver placement agreed", "protective_placement_agreed", "boolean"),
    ]
    outputs = [
        Output("safety_decision", "Safety decision"),
        Output("safety_action", "Action"),
        Output("safety_supervisor_approval", "Supervisor approval", "boolean"),
    ]
    rules = [
        Rule(("? == 0", ANY, ANY), ('"SAFE"', '"continue to risk assessment"', T)),
        Rule(("? >= 1", T, ANY), ('"CONDITIONALLY_SAFE"', '"written safety plan; monitor; reassess"', T)),
        Rule(("? >= 1", F, T), ('"CONDITIONALLY_SAFE"', '"PCSP safety plan; over 30 days needs an extension"', T)),
        Rule(("? >= 1", F, F), ('"UNSAFE"', '"protective placement: staff with supervisor and attorney"', T)),
    ]  # fmt: skip
    return table("safety", "D3 Safety decision", "FIRST", inputs, outputs, rules)


def risk() -> str:
    """D4. Final risk level after overrides [SIMPLIFIED]. The scored level is the higher of the
    SDM abuse and neglect levels (their score bands come from the jurisdiction's SDM manual)."""
    inputs = [
        Input("Scored risk", "scored_risk"),
        Input("Policy override", "policy_override", "boolean"),
        Input("Discretionary override", "discretionary_override"),
        Input("Supervisor approved the override", "override_approved", "boolean"),
    ]
    outputs = [Output("final_risk", "Final risk")]
    plus = '"PLUS_ONE"'
    rules = [
        Rule((ANY, T, ANY, ANY), ('"VERY_HIGH"',), "policy override"),
        Rule(('"LOW"', F, plus, T), ('"MODERATE"',)),
        Rule(('"MODERATE"', F, plus, T), ('"HIGH"',)),
        Rule(('? in ("HIGH", "VERY_HIGH")', F, plus, T), ('"VERY_HIGH"',)),
        Rule(('? in ("LOW", "MODERATE", "HIGH", "VERY_HIGH")', F, ANY, ANY), ("scored_risk",)),
    ]
    return table("risk", "D4 Risk level", "FIRST", inputs, outputs, rules)


def case_action() -> str:
    """D5. Case-opening decision — hit policy FIRST."""
    inputs = [
        Input("Safety decision", "safety_decision"),
        Input("Final risk", "final_risk"),
        Input("Finding", "finding"),
        Input("Court-ordered services", "court_ordered_services", "boolean"),
        Input("Family left the jurisdiction", "family_left_jurisdiction", "boolean"),
    ]
    outputs = [Output("case_action", "Case action"), Output("service_type", "Services")]
    high = '? in ("HIGH", "VERY_HIGH")'
    rules = [
        Rule(('"UNSAFE"', ANY, ANY, ANY, ANY), ('"OPEN"', '"SUBSTITUTE_CARE"'), "close only if no unresolved threats"),
        Rule((ANY, ANY, ANY, T, ANY), ('"OPEN"', '"IN_HOME"')),
        Rule((ANY, ANY, ANY, ANY, T), ('"CLOSE"', '"NONE"'), "documented exception"),
        Rule(('"CONDITIONALLY_SAFE"', ANY, ANY, ANY, ANY), ('"OPEN"', '"IN_HOME"')),
        Rule(('"SAFE"', '"LOW"', ANY, ANY, ANY), ('"CLOSE"', '"NONE"')),
        Rule(('"SAFE"', '"MODERATE"', '"SUBSTANTIATED"', ANY, ANY), ('"SUPERVISOR_DECIDES"', '"IN_HOME"')),
        Rule(('"SAFE"', '"MODERATE"', '"UNSUBSTANTIATED"', ANY, ANY), ('"CLOSE"', '"NONE"')),
        Rule(('"SAFE"', '"MODERATE"', '"FAMILY_ASSESSMENT"', ANY, ANY), ('"SUPERVISOR_DECIDES"', '"IN_HOME"')),
        Rule(('"SAFE"', high, '"SUBSTANTIATED"', ANY, ANY), ('"OPEN"', '"IN_HOME"')),
        Rule(('"SAFE"', high, '? in ("UNSUBSTANTIATED", "FAMILY_ASSESSMENT")', ANY, ANY),
             ('"SUPERVISOR_DECIDES"', '"IN_HOME"'), "open, or close with a referral"),
    ]  # fmt: skip
    return table("case_action", "D5 Case-opening decision", "FIRST", inputs, outputs, rules)


def disposition() -> str:
    """D6. Overall investigation disposition (TX) — hit policy FIRST."""
    inputs = [
        Input("Any Reason to Believe", "any_rtb", "boolean"),
        Input("Any Unable to Determine", "any_utd", "boolean"),
        Input("Any Unable to Complete", "any_utc", "boolean"),
        Input("All Ruled Out or Administrative", "all_ro_or_admin", "boolean"),
        Input("Any Ruled Out", "any_ro", "boolean"),
        Input("All Administrative", "all_admin", "boolean"),
    ]
    outputs = [Output("overall_disposition", "Overall disposition")]
    rules = [
        Rule((T, ANY, ANY, ANY, ANY, ANY), ('"RTB"',)),
        Rule((ANY, T, ANY, ANY, ANY, ANY), ('"UTD"',)),
        Rule((ANY, ANY, T, ANY, ANY, ANY), ('"UTC"',)),
        Rule((ANY, ANY, ANY, T, T, ANY), ('"RO"',)),
        Rule((ANY, ANY, ANY, ANY, ANY, T), ('"ADMIN_CLOSURE"',)),
    ]
    return table("disposition", "D6 Overall disposition", "FIRST", inputs, outputs, rules)


def tpr() -> str:
    """D7. TPR petition requirement (ASFA) — hit policy FIRST."""
    inputs = [
        Input("Placed with a relative", "placed_with_relative", "boolean"),
        Input("Reunification services not provided", "services_not_provided", "boolean"),
        Input("Compelling reason documented", "compelling_reason_documented", "boolean"),
        Input(
            "Abandoned-infant or aggravated-felony finding",
            "abandoned_or_felony_finding",
            "boolean",
        ),
        Input("Months in care of the last 22", "months_in_care_last_22", "number"),
    ]
    outputs = [Output("tpr_requirement", "Requirement"), Output("tpr_reason", "Reason")]
    exception = '"EXCEPTION_DOCUMENTED"'
    rules = [
        Rule((T, ANY, ANY, ANY, ANY), (exception, '"placed with a relative"')),
        Rule((ANY, T, ANY, ANY, ANY), (exception, '"services not provided"')),
        Rule((ANY, ANY, T, ANY, ANY), (exception, '"compelling reason"')),
        Rule((ANY, ANY, ANY, T, ANY), ('"FILE_TPR"', '"abandoned infant or aggravated felony (60 days)"')),
        Rule((ANY, ANY, ANY, ANY, "? >= 15"), ('"FILE_TPR"', '"15 of the last 22 months in care"')),
        Rule((ANY, ANY, ANY, ANY, ANY), ('"NOT_REQUIRED"', '""')),
    ]  # fmt: skip
    return table("tpr", "D7 TPR petition requirement", "FIRST", inputs, outputs, rules)


def reunification() -> str:
    """D8. Reunification recommendation [SIMPLIFIED] — hit policy FIRST."""
    inputs = [
        Input("Reunification risk", "reunification_risk"),
        Input("Visitation quality", "visitation_quality"),
        Input("Safety if returned", "safety_if_returned"),
        Input("Reunification time remaining", "reunification_time_remaining", "boolean"),
    ]
    outputs = [Output("reunification_recommendation", "Recommendation")]
    rules = [
        Rule(('? in ("LOW", "MODERATE")', '? in ("STRONG", "ACCEPTABLE")',
              '? in ("SAFE", "CONDITIONALLY_SAFE")', ANY), ('"RETURN_HOME"',), "monitored return"),
        Rule((ANY, ANY, '"UNSAFE"', T), ('"CONTINUE_REUNIFICATION"',)),
        Rule(('? in ("HIGH", "VERY_HIGH")', ANY, ANY, T), ('"CONTINUE_REUNIFICATION"',)),
        Rule((ANY, '"LIMITED"', ANY, T), ('"CONTINUE_REUNIFICATION"',)),
        Rule((ANY, ANY, ANY, F), ('"CHANGE_GOAL"',), "the concurrent plan becomes primary"),
    ]  # fmt: skip
    return table(
        "reunification", "D8 Reunification recommendation", "FIRST", inputs, outputs, rules
    )


ALL = {
    "screening": screening,
    "pathway": pathway,
    "priority": priority,
    "safety": safety,
    "risk": risk,
    "case_action": case_action,
    "disposition": disposition,
    "tpr": tpr,
    "reunification": reunification,
}
