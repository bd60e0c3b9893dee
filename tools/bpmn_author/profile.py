"""The us-tx jurisdiction profile: time zone, holidays, and the deadlines of DOMAIN §3 with their
escalation ladders."""

from __future__ import annotations

from typing import Any


def ladder(
    *steps: tuple[str, str, list[str]],
    reminders: list[float] | None = None,
    reminders_from: str = "PT24H",
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "steps": [{"kind": kind, "after": after, "to": to} for kind, after, to in steps]
    }
    if reminders:
        result.update(
            {"reminders": reminders, "reminders_from": reminders_from, "reminder_to": ["assignee"]}
        )
    return result


def deadline(timer: str, ladder_name: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"timer": timer, "ladder": ladder_name, "title": title, **extra}


US_TX: dict[str, Any] = {
    "id": "us-tx",
    "name": "Texas (DFPS) with the US federal baseline",
    "time_zone": "America/Chicago",
    "holidays": {"country": "US", "subdivision": "TX", "not_observed": [], "extra_closures": []},
    "data": {
        "sdm_risk_bands": "[VERIFY] load the neglect and abuse score bands from the SDM manual in use",
        "response_hours": {"P1_IMMEDIATE": 0, "P1_24H": 24, "P2_72H": 72},
    },
    "ladders": {
        "standard": ladder(
            ("overdue", "PT0S", ["assignee", "supervisor"]),
            ("escalation", "P1D", ["program_director"]),
            reminders=[0.5, 0.75],
        ),
        "p1": ladder(
            ("overdue", "PT0S", ["assignee", "supervisor"]),
            ("escalation", "PT2H", ["program_director"]),
            reminders=[0.5, 0.75],
        ),
        "immediate": ladder(("overdue", "PT0S", ["assignee", "supervisor", "program_director"])),
        "investigation": ladder(
            ("reminder", "-P5D", ["assignee", "supervisor"]),
            ("overdue", "PT0S", ["assignee", "supervisor"]),
            ("escalation", "P5D", ["program_director"]),
        ),
        "safety_plan": ladder(
            ("reminder", "-P5D", ["assignee"]), ("overdue", "PT0S", ["assignee", "supervisor"])
        ),
        "relatives": ladder(
            ("reminder", "-P10D", ["assignee"]), ("overdue", "PT0S", ["supervisor"])
        ),
        "to_supervisor": ladder(("overdue", "PT0S", ["assignee", "supervisor"])),
        "court": ladder(("overdue", "PT0S", ["attorney", "supervisor"])),
        "court_report": ladder(
            ("reminder", "-P10D", ["assignee", "attorney"]),
            ("overdue", "PT0S", ["attorney", "supervisor"]),
        ),
        "permanency_report": ladder(
            ("reminder", "-P30D", ["assignee", "attorney"]),
            ("overdue", "PT0S", ["attorney", "supervisor"]),
        ),
        "dismissal": ladder(
            ("reminder", "-P90D", ["attorney"]),
            ("due", "-P60D", ["attorney"]),
            ("overdue", "PT0S", ["attorney", "supervisor", "program_director"]),
        ),
        "visit_month": ladder(("overdue", "PT0S", ["supervisor"])),
        "visit_reminder": ladder(("reminder", "PT0S", ["assignee"])),
    },
    "deadlines": {
        "T05": deadline(
            "first_contact_deadline",
            "immediate",
            "Initiate, priority 1 immediate",
            measure="initiation_timeliness",
            clock_start="received_at",
            when={"priority": "P1_IMMEDIATE"},
        ),
        "T06": deadline(
            "first_contact_deadline",
            "p1",
            "First face-to-face contact, priority 1",
            measure="initiation_timeliness",
            clock_start="received_at",
            when={"priority": "P1_24H"},
        ),
        "T07": deadline(
            "first_contact_deadline",
            "standard",
            "First face-to-face contact, priority 2",
            measure="initiation_timeliness",
            clock_start="received_at",
            when={"priority": "P2_72H"},
        ),
        "T10": deadline(
            "safety_assessment_deadline", "to_supervisor", "Safety assessment recorded"
        ),
        "T11": deadline("safety_plan_expiry", "safety_plan", "Safety plan expiry"),
        "T13": deadline("investigation_deadline", "investigation", "Investigation completion"),
        "T17": deadline("ten_day_deadline", "to_supervisor", "FBSS ten-day contacts"),
        "T18": deadline("ex_parte_deadline", "court", "Ex parte hearing after emergency removal"),
        "T19": deadline("adversary_deadline", "court", "Full adversary hearing"),
        "T20": deadline("medical_deadline", "to_supervisor", "Medical exam after removal"),
        "T21": deadline("relatives_deadline", "relatives", "Relative notification"),
        "T22": deadline("reasonable_efforts_deadline", "court", "Reasonable-efforts finding"),
        "T23": deadline("case_plan_deadline", "to_supervisor", "Case plan (federal)"),
        "T24": deadline("service_plan_deadline", "court", "Service plan filed"),
        "T25": deadline("services_deadline", "to_supervisor", "Initial services scheduled"),
        "T26": deadline("status_hearing_deadline", "court_report", "Status hearing"),
        "T27": deadline(
            "visit_month_end",
            "visit_month",
            "Monthly caseworker visit",
            measure="caseworker_visits",
        ),
        "T27-reminder": deadline(
            "visit_reminder", "visit_reminder", "Monthly visit not made by the 20th"
        ),
        "T28": deadline("review_deadline", "to_supervisor", "Periodic review"),
        "T29": deadline("federal_hearing_deadline", "court", "Permanency hearing (federal)"),
        "T31": deadline(
            "initial_hearing_deadline", "permanency_report", "Initial permanency hearing"
        ),
        "T36": deadline(
            "hearing_deadline",
            "permanency_report",
            "Permanency hearing after the final order",
            when={"hearing.final_order": True},
        ),
        "T31-subsequent": deadline(
            "hearing_deadline", "permanency_report", "Subsequent permanency hearing"
        ),
        "T32": deadline("reunification_deadline", "to_supervisor", "Reunification assessment"),
        "T33": deadline("dismissal_deadline", "dismissal", "Dismissal date"),
        "T34": deadline("tpr_deadline", "court", "TPR petition (15 of 22 months)"),
        "T39": deadline("transition_deadline", "to_supervisor", "90-day transition plan"),
        "T40": deadline("meeting_deadline", "to_supervisor", "Family closure meeting"),
    },
}
