"""A partner agency answers on a referral made to it with a signed event (Standard Webhooks):
the referral moves forward and says who answered; a status that goes back is refused and
changes nothing; an agency cannot answer for another's referral; a repeated event changes
nothing more. A provider's own subscription hears the referrals made to it, cut to what it
needs (never the reporter, never an allegation), and nobody else hears them."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from standardwebhooks import Webhook

from engine.events.topics import TOPICS
from http_support import Agency, screened_by_api, signed_headers
from webhook_receiver import Receiver
from webhooks.delivery import DeliveryPolicy, deliver_due

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


def test_a_provider_hears_its_own_referrals_cut_to_what_it_needs_and_answers_them(
    agency: Agency,
) -> None:
    hope_inbound = provider_with_a_source(agency, "hope-house", "Hope House", ["parenting"])
    provider_with_a_source(agency, "safe-roof", "Safe Roof", ["housing", "parenting"])
    hope, roof, ours = Receiver().start(), Receiver().start(), Receiver().start()
    try:
        hope_secret = subscribe(agency, hope.url, ["referral.*"], "hope-house")
        subscribe(agency, roof.url, ["*"], "safe-roof")
        subscribe(agency, ours.url, ["*"])
        case_id, contact = screened_by_api(agency)
        worker = contact["assignee"]
        people = agency.get("sue", f"/api/v1/cases/{case_id}/people").json
        mother = next(p for p in people if p["role"] == "caregiver")
        made = agency.post(worker, f"/api/v1/cases/{case_id}/referrals", {
            "person_id": mother["id"], "service": "parenting", "provider_id": "hope-house",
            "reason": "Rita Reporter saw her shouting; parenting support after the report",
        })  # fmt: skip
        assert made.status_code == 201, made.json
        deliver_due(agency.ctx, worker="test", policy=DeliveryPolicy(timeout_seconds=2.0))

        # Hope House hears the referral, signed with its own secret, and nothing else.
        [offered] = hope.received
        Webhook(hope_secret).verify(offered.body, offered.headers)
        event = offered.event
        assert event["type"] == "referral.offered"
        data = event["data"]
        assert (
            data["referral_id"] == made.json["id"] and data["service_title"] == "Parenting classes"
        )
        assert data["person"]["name"] == mother["name"] and data["person"]["role"] == "caregiver"
        assert "saw her shouting" in data["reason"]
        assert "Rita" not in offered.body and "Reporter" not in offered.body
        assert "bruises" not in offered.body and "allegation" not in offered.body
        Draft202012Validator(TOPICS["referral.offered"]).validate(data)
        # Safe Roof, subscribed to everything, hears nothing of another's referral; the
        # agency's own receiver hears that a referral was sent, by ids only, never the offer.
        assert roof.received == []
        heard = [e["type"] for e in ours.events()]
        assert "referral.sent" in heard and "referral.offered" not in heard
        assert all("Rita" not in r.body and mother["name"] not in r.body for r in ours.received)

        # The provider's system answers from what it heard: completed, by a signed event.
        said = {"case_number": data["case_number"], "referral_id": data["referral_id"]}
        done = answer(agency, "hope-house", hope_inbound, {**said, "status": "completed",
                      "note": "finished the twelve sessions"}, "hope-done")  # fmt: skip
        assert done.status_code == 200, done.json
        [now] = agency.get(worker, f"/api/v1/cases/{case_id}/referrals").json
        assert now["status"] == "completed"
    finally:
        for receiver in (hope, roof, ours):
            receiver.stop()


def test_a_providers_subscription_hears_only_provider_topics_and_the_agencys_none(
    agency: Agency,
) -> None:
    provider_with_a_source(agency, "hope-house", "Hope House", ["parenting"])
    url = "https://hope.example/hook"
    wrong = [
        ({"url": url, "topics": ["case.*"], "provider_id": "hope-house"}, "/topics/0"),
        ({"url": url, "topics": ["referral.offered"]}, "/topics/0"),
        ({"url": url, "topics": ["*"], "provider_id": "nobody"}, "/provider_id"),
    ]
    for body, field in wrong:
        refused = agency.post("alex", "/api/v1/webhooks/subscriptions", body)
        assert refused.status_code == 422, body
        assert [e["field"] for e in refused.json["errors"]] == [field], refused.json
    made = agency.post("alex", "/api/v1/webhooks/subscriptions",
                       {"url": url, "topics": ["*"], "provider_id": "hope-house"})  # fmt: skip
    assert made.status_code == 201 and made.json["subscription"]["provider_id"] == "hope-house"
    listed = agency.get("alex", "/api/v1/webhooks/subscriptions").json
    assert [s["provider_id"] for s in listed] == ["hope-house"]


def subscribe(agency: Agency, url: str, topics: list[str], provider: str | None = None) -> str:
    body: dict[str, Any] = {"url": url, "topics": topics}
    if provider:
        body["provider_id"] = provider
    made = agency.post("alex", "/api/v1/webhooks/subscriptions", body)
    assert made.status_code == 201, made.json
    return str(made.json["secret"])
