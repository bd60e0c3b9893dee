"""The metronome: APScheduler ticks the timer poll and webhook delivery.

Correctness lives in the database claims, not here: the job store is in memory, each job runs
one instance at a time and coalesces missed runs, and any number of worker processes may tick
against the same database.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.deadlines.timers import fire_due_timers
from engine.retention.runs import perform as perform_retention
from webhooks.delivery import deliver_due
from workflows import mailer
from workflows.bootstrap import Services
from workflows.http.metrics import worker_figures

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def tick_timers(services: Services, worker: str) -> None:
    report = fire_due_timers(services.ctx, worker=worker, policy=services.timer_policy)
    figures = worker_figures()
    figures.timers_fired.inc(report.fired)
    figures.timer_failures.inc(report.retried + report.failed)
    if report.fired or report.alerts or report.retried or report.failed:
        log.info(
            "timers fired=%d alerts=%d retried=%d failed=%d not_yet=%d",
            report.fired,
            report.alerts,
            report.retried,
            report.failed,
            report.not_yet,
        )


def tick_webhooks(services: Services, worker: str) -> None:
    report = deliver_due(services.ctx, worker=worker, policy=services.delivery)
    posted = worker_figures().webhooks
    posted.labels("delivered").inc(report.delivered)
    posted.labels("retrying").inc(report.retrying)
    posted.labels("dead").inc(report.dead)
    if report.delivered or report.retrying or report.dead or report.disabled:
        log.info(
            "webhooks delivered=%d retrying=%d dead=%d disabled=%s",
            report.delivered,
            report.retrying,
            report.dead,
            ",".join(report.disabled) or "-",
        )


def tick_mail(services: Services, worker: str) -> None:
    report = mailer.send_due(services.ctx, services.settings)
    if report.sent or report.failed:
        log.info("mail sent=%d failed=%d", report.sent, report.failed)


def tick_retention(services: Services) -> None:
    # Every worker runs it; what two do at once is safe (rows are locked and checked again,
    # partitions created under a lock), only wasted.
    done = perform_retention(services.ctx, services.retention)
    if done.batches:
        log.info("retention %s", " ".join(f"{k}={v}" for k, v in done.as_dict().items()))


def add_jobs(scheduler: BaseScheduler, services: Services, worker: str) -> None:
    # The first tick runs at once: timers that came due while nothing ran fire at start.
    scheduler.add_job(
        tick_timers,
        "interval",
        seconds=services.settings.timer_poll_seconds,
        args=(services, worker),
        id="fire_due_timers",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        tick_webhooks,
        "interval",
        seconds=services.settings.webhook_poll_seconds,
        args=(services, worker),
        id="deliver_webhooks",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        tick_mail,
        "interval",
        seconds=services.settings.mail_poll_seconds,
        args=(services, worker),
        id="send_mail",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    if services.settings.retention_hour >= 0:
        # Once a day, at a quiet hour of the agency's; what a day without a worker left is done
        # the next day (nothing of it is urgent).
        scheduler.add_job(
            tick_retention,
            "cron",
            hour=services.settings.retention_hour,
            timezone=services.settings.time_zone,
            args=(services,),
            id="records_retention",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )


def background_scheduler(services: Services) -> BackgroundScheduler:
    """For ``casework run``: the ticks in a thread beside the web server."""
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, services, worker_name())
    return scheduler


def run_worker(services: Services) -> None:
    """For ``casework worker``: block, ticking, until SIGTERM or SIGINT."""
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, services, worker_name())

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the running tick, then stopping", signum)
        if scheduler.running:
            scheduler.shutdown(wait=False)  # the blocking start() returns
        else:
            raise SystemExit(0)  # nothing has been dispatched yet

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker %s polling every %ss", worker_name(), services.settings.timer_poll_seconds)
    scheduler.start()
    log.info("worker stopped")
