"""Outbound webhooks against real local receivers: signed events that verify with the
receiver-side library, in order, none lost through outages, hangs, worker deaths and 410s."""

from __future__ import annotations

import multiprocessing
import random
import signal
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from standardwebhooks import Webhook

from child_processes import deliver_in_child
from engine.storage.tables import OutboxEvent, WebhookDelivery
from http_support import RECORD_REPORT, Agency, hotline_report
from webhook_receiver import Receiver
from webhooks.delivery import DeliveryPolicy, deliver_due

POLICY = DeliveryPolicy(timeout_seconds=2.0, threads=4)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def subscribe(agency: Agency, url: str, topics: list[str]) -> tuple[str, str]:
    made = agency.post("alex", "/api/v1/webhooks/subscriptions", {"url": url, "topics": topics})
    assert made.status_code == 201, made.json
    return made.json["subscription"]["id"], made.json["secret"]


def deliver(agency: Agency, policy: DeliveryPolicy = POLICY) -> Any:
    return deliver_due(agency.ctx, worker="test-worker", policy=policy, rng=random.Random(7))


def file_report(agency: Agency) -> str:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report())
    assert filed.status_code == 201, filed.json
    return str(filed.json["id"])


def outbox_ids(agency: Agency, *topics: str) -> list[str]:
    """The events queued for subscribers, in the order they were queued."""
    with agency.ctx.db.reader() as session:
        query = (
            select(OutboxEvent.id)
            .join(WebhookDelivery, WebhookDelivery.event_id == OutboxEvent.id)
            .where(WebhookDelivery.status.in_(["pending", "delivered", "dead"]))
            .order_by(WebhookDelivery.seq)
        )
        if topics:
            query = query.where(OutboxEvent.topic.in_(topics))
        return [str(i) for i in session.scalars(query)]


def all_events(agency: Agency) -> int:
    with agency.ctx.db.reader() as session:
        return session.scalar(select(func.count()).select_from(OutboxEvent)) or 0


def test_events_are_signed_documented_and_redacted(agency: Agency, receiver: Receiver) -> None:
    _, secret = subscribe(agency, receiver.url, ["case.*", "task.*", "decision.made"])
    case_id = file_report(agency)
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    agency.post("sam", f"/api/v1/tasks/{task['id']}/complete", RECORD_REPORT)

    report = deliver(agency)

    topics = [e["type"] for e in receiver.events()]
    assert topics[:2] == ["case.opened", "task.created"]
    assert {"task.completed", "decision.made", "case.assigned", "case.screened"} <= set(topics)
    assert report.delivered == len(receiver.received)
    webhook = Webhook(secret)
    documents = agency.client.get("/api/openapi.json").json["webhooks"]
    for got in receiver.received:
        assert webhook.verify(got.body, got.headers) == got.event  # the receiver's own library
        schema = documents[got.event["type"]]["post"]["requestBody"]["content"]
        Draft202012Validator(schema["application/json"]["schema"]).validate(got.event)
        assert "Rita" not in got.body and "bruises" not in got.body  # no reporter, no narrative
    screened = next(e for e in receiver.events() if e["type"] == "case.screened")
    assert screened["data"] == {
        "case_id": case_id,
        "case_number": screened["data"]["case_number"],
        "decision": "screened_in",
    }


def test_an_outage_loses_nothing_and_keeps_the_order(agency: Agency, receiver: Receiver) -> None:
    subscribe(agency, receiver.url, ["*"])
    receiver.stop()  # the receiver is down: connections are refused
    for _ in range(3):
        file_report(agency)

    for _ in range(4):  # an afternoon of retries, all refused
        down = deliver(agency)
        assert down.delivered == 0 and down.retrying == 1  # only the queue's head is tried
        agency.ctx.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    receiver.start()  # back, on the same port
    agency.ctx.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    back = deliver(agency)

    assert back.delivered == len(outbox_ids(agency)) == 6  # 3 x (case opened, task created)
    assert [e["id"] for e in receiver.events()] == outbox_ids(agency)  # each once, in order
    with agency.ctx.db.reader() as session:
        head = session.scalar(select(WebhookDelivery).order_by(WebhookDelivery.seq).limit(1))
        assert head is not None and head.attempts == 5 and head.status == "delivered"


def test_a_hanging_receiver_holds_up_only_its_own_queue(agency: Agency, receiver: Receiver) -> None:
    stuck = Receiver(hold=True).start()
    try:
        subscribe(agency, stuck.url, ["case.opened"])
        subscribe(agency, receiver.url, ["case.opened"])
        for _ in range(3):
            file_report(agency)

        report = deliver(agency, DeliveryPolicy(timeout_seconds=0.5, threads=4))

        assert len(receiver.received) == 3
        assert len(stuck.received) == 1  # its head timed out; the rest wait behind it
        assert report.delivered == 3 and report.retrying == 1
        with agency.ctx.db.reader() as session:
            errors = session.scalars(
                select(WebhookDelivery.last_error)
                .where(WebhookDelivery.status == "pending")
                .order_by(WebhookDelivery.seq)
            ).all()
        assert errors == ["no answer within 0.5 s", None, None]
    finally:
        stuck.stop()


