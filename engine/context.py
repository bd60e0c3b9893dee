"""What every use case needs, built once per process by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.clock import Clock
from engine.definitions.versions import DefinitionRegistry
from engine.spiff.runtime import Runtime
from engine.storage.db import Database


@dataclass(frozen=True)
class Actor:
    """Who does something: a user id and the role they act in (recorded in the audit log)."""

    id: str
    role: str | None = None


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class EngineContext:
    db: Database
    runtime: Runtime
    definitions: DefinitionRegistry
    clock: Clock
    # Prints a page of HTML to PDF (WeasyPrint, wired by the composition root); without one,
    # the court report is HTML only and a report task keeps no copy.
    printer: Callable[[str], bytes] | None = None
