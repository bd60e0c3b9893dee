"""Where a request's time goes: the time spent inside the workflow engine (loading, running and
storing instances) is summed per unit of work, so the web layer can report it in a
``Server-Timing`` header and the API benchmark can state the engine's share of latency."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Spent:
    engine_seconds: float = 0.0
    _depth: int = 0


_current: ContextVar[Spent | None] = ContextVar("casework_time_spent", default=None)


def begin() -> tuple[Spent, Token[Spent | None]]:
    """Starts summing engine time in this thread or task; pair with `end` (hooks that cannot
    wrap a block, such as a web framework's before and after request, use these)."""
    spent = Spent()
    return spent, _current.set(spent)


def end(token: Token[Spent | None]) -> None:
    _current.reset(token)


@contextmanager
def measuring() -> Iterator[Spent]:
    """Sums the engine time of everything run inside the block."""
    spent, token = begin()
    try:
        yield spent
    finally:
        end(token)


def engine_time(function: Callable[P, R]) -> Callable[P, R]:
    """Counts a call as engine time; nested engine calls are counted once, by the outermost."""

    @functools.wraps(function)
    def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        spent = _current.get()
        if spent is None:
            return function(*args, **kwargs)
        spent._depth += 1
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent._depth -= 1
            if spent._depth == 0:
                spent.engine_seconds += time.perf_counter() - started

    return timed
