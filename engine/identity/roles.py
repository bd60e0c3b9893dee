"""The roles of DOMAIN §1, as users hold them and diagrams name them: a lane names the role
whose holders take its tasks, a message the roles that may send it by hand."""

from __future__ import annotations

ROLES = (
    "intake_screener",
    "intake_supervisor",
    "investigator",
    "ongoing_caseworker",
    "supervisor",
    "program_director",
    "attorney",
    # Chairs conferences and reviews a case independently of its line management.
    "independent_reviewer",
    "process_designer",
    "administrator",
    "auditor",
)
INTAKE_ROLES = frozenset({"intake_screener", "intake_supervisor"})
WORKER_ROLES = frozenset({"investigator", "ongoing_caseworker", "attorney", "independent_reviewer"})
SUPERVISING_ROLES = frozenset({"supervisor", "intake_supervisor", "program_director"})
