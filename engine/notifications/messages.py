"""The words of a notification email: what happened, the case's number and a link. Never a
child's or a reporter's name — in the subject or the body — because email leaves casework's
access rules behind (DOMAIN §5)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.notifications.queue import SAID, Outgoing


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


def compose(outgoing: Outgoing, base_url: str) -> Message:
    base = base_url.rstrip("/")
    lines = [
        f"- {SAID.get(n.kind, 'Something needs you')}"
        + (f" (case {n.case_number})" if n.case_number else "")
        + f": {base}{n.path}"
        for n in outgoing.notifications
    ]
    if outgoing.digest:
        subject = f"casework: {len(lines)} update{'s' if len(lines) != 1 else ''} for you today"
    else:
        first = outgoing.notifications[0]
        subject = f"casework: {SAID.get(first.kind, 'Something needs you')}"
        if first.case_number:
            subject += f" (case {first.case_number})"
    body = "\n".join(
        [
            "Hello,",
            "",
            *lines,
            "",
            "Open the link and sign in to read the case: this message names no one, as the "
            "case's people are confidential.",
            f"How you get these messages is yours to change: {base}/me",
        ]
    )
    return Message(outgoing.address, subject, body)
