"""An agency (teams, people, tokens) on the shipped process, for the HTTP tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from engine.context import Actor, EngineContext

SETUP = Actor("setup", "administrator")
PEOPLE = [
    # id, roles, team, unit, security group
    ("sam", ["intake_screener"], "north", None, False),
    ("sid", ["intake_screener"], "north", None, False),
    ("sue", ["supervisor", "intake_supervisor"], "north", None, False),
    ("ivy", ["investigator"], "north", None, False),
    ("ian", ["investigator"], "north", None, False),
    ("cal", ["ongoing_caseworker"], "north", None, False),
    ("amy", ["attorney"], "north", None, False),
    ("zed", ["investigator"], "south", None, False),
    ("sol", ["supervisor"], "south", None, False),
    ("pat", ["program_director"], None, "region-1", False),
    ("sec", ["investigator"], "south", None, True),
    ("dana", ["process_designer"], None, None, False),
    ("alex", ["administrator"], None, None, False),
    ("olga", ["auditor"], None, None, False),
]


def password_of(user: str) -> str:
    """The web password the browser tests give each person."""
    return f"{user}-correct-horse"


@dataclass
class Agency:
    ctx: EngineContext
    app: Flask
    client: FlaskClient
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str | None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return headers

    def get(self, user: str | None, path: str, **kwargs: Any) -> Any:
        headers = self.headers(user, **kwargs.pop("headers", {}))
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, user: str | None, path: str, json: Any = None, **kwargs: Any) -> Any:
        headers = self.headers(user, **kwargs.pop("headers", {}))
        return self.client.post(path, json=json, headers=headers, **kwargs)

    def put(self, user: str | None, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.put(
            path, json=json, headers=self.headers(user, **kwargs.pop("headers", {})), **kwargs
        )


def hotline_report(**extra: Any) -> dict[str, Any]:
    return {
        "team": "north",
        "summary": "bruises on a toddler's face",
        "reporter": {"name": "Rita Reporter", "contact": "555-0100", "relationship": "neighbour"},
        "children": [{"name": "Lia", "birth_date": "2022-01-05"}],
        "caregivers": [{"name": "Maria"}],
        "alleged_perpetrators": [{"name": "Rob", "relationship": "mother's boyfriend"}],
        "allegations": [{"victim": 0, "perpetrator": 0, "type": "PHAB", "narrative": "bruises"}],
        **extra,
    }


RECORD_REPORT = {
    "received_at": "2025-03-03T15:15:00+00:00",
    "channel": "phone",
    "narrative": "bruises on the face",
    "screening": {"jurisdiction": "THIS"},
    "indicators": {"physical_abuse": True, "ap_access_24h": True},
    "reporter": {"name": "Rita Reporter", "anonymous": False},
}


def screened_case(site: Any) -> str:
    """A report filed and screened in through the engine's use cases: its case now waits for
    an investigator's first contact. Returns the case number."""
    from engine.cases import casefile
    from engine.identity.users import load_principal
    from engine.tasks import completion, worklists

    ctx = site.ctx
    sam = load_principal(ctx, "sam")
    assert sam is not None
    opened = casefile.file_intake(ctx, sam, hotline_report())
    [task] = worklists.worklist(ctx, sam, worklists.Worklist(view="queue", case_id=opened.id))[0]
    completion.complete(ctx, sam, uuid.UUID(task["id"]), RECORD_REPORT)
    return opened.case_number


def screened_by_api(agency: Agency) -> tuple[str, dict[str, Any]]:
    """``screened_case`` through the API: the case's id and its first contact, as the
    supervisor's list of the case's tasks shows it (with its assignee)."""
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    case_id = filed.json["id"]
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    assert (
        agency.post("sam", f"/api/v1/tasks/{task['id']}/complete", RECORD_REPORT).status_code == 200
    )
    [contact] = [
        t
        for t in agency.get("sue", f"/api/v1/cases/{case_id}/tasks").json
        if t["element_id"] == "first_contact"
    ]
    return case_id, contact


def signed_headers(secret: str, webhook_id: str, at: Any, body: str) -> dict[str, str]:
    """The Standard Webhooks headers another system sends with ``body``."""
    from standardwebhooks import Webhook

    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "content-type": "application/json",
    }
