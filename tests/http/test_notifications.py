"""Alerts that reach people: a missed first contact's overdue alert arrives by email through a
real SMTP server the test starts, naming the case by number and no child or reporter; a digest
reader gets one email a day; the calendar feed lists the same due dates as My work and stops
when revoked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from engine.deadlines.timers import fire_due_timers
from http_support import Agency, screened_by_api
from workflows import mailer
from workflows.settings import Settings

CHILD, REPORTER = "Lia", "Rita Reporter"


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(received, EmailMessage)
        self.messages.append(received)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mail_settings(port: int) -> Settings:
    return Settings.from_env(
        {
            "CASEWORK_SMTP_HOST": "127.0.0.1",
            "CASEWORK_SMTP_PORT": str(port),
            "CASEWORK_MAIL_FROM": "casework@agency.example",
            "CASEWORK_PUBLIC_URL": "https://casework.agency.example",
        }
    )


def test_a_missed_first_contact_reaches_the_investigator_by_email_naming_no_child(
    agency: Agency, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    case_id, contact = screened_by_api(agency)
    worker = contact["assignee"]
    refused = agency.client.patch(
        "/api/v1/me/settings", json={"email": "not an address"}, headers=agency.headers(worker)
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "/email"
    saved = agency.client.patch(
        "/api/v1/me/settings",
        json={"email": f"{worker}@agency.example", "notify": "immediate"},
        headers=agency.headers(worker),
    )
    assert saved.status_code == 200 and saved.json["email"] == f"{worker}@agency.example"
    settings = mail_settings(port)
    mailer.send_due(agency.ctx, settings)  # what was queued before the address was known
    inbox.messages.clear()

    agency.ctx.clock.move_to(  # type: ignore[attr-defined]
        datetime.fromisoformat(contact["due_at"]) + timedelta(minutes=1)
    )
    fire_due_timers(agency.ctx, worker="test")
    report = mailer.send_due(agency.ctx, settings)

    assert report.sent >= 1
    overdue = [m for m in inbox.messages if "overdue" in str(m["Subject"])]
    assert len(overdue) == 1
    [message] = overdue
    number = agency.get("sue", f"/api/v1/cases/{case_id}").json["case_number"]
    assert message["To"] == f"{worker}@agency.example"
    assert number in str(message["Subject"])
    body = message.get_content()
    assert f"https://casework.agency.example/tasks/{contact['id']}" in body
    for text in (str(message["Subject"]), body):
        assert CHILD not in text and REPORTER not in text and "555-0100" not in text
    # Sent once: the next run finds nothing new.
    assert mailer.send_due(agency.ctx, settings).sent == 0


def test_a_digest_reader_gets_one_email_a_day(agency: Agency, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _, contact = screened_by_api(agency)
    worker = contact["assignee"]
    agency.client.patch(
        "/api/v1/me/settings",
        json={"email": f"{worker}@agency.example", "notify": "digest"},
        headers=agency.headers(worker),
    )
    settings = mail_settings(port)
    due = datetime.fromisoformat(contact["due_at"])
    agency.ctx.clock.move_to(due + timedelta(minutes=1))  # type: ignore[attr-defined]
    fire_due_timers(agency.ctx, worker="test")
    # Tuesday 09:16 in Texas: today's 07:00 digest is due.
    mailer.send_due(agency.ctx, settings)
    digests = [m for m in inbox.messages if m["To"] == f"{worker}@agency.example"]
    assert len(digests) == 1 and "for you today" in str(digests[0]["Subject"])
    assert digests[0].get_content().count("- ") >= 2  # the task given, the alerts raised
    fire_due_timers(agency.ctx, worker="test")
    mailer.send_due(agency.ctx, settings)
    assert len([m for m in inbox.messages if m["To"] == f"{worker}@agency.example"]) == 1


def test_the_calendar_feed_lists_my_due_dates_and_stops_when_revoked(agency: Agency) -> None:
    _, contact = screened_by_api(agency)
    worker = contact["assignee"]
    created = agency.post(worker, "/api/v1/me/calendar-feed")
    assert created.status_code == 201
    url = created.json["url"]
    path = url[url.index("/api/") :]

    feed = agency.client.get(path)  # no credentials: the token is the key
    assert feed.status_code == 200 and feed.content_type.startswith("text/calendar")
    calendar = Calendar.from_ical(feed.data)
    ends = sorted(e.decoded("dtend") for e in calendar.walk("VEVENT"))
    mine = agency.get(worker, "/api/v1/tasks?view=mine").json["items"]
    assert ends == sorted(datetime.fromisoformat(t["due_at"]) for t in mine if t["due_at"])
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert summaries and all(CHILD not in s for s in summaries)

    assert (
        agency.client.delete("/api/v1/me/calendar-feed", headers=agency.headers(worker)).status_code
        == 204
    )
    assert agency.client.get(path).status_code == 404
