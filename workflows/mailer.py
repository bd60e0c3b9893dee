"""Sending the notifications by email (SMTP, the one edge casework does not own): each run
takes the unsent notifications of people who want them at once, and at the digest hour each
digest reader's day in one message. A failure leaves the notification unsent, to be tried
again when its lease runs out; nothing is lost and nothing is sent twice within a lease."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, time
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from engine.context import EngineContext
from engine.notifications import messages, queue
from engine.storage.uow import UnitOfWork
from workflows.settings import Settings

log = logging.getLogger("casework.mailer")


@dataclass(frozen=True)
class MailReport:
    sent: int = 0
    failed: int = 0


def send_due(ctx: EngineContext, settings: Settings) -> MailReport:
    if not settings.smtp_host:
        return MailReport()
    now = ctx.clock.now()
    zone = ZoneInfo(settings.time_zone)
    digest_from = datetime.combine(now.astimezone(zone).date(), time(settings.digest_hour), zone)
    with UnitOfWork(ctx.db.writer) as uow:
        outgoing = queue.claim_immediate(uow.session, now)
        if now >= digest_from:
            outgoing += queue.claim_digests(uow.session, now, digest_from)
        uow.commit()
    sent = failed = 0
    for item in outgoing:
        message = messages.compose(item, settings.base_url)
        try:
            _send(settings, message)
        except (OSError, smtplib.SMTPException) as exc:
            failed += 1
            log.warning("mail to %s not sent: %s", item.user_id, exc)
            with UnitOfWork(ctx.db.writer) as uow:
                queue.mark_failed(uow.session, item, str(exc))
                uow.commit()
            continue
        sent += 1
        with UnitOfWork(ctx.db.writer) as uow:
            queue.mark_sent(uow.session, item, ctx.clock.now())
            uow.commit()
    return MailReport(sent, failed)


def _send(settings: Settings, message: messages.Message) -> None:
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.body)
    connect = smtplib.SMTP_SSL if settings.smtp_security == "ssl" else smtplib.SMTP
    with connect(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(email)
