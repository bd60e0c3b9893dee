"""JSON from outside (API bodies, inbound events), refused unless it can be bounded and
stored: nesting deeper than MAX_JSON_DEPTH would exhaust the stack of whatever walks it, NaN
and infinities are not JSON (Python reads and writes them, PostgreSQL refuses them), and
PostgreSQL cannot store a lone surrogate."""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeAlias

MAX_JSON_DEPTH = 64  # levels of objects and arrays; case data needs a handful
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # parsing has joined every proper pair


class UnacceptableJson(ValueError):
    """JSON text casework refuses; the message says why, for the sender."""


def parse_json(text: str | bytes) -> Any:
    """JSON sent by another system or an API caller (the web app reads request bodies with
    this too), refused unless it is JSON that can be bounded and stored: nesting deeper than
    MAX_JSON_DEPTH would exhaust the stack of whatever walks it, NaN and infinities are not
    JSON (Python reads and writes them, PostgreSQL refuses them), and PostgreSQL cannot store
    a lone surrogate."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnacceptableJson:
        raise
    except RecursionError:
        raise UnacceptableJson(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # not JSON, not UTF-8, or an integer too long to read
        raise UnacceptableJson(f"not JSON: {exc}") from None
    _refuse_unstorable(value)
    return value


def _refuse_constant(name: str) -> Any:
    raise UnacceptableJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise UnacceptableJson(f"{text} is too large a number")
    return number


# Where a value sits, as a chain of (parent, key) links: rendered as a JSON pointer only for an
# error message, so that deep values with long names cost nothing to track.
Where: TypeAlias = tuple["Where", str | int] | None


def _refuse_unstorable(value: Any) -> None:
    """Walks the parsed value without recursion: too deep, or a lone surrogate anywhere."""
    if isinstance(value, str) and LONE_SURROGATE.search(value):
        raise _lone_surrogate("the body")
    if not isinstance(value, dict | list):
        return
    pending: list[tuple[dict[str, Any] | list[Any], Where, int]] = [(value, None, 1)]
    while pending:
        container, path, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise UnacceptableJson(
                f"nested deeper than {MAX_JSON_DEPTH} levels at {_pointer(path)}"
            )
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in items:
            if isinstance(key, str) and LONE_SURROGATE.search(key):
                raise _lone_surrogate(f"a name in {_pointer(path)}")
            if isinstance(item, str) and LONE_SURROGATE.search(item):
                raise _lone_surrogate(_pointer((path, key)))
            if isinstance(item, dict | list):
                pending.append((item, (path, key), depth + 1))


def _pointer(path: Where, longest_name: int = 40) -> str:
    names: list[str] = []
    while path is not None:
        path, key = path
        names.append(str(key)[:longest_name].replace("~", "~0").replace("/", "~1"))
    return "".join(f"/{name}" for name in reversed(names)) or "/"


def _lone_surrogate(where: str) -> UnacceptableJson:
    return UnacceptableJson(f"a lone surrogate (half of a UTF-16 pair) in {where}")
