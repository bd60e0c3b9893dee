"""Inbound webhooks: a court system advances a case with one signed POST; bad signatures,
stale timestamps, replays, unknown cases and malformed bodies are refused and change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cps_cases import CpsCase, removed
from engine.storage.tables import AuditEvent, InboundEvent, ProcessInstance
from http_support import Agency, signed_headers

COURT_ROUTES = {"court.tmc_order": {"message": "court_tmc_order"}}
POSSESSION = datetime(2025, 3, 8, 0, 0, tzinfo=UTC)  # Fri 18:00 in Texas


@pytest.fixture
def court(agency: Agency) -> str:
    made = agency.post("alex", "/api/v1/inbound-sources", {"id": "court", "routes": COURT_ROUTES})
    assert made.status_code == 201, made.json
    return str(made.json["secret"])


@pytest.fixture
def removal(agency: Agency) -> CpsCase:
    case = removed(agency.ctx, POSSESSION, [("Lia", "2022-01-05")])
    case.at(datetime(2025, 3, 10, 15, 0, tzinfo=UTC))
    assert case.task("obtain_tmc_order")
    return case


def order(case_number: str, **data: Any) -> dict[str, Any]:
    return {
        "type": "court.tmc_order",
        "timestamp": "2025-03-10T15:00:00Z",
        "data": {"case_number": case_number, "order_date": "2025-03-10", **data},
    }


def send(
    agency: Agency,
    secret: str,
    event: Any,
    webhook_id: str = "msg_court_1",
    at: datetime | None = None,
    source: str = "court",
) -> Any:
    body = event if isinstance(event, str) else json.dumps(event)
    headers = signed_headers(secret, webhook_id, at or agency.ctx.clock.now(), body)
    return agency.client.post(f"/api/v1/inbound/{source}", data=body, headers=headers)


def deliveries_of_messages(agency: Agency) -> int:
    with agency.ctx.db.reader() as session:
        return (
            session.scalar(select(func.count()).where(AuditEvent.action == "message.delivered"))
            or 0
        )


def test_a_court_order_advances_the_case_once(agency: Agency, court: str, removal: CpsCase) -> None:
    answer = send(agency, court, order(removal.number, contrary_to_welfare=True))

    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "applied" and answer.json["message"] == "court_tmc_order"
    assert removal.tasks("obtain_tmc_order") == []  # the court's order took the attorney's place
    due = {t.bpmn_id: t.due_at for t in removal.tasks()}
    assert due["file_service_plan"] == datetime(2025, 4, 25, 4, 59, 59, tzinfo=UTC)  # TMC + 45
    assert due["status_hearing"] == datetime(2025, 5, 10, 4, 59, 59, tzinfo=UTC)  # TMC + 60
    delivered = deliveries_of_messages(agency)

    again = send(agency, court, order(removal.number, contrary_to_welfare=True))

    assert again.status_code == 200 and again.json == answer.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert deliveries_of_messages(agency) == delivered


def test_a_second_order_finds_nothing_waiting_and_is_kept(
    agency: Agency, court: str, removal: CpsCase
) -> None:
    send(agency, court, order(removal.number))
    instances_before = instance_versions(agency)

    late = send(agency, court, order(removal.number), webhook_id="msg_court_2")

    assert late.status_code == 409
    assert late.content_type == "application/problem+json"
    assert instance_versions(agency) == instances_before
    kept = agency.get("alex", "/api/v1/inbound-sources/court/events?status=refused").json
    assert [(e["webhook_id"], e["response_status"]) for e in kept] == [("msg_court_2", 409)]


def instance_versions(agency: Agency) -> dict[str, int]:
    with agency.ctx.db.reader() as session:
        return {str(i.id): i.lock_version for i in session.scalars(select(ProcessInstance))}


def test_an_unknown_case_is_refused_then_applied_once_it_exists(
    agency: Agency, court: str, removal: CpsCase
) -> None:
    wrong = send(agency, court, order("NO-SUCH-CASE"), webhook_id="msg_court_9")
    assert wrong.status_code == 404 and wrong.json["code"] == "unknown_case"

    # The court corrects the number and sends again under the same id: a refusal is not final.
    fixed = send(agency, court, order(removal.number), webhook_id="msg_court_9")

    assert fixed.status_code == 200
    with agency.ctx.db.reader() as session:
        record = session.get(InboundEvent, ("court", "msg_court_9"))
        assert record is not None and record.attempts == 2 and record.status == "applied"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("signature", "no signature matches"),
        ("stale", "more than 300 s"),
        ("future", "more than 300 s"),
        ("missing", "are required"),
    ],
)
def test_untrusted_requests_are_refused_and_not_kept(
    agency: Agency, court: str, removal: CpsCase, tamper: str, reason: str
) -> None:
    now = agency.ctx.clock.now()
    if tamper == "signature":
        answer = send(agency, "whsec_" + "A" * 44, order(removal.number))
    elif tamper == "stale":  # a captured request played back ten minutes later
        answer = send(agency, court, order(removal.number), at=now - timedelta(minutes=10))
    elif tamper == "future":
        answer = send(agency, court, order(removal.number), at=now + timedelta(minutes=10))
    else:
        answer = agency.client.post("/api/v1/inbound/court", json=order(removal.number))

    assert answer.status_code == 401
    assert reason in answer.json["detail"]
    assert removal.task("obtain_tmc_order")
    with agency.ctx.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "malformed_event"),
        (json.dumps({"data": {}}), "malformed_event"),
        (json.dumps({"type": "court.hearing_set", "data": {}}), "unrouted_event"),
        (json.dumps({"type": "court.tmc_order", "data": {}}), "malformed_event"),
    ],
)
def test_malformed_events_are_refused_whole_and_kept(
    agency: Agency, court: str, removal: CpsCase, body: str, code: str
) -> None:
    answer = send(agency, court, body)

    assert answer.status_code == 422 and answer.json["code"] == code
    assert removal.task("obtain_tmc_order")
    kept = agency.get("alex", "/api/v1/inbound-sources/court/events").json
    assert [e["body"] for e in kept] == [body]


def test_an_order_the_process_cannot_use_changes_nothing(
    agency: Agency, court: str, removal: CpsCase
) -> None:
    before = instance_versions(agency)
    # Signed and routed, but without the order date the court-dates script needs.
    event = order(removal.number)
    del event["data"]["order_date"]

    answer = send(agency, court, event)

    assert answer.status_code == 422, answer.json
    assert instance_versions(agency) == before
    assert removal.task("obtain_tmc_order")


def test_unknown_sources_and_rotated_secrets(agency: Agency, court: str, removal: CpsCase) -> None:
    assert send(agency, court, order(removal.number), source="police").status_code == 404
    rotated = agency.client.patch(
        "/api/v1/inbound-sources/court",
        json={"rotate_secret": True, "grace_hours": 1},
        headers=agency.headers("alex"),
    )
    new = rotated.json["secret"]
    assert send(agency, court, order(removal.number), webhook_id="old").status_code == 200
    agency.ctx.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    assert send(agency, court, order(removal.number), webhook_id="late").status_code == 401
    assert send(agency, new, order(removal.number), webhook_id="new").status_code == 409
    for user in ("sam", "sue", "dana", "olga"):
        assert agency.get(user, "/api/v1/inbound-sources").status_code == 403


def test_the_attorneys_court_task_is_in_their_teams_queue(agency: Agency, removal: CpsCase) -> None:
    # Nobody owns the attorney lane of a case: the team's attorney finds the task in her queue
    # and may read the case to take it; a worker of another team may not.
    queue = agency.get("amy", "/api/v1/tasks?view=queue").json["items"]
    assert "obtain_tmc_order" in [t["element_id"] for t in queue]
    assert agency.get("amy", f"/api/v1/cases/{removal.id}").status_code == 200
    assert agency.get("zed", f"/api/v1/cases/{removal.id}").status_code == 404
    [task] = [t for t in queue if t["element_id"] == "obtain_tmc_order"]
    claimed = agency.post("amy", f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == "amy"
