"""The statuses records move through, each named once. They are ``StrEnum`` members: stored
and compared as the plain strings the database holds."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    OPEN = "open"
    SCREENED_OUT = "screened_out"  # the report ended at intake
    CLOSED = "closed"


class InstanceStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # ended from outside (its case closed)


class TaskStatus(StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # an interrupting event or an end took it


class TimerStatus(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"  # its work was done first
    FAILED = "failed"  # its run kept failing: an incident


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"  # the work may still be done late: met_at says when
    CANCELLED = "cancelled"


class AlertStatus(StrEnum):
    """A rung of an escalation ladder, waiting for its moment."""

    PENDING = "pending"
    RAISED = "raised"
    SKIPPED = "skipped"  # the work was done before its moment
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """A webhook delivery: pending until delivered or dead; a dead one requeued is replayed."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    REPLAYED = "replayed"


class InboundStatus(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"
