"""The composition root: build everything a process needs, once, from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from engine.clock import Clock, SystemClock
from engine.context import EngineContext
from engine.deadlines.timers import TimerPolicy
from engine.definitions.versions import DefinitionRegistry
from engine.retention.runs import RetentionPolicy
from engine.spiff.runtime import Runtime
from engine.storage.db import connect
from webhooks.delivery import DeliveryPolicy
from workflows.printing import pdf_of
from workflows.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    ctx: EngineContext  # the engine's context (the package is `engine`)
    timer_policy: TimerPolicy
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)


def bootstrap(settings: Settings, *, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = connect(settings.database_url)
    runtime = Runtime(clock, cpu_seconds=settings.script_cpu_seconds)
    policy = TimerPolicy(max_attempts=settings.timer_max_attempts)
    delivery = DeliveryPolicy(timeout_seconds=settings.webhook_timeout_seconds)
    context = EngineContext(db, runtime, DefinitionRegistry(), clock, printer=pdf_of)
    keep = settings.outbox_keep_days
    retention = RetentionPolicy(outbox_keep=timedelta(days=keep) if keep > 0 else None)
    return Services(settings, context, policy, delivery, retention)
