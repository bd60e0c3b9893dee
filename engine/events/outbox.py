"""The outbox: every meaningful change publishes an event (``UnitOfWork.publish``), and the
event, with one delivery row per webhook subscription that wants its topic, is written by the
same commit as the change (``engine.storage.appended``). If the change rolls back, so does the
event; a receiver can never hear of something that did not happen, and nothing that happened
goes unheard. This module holds what an event is; webhooks/ posts the deliveries.

Events are minimal and redacted by construction: ids, case numbers, element ids, statuses and
dates; never names, narratives, form data or the reporter. The one exception is addressed: a
referral offered to a provider carries what that provider needs to take the family on (the
person, the service, why), and is delivered only to that provider's own subscription.
"""

from __future__ import annotations

import fnmatch
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.events.topics import PROVIDER_TOPICS, TOPICS


@dataclass(frozen=True)
class Published:
    id: uuid.UUID
    topic: str
    case_id: uuid.UUID | None
    at: datetime
    data: dict[str, Any]
    audience: str | None = None  # a provider's id: for that provider's subscriptions only


def published(
    topic: str,
    at: datetime,
    case_id: uuid.UUID | None,
    data: dict[str, Any],
    audience: str | None = None,
) -> Published:
    """An event of a catalogued topic, its data made plain (ids and instants as text)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown event topic {topic!r}")
    if (topic in PROVIDER_TOPICS) != (audience is not None):
        raise ValueError(f"{topic!r} is {'' if audience else 'not '}addressed to a provider")
    payload = {k: _plain(v) for k, v in data.items()}
    if case_id is not None:
        payload["case_id"] = str(case_id)
    return Published(uuid.uuid4(), topic, case_id, at, payload, audience)


def delivered_to(patterns: Iterable[str], provider_id: str | None, published: Published) -> bool:
    """Whether a subscription hears an event: its topic, and addressed to its provider (a
    provider's subscription) or to nobody in particular (the agency's)."""
    return provider_id == published.audience and topic_matches(patterns, published.topic)


def topic_matches(patterns: Iterable[str], topic: str) -> bool:
    return any(fnmatch.fnmatchcase(topic, pattern) for pattern in patterns)


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(16)}"


def envelope(published: Published) -> dict[str, Any]:
    """The body receivers get (the Standard Webhooks shape: type, timestamp, data)."""
    return {
        "id": str(published.id),
        "type": published.topic,
        "timestamp": published.at.isoformat(),
        "data": published.data,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
