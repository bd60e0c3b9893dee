"""The Standard Webhooks scheme (https://www.standardwebhooks.com): secrets, signatures, and
verification of what other systems send, against our clock and with any number of secrets
(during a rotation the old and the new one are both good)."""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
TOLERANCE = timedelta(minutes=5)


class SignatureRefused(Exception):
    """Why an inbound request's signature cannot be trusted (said to the sender as is)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: datetime, body: str) -> str:
    """The ``webhook-signature`` value of one secret: ``v1,<base64 HMAC-SHA256>``."""
    return str(Webhook(secret).sign(message_id, timestamp, body))


def headers(
    signing_secrets: Iterable[str], message_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    """The three headers; several secrets give several space-separated signatures."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in signing_secrets
        ),
        "content-type": "application/json",
    }


def verify(trusted: Iterable[str], received: Mapping[str, str], body: str, now: datetime) -> str:
    """Check an inbound request; returns its webhook id or raises SignatureRefused.

    The timestamp is checked against ``now`` (our injected clock, not the library's wall
    clock), so a captured request replayed outside the tolerance is refused.
    """
    lowered = {k.lower(): v for k, v in received.items()}
    message_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    offered = lowered.get("webhook-signature", "")
    if not (message_id and stamp and offered):
        raise SignatureRefused("webhook-id, webhook-timestamp and webhook-signature are required")
    if len(message_id) > 200:
        raise SignatureRefused("webhook-id is longer than 200 characters")
    try:
        sent_at = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError) as exc:
        raise SignatureRefused("webhook-timestamp is not a Unix time in seconds") from exc
    if abs(now - sent_at) > TOLERANCE:
        raise SignatureRefused(
            f"webhook-timestamp is more than {int(TOLERANCE.total_seconds())} s from our clock"
        )
    offered_signatures = {
        part.split(",", 1)[1] for part in offered.split() if part.startswith("v1,")
    }
    for secret in trusted:
        expected = signature(secret, message_id, sent_at, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered_signatures):
            return message_id
    raise SignatureRefused("no signature matches")
