"""The engine's error tree. Each class carries a stable ``code`` that callers (the HTTP layer,
the CLI) translate once; nothing here knows about status codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EngineError(Exception):
    code = "engine_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(EngineError):
    code = "not_found"


class Conflict(EngineError):
    """The thing exists but is not in a state that allows the request (not ready, already
    done, changed by someone else meanwhile)."""

    code = "conflict"


class Forbidden(EngineError):
    code = "forbidden"


class InvalidInput(EngineError):
    code = "invalid_input"


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of submitted form data. ``field`` is a JSON pointer."""

    field: str
    message: str
    validator: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "validator": self.validator}


class InvalidTaskData(EngineError):
    code = "invalid_task_data"

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class Problem:
    """One problem found in a definition bundle, printable as ``file:line: element-id: message``."""

    file: str
    message: str
    line: int | None = None
    element_id: str | None = None

    def __str__(self) -> str:
        line = "" if self.line is None else str(self.line)
        return f"{self.file}:{line}: {self.element_id or '-'}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "element_id": self.element_id,
            "message": self.message,
        }


class InvalidDefinition(EngineError):
    """A bundle failed validation. Nothing of it was deployed."""

    code = "invalid_definition"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the definition bundle")
        self.problems = problems


class ScriptFailed(EngineError):
    """A BPMN/DMN expression or script failed, was refused by the sandbox, or ran out of time.
    The use case that ran it changed nothing."""

    code = "script_failed"

    def __init__(
        self,
        message: str,
        *,
        element_id: str | None = None,
        line: int | None = None,
        reason: str = "error",
    ) -> None:
        super().__init__(message)
        self.element_id = element_id
        self.line = line
        self.reason = reason

    def describe(self) -> str:
        """The message with where it happened, e.g. ``compute (line 2): ZeroDivisionError…``."""
        where = self.element_id or ""
        if self.line:
            where = f"{where} (line {self.line})".strip()
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ErrorList:
    """Collects problems instead of stopping at the first one."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def __bool__(self) -> bool:
        return bool(self.problems)
