"""Point SpiffWorkflow's timer checks at casework's clock.

SpiffWorkflow decides whether a timer is due with ``datetime.now(timezone.utc)`` inside its
timer module and offers no way to inject a clock. The module's ``datetime`` name is replaced once
by a subclass whose ``now`` reads the clock of the engine run in progress (a context variable),
falling back to the system clock. Tests and the designer's dry run therefore move one clock and
both casework and SpiffWorkflow see the same "now"; nothing is frozen globally.

Naive timestamps in timer expressions would be read in the server's local zone (the module's
``LOCALTZ``); they are read as UTC instead so that behaviour never depends on the host.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine.clock import Clock, SystemClock

_SYSTEM = SystemClock()
_current: ContextVar[Clock | None] = ContextVar("casework_engine_clock", default=None)


class _EngineDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        instant = (_current.get() or _SYSTEM).now()
        return instant.astimezone(tz) if tz is not None else instant.replace(tzinfo=None)


def install() -> None:
    """Idempotent; called when a runtime is built, never at import."""
    if spiff_timer.datetime is not _EngineDatetime:
        spiff_timer.datetime = _EngineDatetime
        spiff_timer.LOCALTZ = UTC


@contextmanager
def using(clock: Clock) -> Iterator[None]:
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)
