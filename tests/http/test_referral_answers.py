"""A partner agency answers on a referral made to it with a signed event (Standard Webhooks):
the referral moves forward and says who answered; a status that goes back is refused and
changes nothing; an agency cannot answer for another's referral; a repeated event changes
nothing more."""

from __future__ import annotations

import json
from typing import Any

from http_support import Agency, screened_by_api, signed_headers

ROUTES = {"referral.status": {"message": "casework.referral_status"}}


def provider_with_a_source(agency: Agency, pid: str, name: str, services: list[str]) -> str:
    made = agency.post("alex", "/api/v1/providers", {"id": pid, "name": name, "services": services})
    assert made.status_code == 200, made.json
    source = agency.post("alex", "/api/v1/inbound-sources", {"id": pid, "routes": ROUTES})
    assert source.status_code == 201, source.json
    return str(source.json["secret"])


def answer(agency: Agency, pid: str, secret: str, data: dict[str, Any], webhook_id: str) -> Any:
    body = json.dumps({"type": "referral.status", "data": data})
    headers = signed_headers(secret, webhook_id, agency.ctx.clock.now(), body)
    return agency.client.post(f"/api/v1/inbound/{pid}", data=body, headers=headers)


def test_a_provider_answers_on_its_own_referral_forward_only(agency: Agency) -> None:
    hope = provider_with_a_source(agency, "hope-house", "Hope House", ["parenting"])
    roof = provider_with_a_source(agency, "safe-roof", "Safe Roof", ["housing"])
    case_id, contact = screened_by_api(agency)
    worker = contact["assignee"]
    people = agency.get("sue", f"/api/v1/cases/{case_id}/people").json
    mother = next(p["id"] for p in people if p["role"] == "caregiver")
    number = agency.get("sue", f"/api/v1/cases/{case_id}").json["case_number"]
    made = agency.post(worker, f"/api/v1/cases/{case_id}/referrals", {
        "person_id": mother, "service": "parenting", "provider_id": "hope-house",
        "reason": "parenting support after the report",
    })  # fmt: skip
    assert made.status_code == 201, made.json
    referral = made.json["id"]
    said = {"case_number": number, "referral_id": referral}

    accepted = answer(agency, "hope-house", hope, {**said, "status": "accepted",
                      "note": "first session on Monday"}, "hope-1")  # fmt: skip
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["referral_status"] == "accepted"
    again = answer(agency, "hope-house", hope, {**said, "status": "accepted",
                   "note": "first session on Monday"}, "hope-1")  # fmt: skip
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"

    back = answer(agency, "hope-house", hope, {**said, "status": "sent"}, "hope-2")
    assert back.status_code == 409
    other = answer(agency, "safe-roof", roof, {**said, "status": "completed"}, "roof-1")
    assert other.status_code == 404

    [now] = agency.get(worker, f"/api/v1/cases/{case_id}/referrals").json
    assert now["status"] == "accepted"
    assert [(h["status"], h["by"]) for h in now["history"]] == [
        ("sent", worker),
        ("accepted", "inbound:hope-house"),
    ]
    assert now["history"][-1]["note"] == "first session on Monday"
