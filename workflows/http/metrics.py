"""``/metrics`` in Prometheus format: request counts and latency, timers fired and webhooks
delivered (added up over every web and worker process that shares the metrics directory, see
``workflows.shared_metrics``), and gauges read from the database: timers, lateness, tasks,
incidents, the outbox.

The figures say how much work an agency has and how late it is, so they are not public: by
default only a scraper on the same machine reads them, or one that sends the metrics token
(``CASEWORK_METRICS_TOKEN``); anyone else is told there is nothing here (404), as for anything
they may not see. ``CASEWORK_METRICS_PUBLIC=true`` opens them, for a proxy that guards them."""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, abort, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from engine import stopwatch
from engine.context import EngineContext
from engine.statuses import TaskStatus, TimerStatus
from engine.storage.tables import HumanTask, Incident, Timer, WebhookDelivery
from workflows.settings import Settings
from workflows.shared_metrics import shared_directory

# Headers a proxy adds: a request that carries one came from elsewhere, whatever its address.
FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


class DatabaseCollector(Collector):
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.ctx.clock.now()
        with self.ctx.db.reader() as session:
            by_status = dict(
                session.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()
            )
            recent = session.execute(
                select(Timer.fired_at, Timer.due_at)
                .where(Timer.status == TimerStatus.FIRED, Timer.fired_at.is_not(None))
                .order_by(Timer.fired_at.desc())
                .limit(1000)
            ).all()
            ready = (
                session.scalar(select(func.count()).where(HumanTask.status == TaskStatus.READY))
                or 0
            )
            overdue = (
                session.scalar(
                    select(func.count()).where(
                        HumanTask.status == TaskStatus.READY, HumanTask.due_at < now
                    )
                )
                or 0
            )
            deliveries = dict(
                session.execute(
                    select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
                ).all()
            )
            incidents = (
                session.scalar(select(func.count()).where(Incident.resolved_at.is_(None))) or 0
            )
        timers = GaugeMetricFamily("casework_timers", "Timers by status", labels=["status"])
        for status, count in sorted(by_status.items()):
            timers.add_metric([status], count)
        yield timers
        lateness = sorted((fired - due).total_seconds() for fired, due in recent)
        gauge = GaugeMetricFamily(
            "casework_timer_lateness_seconds",
            "Lateness of the last 1000 fired timers",
            labels=["quantile"],
        )
        for quantile in (0.5, 0.99):
            value = (
                lateness[min(len(lateness) - 1, int(len(lateness) * quantile))] if lateness else 0.0
            )
            gauge.add_metric([str(quantile)], value)
        yield gauge
        yield GaugeMetricFamily("casework_tasks_ready", "Ready human tasks", value=ready)
        yield GaugeMetricFamily(
            "casework_tasks_overdue", "Ready human tasks past their due date", value=overdue
        )
        yield GaugeMetricFamily("casework_incidents_open", "Open timer incidents", value=incidents)
        yield GaugeMetricFamily(
            "casework_outbox_depth",
            "Webhook deliveries waiting to be posted",
            value=deliveries.get("pending", 0),
        )
        by_outcome = GaugeMetricFamily(
            "casework_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
        )
        for status, count in sorted(deliveries.items()):
            by_outcome.add_metric([status], count)
        yield by_outcome


class WorkerFigures:
    """What the timer and webhook ticks did, counted where they run (a worker process, or
    ``casework run``'s own thread)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.timers_fired = Counter(
            "casework_timers_fired", "Timers fired by the workers", registry=registry
        )
        self.timer_failures = Counter(
            "casework_timer_failures", "Timer runs that failed (retried or given up)",
            registry=registry,
        )  # fmt: skip
        self.webhooks = Counter(
            "casework_webhooks_posted",
            "Webhook deliveries posted, by outcome",
            ["outcome"],
            registry=registry,
        )


# One per process: in a shared directory its values are files written as they change; alone,
# a registry that every app of the process reads.
_PROCESS_REGISTRY = CollectorRegistry()
_WORKER_FIGURES: WorkerFigures | None = None


def worker_figures() -> WorkerFigures:
    global _WORKER_FIGURES  # one set of counters per process, made when first needed
    if _WORKER_FIGURES is None:
        _WORKER_FIGURES = WorkerFigures(None if shared_directory() else _PROCESS_REGISTRY)
    return _WORKER_FIGURES


class _ProcessFigures(Collector):
    """This process's worker figures, on an app's registry (one process: nothing to add up)."""

    def collect(self) -> Iterator[Any]:
        worker_figures()
        yield from _PROCESS_REGISTRY.collect()


class Metrics:
    def __init__(self, ctx: EngineContext) -> None:
        shared = shared_directory()
        # Shared: every process writes its values to the directory, and a scrape adds up the
        # files. Alone: this app's own registry.
        own = None if shared else CollectorRegistry()
        self.requests = Counter(
            "casework_http_requests",
            "HTTP requests",
            ["method", "endpoint", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "casework_http_request_seconds",
            "HTTP request latency",
            ["endpoint"],
            registry=own,
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.engine = Histogram(
            "casework_http_engine_seconds",
            "Time spent in the workflow engine per request",
            ["endpoint"],
            registry=own,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1),
        )
        self.completions = Counter(
            "casework_task_completions",
            "Tasks completed through the API",
            ["process"],
            registry=own,
        )
        if own is None:
            self.registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.registry, path=shared)
        else:
            self.registry = own
            self.registry.register(_ProcessFigures())
        self.registry.register(DatabaseCollector(ctx))

    def task_completed(self, process_id: str) -> None:
        self.completions.labels(process_id).inc()


def may_read_metrics(settings: Settings) -> bool:
    """Public by setting, or a request from this machine (not relayed by a proxy on it), or one
    bearing the metrics token."""
    if settings.metrics_public:
        return True
    if _from_this_machine():
        return True
    header = request.headers.get("Authorization", "")
    sent = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return bool(settings.metrics_token and sent) and hmac.compare_digest(
        sent.encode(), settings.metrics_token.encode()
    )


def _from_this_machine() -> bool:
    if any(name in request.headers for name in FORWARDED):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:  # a Unix socket has no address: a proxy's, so not this machine's
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket
    return address.is_loopback


def register(app: Flask, ctx: EngineContext, settings: Settings) -> None:
    metrics = Metrics(ctx)
    app.extensions["casework_metrics"] = metrics

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        g.spent, g.spent_token = stopwatch.begin()

    @app.after_request
    def observe(response: Response) -> Response:
        endpoint = request.endpoint or "unknown"
        metrics.requests.labels(request.method, endpoint, str(response.status_code)).inc()
        started: Any = getattr(g, "started", None)
        spent: stopwatch.Spent | None = getattr(g, "spent", None)
        if started is not None and spent is not None:
            elapsed = time.perf_counter() - started
            metrics.latency.labels(endpoint).observe(elapsed)
            metrics.engine.labels(endpoint).observe(spent.engine_seconds)
            # Browsers' developer tools and the API benchmark read where the time went.
            response.headers["Server-Timing"] = (
                f"app;dur={elapsed * 1000:.2f}, engine;dur={spent.engine_seconds * 1000:.2f}"
            )
        return response

    @app.teardown_request
    def stop_timer(_: BaseException | None) -> None:
        token = g.pop("spent_token", None)
        if token is not None:
            stopwatch.end(token)

    @app.get("/metrics")
    def metrics_view() -> Response:
        if not may_read_metrics(settings):
            abort(404)  # the same answer as for a path that does not exist
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)
