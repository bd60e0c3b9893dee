"""Webhooks over HTTP: subscriptions and their delivery log (administrators), inbound sources,
and ``POST /api/v1/inbound/{source_id}``, where other systems send signed events."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, Response, g, request

from webhooks import inbound, subscriptions
from workflows.http.api import engine
from workflows.http.operations import (
    PAGE,
    Api,
    ok,
    page_args,
    paged,
    paged_schema,
    principal,
    query_param,
)
from workflows.http.schemas import BOOL, INSTANT, INT, NINSTANT, NSTR, STR, obj

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1")
api = Api(bp, "/api/v1")

TOPIC_LIST = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": {"type": "string", "minLength": 1, "maxLength": 64},
}
URL = {"type": "string", "minLength": 1, "maxLength": 2000}
DESCRIPTION = {"type": "string", "maxLength": 300}
SUBSCRIPTION = obj(
    ["id", "url", "topics", "active", "created_at"],
    id={"type": "string", "format": "uuid"},
    url=STR,
    topics={"type": "array", "items": STR},
    description=STR,
    active=BOOL,
    created_at=INSTANT,
    created_by=STR,
    disabled_at=NINSTANT,
    disabled_reason=NSTR,
    provider_id=NSTR,
    previous_secret_valid_until=NINSTANT,
    pending=INT,
    dead=INT,
)
WITH_SECRET = obj(
    ["subscription", "secret"],
    subscription=SUBSCRIPTION,
    secret={"type": "string", "description": "shown this once; whsec_ and base64"},
)
NEW_SUBSCRIPTION = {
    "type": "object",
    "required": ["url", "topics"],
    "additionalProperties": False,
    "properties": {
        "url": URL,
        "topics": TOPIC_LIST,
        "description": DESCRIPTION,
        "provider_id": {
            "type": "string",
            "maxLength": 100,
            "description": "a provider's own subscription: it hears the referrals made to that "
            "provider (referral.offered), and nothing else",
        },
    },
}
SUBSCRIPTION_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {"url": URL, "topics": TOPIC_LIST, "description": DESCRIPTION, "active": BOOL},
}
ROTATION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"grace_hours": {"type": "integer", "minimum": 0, "maximum": 168, "default": 24}},
}
ATTEMPT = obj(
    ["at", "latency_ms"],
    at=INSTANT,
    status_code={"type": ["integer", "null"]},
    latency_ms={"type": "number"},
    error=NSTR,
)
DELIVERY = obj(
    ["id", "message_id", "event_id", "status", "attempts"],
    id=INT,
    message_id=STR,
    event_id=STR,
    subscription_id=STR,
    status={"enum": ["pending", "delivered", "dead", "replayed"]},
    attempts={"type": "array", "items": ATTEMPT},
    created_at=INSTANT,
    next_attempt_at=NINSTANT,
    delivered_at=NINSTANT,
    last_status={"type": ["integer", "null"]},
    last_error=NSTR,
)
REPLAYED = obj(["replayed"], replayed=INT)
ROUTE = {
    "type": "object",
    "required": ["message"],
    "additionalProperties": False,
    "properties": {
        "message": {"type": "string", "minLength": 1, "maxLength": 200},
        "case_number": {"type": "string", "maxLength": 200, "description": "JSON pointer"},
        "payload": {"type": "string", "maxLength": 200, "description": "JSON pointer"},
    },
}
ROUTES = {"type": "object", "minProperties": 1, "maxProperties": 100, "additionalProperties": ROUTE}
SOURCE = obj(
    ["id", "routes", "active"],
    id=STR,
    description=STR,
    routes={"type": "object"},
    active=BOOL,
    created_at=INSTANT,
    previous_secret_valid_until=NINSTANT,
)
SOURCE_WITH_SECRET = obj(["source", "secret"], source=SOURCE, secret=STR)
NEW_SOURCE = {
    "type": "object",
    "required": ["id", "routes"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
        "routes": ROUTES,
        "description": DESCRIPTION,
    },
}
SOURCE_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "routes": ROUTES,
        "active": BOOL,
        "description": DESCRIPTION,
        "rotate_secret": BOOL,
        "grace_hours": {"type": "integer", "minimum": 0, "maximum": 168},
    },
}
SOURCE_CHANGED = obj(["source"], source=SOURCE, secret=NSTR)
RECEIVED = obj(
    ["webhook_id", "received_at", "status"],
    webhook_id=STR,
    received_at=INSTANT,
    event_type=NSTR,
    case_number=NSTR,
    status={"enum": ["applied", "refused"]},
    attempts=INT,
    response_status=INT,
    response={"type": "object"},
    body=STR,
)
INBOUND_APPLIED = obj(
    ["status", "webhook_id", "case_number", "message"],
    status={"const": "applied"},
    webhook_id=STR,
    event_type=STR,
    case_number=STR,
    message=STR,
    instance_id={"type": "string", "description": "the instance the message was delivered to"},
    referral_id={"type": "string", "description": "a provider's answer: the referral"},
    referral_status={"type": "string", "description": "a provider's answer: its status now"},
)
INBOUND_REQUEST = {
    "required": True,
    "description": "A Standard Webhooks request: webhook-id, webhook-timestamp and "
    "webhook-signature headers, and a JSON body with a string `type`.",
    "content": {"application/json": {"schema": {"type": "object", "required": ["type"]}}},
}


# -- subscriptions ---------------------------------------------------------------------------


@api.operation(
    "get",
    "/webhooks/subscriptions",
    summary="Webhook subscriptions",
    tag="webhooks",
    response={"type": "array", "items": SUBSCRIPTION},
    errors=(403,),
)
def list_subscriptions() -> Response:
    return ok(subscriptions.list_all(engine(), principal()))


@api.operation(
    "post",
    "/webhooks/subscriptions",
    summary="Subscribe a URL to event topics "
    "(wildcards allowed); the secret is in this answer only",
    tag="webhooks",
    body=NEW_SUBSCRIPTION,
    response=WITH_SECRET,
    status=201,
    errors=(403, 422),
)
def subscribe() -> Response:
    body = g.body
    view, secret = subscriptions.create(
        engine(),
        principal(),
        body["url"],
        body["topics"],
        body.get("description", ""),
        body.get("provider_id"),
    )
    return ok({"subscription": view, "secret": secret}, 201)


@api.operation(
    "get",
    "/webhooks/subscriptions/{subscription_id}",
    summary="A subscription with its pending and dead counts",
    tag="webhooks",
    response=SUBSCRIPTION,
    errors=(403, 404),
)
def subscription(subscription_id: uuid.UUID) -> Response:
    return ok(subscriptions.get(engine(), principal(), subscription_id))


@api.operation(
    "patch",
    "/webhooks/subscriptions/{subscription_id}",
    summary="Change a subscription, or switch it on or off",
    tag="webhooks",
    body=SUBSCRIPTION_CHANGE,
    response=SUBSCRIPTION,
    errors=(403, 404, 422),
)
def change_subscription(subscription_id: uuid.UUID) -> Response:
    body = g.body
    return ok(
        subscriptions.change(
            engine(),
            principal(),
            subscription_id,
            subscriptions.SubscriptionChange(
                url=body.get("url"),
                topics=body.get("topics"),
                description=body.get("description"),
                active=body.get("active"),
            ),
        )
    )


@api.operation(
    "post",
    "/webhooks/subscriptions/{subscription_id}/rotate-secret",
    summary="A new secret; the old one keeps signing for the grace period",
    tag="webhooks",
    body=ROTATION,
    response=WITH_SECRET,
    errors=(403, 404, 422),
)
def rotate_subscription_secret(subscription_id: uuid.UUID) -> Response:
    hours = g.body.get("grace_hours", 24)
    view, secret = subscriptions.rotate_secret(
        engine(), principal(), subscription_id, timedelta(hours=hours)
    )
    return ok({"subscription": view, "secret": secret})


@api.operation(
    "get",
    "/webhooks/subscriptions/{subscription_id}/deliveries",
    summary="The delivery log, newest first, with every attempt",
    tag="webhooks",
    response=paged_schema(DELIVERY),
    errors=(403, 404),
    query=[
        query_param(
            "status",
            description="pending, delivered, dead or replayed",
            enum=["pending", "delivered", "dead", "replayed"],
        ),
        *PAGE,
    ],
)
def deliveries(subscription_id: uuid.UUID) -> Response:
    page, per_page, offset = page_args()
    items, total = subscriptions.deliveries(
        engine(),
        principal(),
        subscription_id,
        status=request.args.get("status"),
        offset=offset,
        limit=per_page,
    )
    return ok(paged(items, total, page, per_page))


@api.operation(
    "post",
    "/webhooks/subscriptions/{subscription_id}/replay-dead",
    summary="Send every dead delivery again, in order",
    tag="webhooks",
    response=REPLAYED,
    errors=(403, 404),
)
def replay_dead(subscription_id: uuid.UUID) -> Response:
    return ok({"replayed": subscriptions.replay_dead(engine(), principal(), subscription_id)})


@api.operation(
    "post",
    "/webhooks/deliveries/{delivery_id}/replay",
    summary="Send one delivery again (same webhook id)",
    tag="webhooks",
    response=REPLAYED,
    errors=(403, 404, 409),
)
def replay_delivery(delivery_id: int) -> Response:
    return ok({"replayed": subscriptions.replay(engine(), principal(), delivery_id)})


# -- inbound ---------------------------------------------------------------------------------


@api.operation(
    "get",
    "/inbound-sources",
    summary="Systems allowed to send events in",
    tag="inbound",
    response={"type": "array", "items": SOURCE},
    errors=(403,),
)
def list_sources() -> Response:
    return ok(inbound.list_sources(engine(), principal()))


@api.operation(
    "post",
    "/inbound-sources",
    summary="Allow a system to send events, with its "
    "routes to BPMN messages; the secret is in this answer only",
    tag="inbound",
    body=NEW_SOURCE,
    response=SOURCE_WITH_SECRET,
    status=201,
    errors=(403, 409, 422),
)
def create_source() -> Response:
    body = g.body
    view, secret = inbound.create_source(
        engine(), principal(), body["id"], body["routes"], body.get("description", "")
    )
    return ok({"source": view, "secret": secret}, 201)


@api.operation(
    "patch",
    "/inbound-sources/{source_id}",
    summary="Change a source's routes, switch it off, or rotate its secret",
    tag="inbound",
    body=SOURCE_CHANGE,
    response=SOURCE_CHANGED,
    errors=(403, 404, 422),
)
def change_source(source_id: str) -> Response:
    body = g.body
    asked = inbound.SourceChange(
        routes=body.get("routes"),
        active=body.get("active"),
        description=body.get("description"),
        rotate_secret=bool(body.get("rotate_secret")),
        grace=timedelta(hours=body.get("grace_hours", 24)),
    )
    view, secret = inbound.change_source(engine(), principal(), source_id, asked)
    return ok({"source": view, "secret": secret})


@api.operation(
    "get",
    "/inbound-sources/{source_id}/events",
    summary="What a source sent, applied or refused, newest first",
    tag="inbound",
    response={"type": "array", "items": RECEIVED},
    errors=(403,),
    query=[
        query_param("status", description="applied or refused", enum=["applied", "refused"]),
        *PAGE,
    ],
)
def received(source_id: str) -> Response:
    _, per_page, offset = page_args()
    return ok(
        inbound.received(
            engine(),
            principal(),
            source_id,
            status=request.args.get("status"),
            offset=offset,
            limit=per_page,
        )
    )


@api.operation(
    "post",
    "/inbound/{source_id}",
    summary="Receive a signed event from another "
    "system (Standard Webhooks); a repeated webhook-id returns the first answer",
    tag="inbound",
    response=INBOUND_APPLIED,
    auth=False,
    errors=(401, 404, 409, 413, 422),
    extra_request=INBOUND_REQUEST,
)
def receive(source_id: str) -> Response:
    answer = inbound.receive(engine(), source_id, dict(request.headers), request.get_data())
    response = ok(answer.body, answer.status)
    if answer.status >= 400:
        response.mimetype = "application/problem+json"
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