def test_a_worker_killed_mid_delivery_is_followed_by_another(
    agency: Agency, database_url: str
) -> None:
    stuck = Receiver(hold=True).start()
    try:
        subscribe(agency, stuck.url, ["case.opened"])
        file_report(agency)
        spawn = multiprocessing.get_context("spawn")
        child = spawn.Process(
            target=deliver_in_child, args=(database_url, agency.ctx.clock.now(), "doomed")
        )
        child.start()
        assert stuck.arrived.wait(timeout=60), "the doomed worker never posted"
        assert child.pid is not None
        child.kill()  # SIGKILL: no chance to record anything
        child.join(timeout=30)
        assert child.exitcode == -signal.SIGKILL
        stuck.hold = False
        stuck.release.set()

        too_soon = deliver(agency)
        agency.ctx.clock.advance(POLICY.lease + timedelta(seconds=1))  # type: ignore[attr-defined]
        after_lease = deliver(agency)

        assert too_soon.delivered == 0  # the dead worker's lease still holds
        assert after_lease.delivered == 1
        first, second = stuck.received
        assert first.webhook_id == second.webhook_id  # at least once, under one id
    finally:
        stuck.stop()


def test_a_receiver_answering_410_switches_its_subscription_off(
    agency: Agency, receiver: Receiver
) -> None:
    subscription_id, _ = subscribe(agency, receiver.url, ["case.opened"])
    receiver.status = 410
    file_report(agency)

    report = deliver(agency)
    file_report(agency)

    assert report.disabled == [subscription_id]
    shown = agency.get("alex", f"/api/v1/webhooks/subscriptions/{subscription_id}").json
    assert shown["active"] is False and "410" in shown["disabled_reason"]
    assert shown["pending"] == 1  # the refused one waits; nothing new is queued
    assert deliver(agency).delivered == 0


def test_dead_deliveries_can_be_replayed_in_order(agency: Agency, receiver: Receiver) -> None:
    subscription_id, _ = subscribe(agency, receiver.url, ["case.opened"])
    receiver.status = 500
    file_report(agency)
    file_report(agency)
    for _ in range(2 * POLICY.max_attempts):  # the second waits behind the first, then dies
        deliver(agency)
        agency.ctx.clock.advance(timedelta(hours=12))  # type: ignore[attr-defined]
    with agency.ctx.db.reader() as session:
        statuses = session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.seq))
        assert list(statuses) == ["dead", "dead"]
    log = agency.get("alex", f"/api/v1/webhooks/subscriptions/{subscription_id}/deliveries").json
    assert log["items"][-1]["attempts"][0]["status_code"] == 500
    assert len(log["items"][-1]["attempts"]) == POLICY.max_attempts

    receiver.status = 204
    receiver.received.clear()
    replayed = agency.post("alex", f"/api/v1/webhooks/subscriptions/{subscription_id}/replay-dead")
    report = deliver(agency)

    assert replayed.json == {"replayed": 2}
    assert report.delivered == 2
    assert [e["id"] for e in receiver.events()] == outbox_ids(agency, "case.opened")


def test_after_a_rotation_both_secrets_sign_until_the_grace_ends(
    agency: Agency, receiver: Receiver
) -> None:
    subscription_id, old = subscribe(agency, receiver.url, ["case.opened"])
    rotated = agency.post(
        "alex",
        f"/api/v1/webhooks/subscriptions/{subscription_id}/rotate-secret",
        {"grace_hours": 1},
    )
    new = rotated.json["secret"]
    file_report(agency)
    deliver(agency)
    agency.ctx.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    file_report(agency)
    deliver(agency)

    during, after = receiver.received
    for secret in (old, new):
        Webhook(secret).verify(during.body, during.headers)
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(old).verify(after.body, after.headers)


def test_a_refused_change_publishes_nothing(agency: Agency) -> None:
    before = all_events(agency)
    refused = agency.post("sam", "/api/v1/intakes", hotline_report(allegations=[
        {"victim": 5, "type": "PHAB"}]))  # fmt: skip

    assert refused.status_code == 422
    assert all_events(agency) == before


def test_only_administrators_manage_subscriptions(agency: Agency, receiver: Receiver) -> None:
    body = {"url": receiver.url, "topics": ["case.*"]}
    for user in ("sam", "sue", "dana", "olga"):
        assert agency.post(user, "/api/v1/webhooks/subscriptions", body).status_code == 403
        assert agency.get(user, "/api/v1/webhooks/subscriptions").status_code == 403
    bad = agency.post("alex", "/api/v1/webhooks/subscriptions",
                      {"url": "ftp://x", "topics": ["nothing.*"]})  # fmt: skip
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} == {"/url", "/topics/0"}
    listed = agency.get("alex", "/api/v1/webhooks/subscriptions").json
    assert listed == [] and "secret" not in str(listed)
    with agency.ctx.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
