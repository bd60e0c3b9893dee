"""A CPU-time budget for one engine run, enforced from a watchdog thread.

SpiffWorkflow has no timeout, and a BPMN script can loop forever. Signals only reach the main
thread, so instead one daemon thread watches the CPU clock of every guarded thread and, once a
run is over budget, raises ``BudgetExceeded`` inside that thread (``PyThreadState_SetAsyncExc``).
``BudgetExceeded`` derives from ``BaseException`` so that the engine's own ``except Exception``
blocks cannot swallow it; the guard re-raises at exit in case it was swallowed anyway.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_POLL_SECONDS = 0.02


class BudgetExceeded(BaseException):
    """Raised inside a guarded thread whose run used up its CPU budget."""


@dataclass
class _Guard:
    thread_id: int
    clock_id: int
    deadline: float
    fired: bool = False


class _Watchdog:
    def __init__(self) -> None:
        self._guards: dict[int, _Guard] = {}
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, guard: _Guard) -> None:
        with self._lock:
            self._guards[guard.thread_id] = guard
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="casework-script-watchdog", daemon=True
                )
                self._thread.start()
            self._lock.notify()

    def remove(self, guard: _Guard) -> None:
        with self._lock:
            if self._guards.get(guard.thread_id) is guard:
                del self._guards[guard.thread_id]

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._guards:
                    self._lock.wait()
                guards = list(self._guards.values())
            for guard in guards:
                self._check(guard)
            time.sleep(_POLL_SECONDS)

    def _check(self, guard: _Guard) -> None:
        with self._lock:
            # Checked and fired under the lock: once ``remove`` returns, nothing more is raised.
            if self._guards.get(guard.thread_id) is not guard:
                return
            try:
                used = time.clock_gettime(guard.clock_id)
            except OSError:  # the thread is gone
                del self._guards[guard.thread_id]
                return
            if used < guard.deadline:
                return
            guard.fired = True
            # Keep interrupting until the guard is removed: a swallowed exception must not win.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(guard.thread_id), ctypes.py_object(BudgetExceeded)
            )


_WATCHDOG = _Watchdog()


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Run the body with at most ``seconds`` of this thread's CPU time.

    Raises ``BudgetExceeded`` when the budget is used up. Nested guards keep the outer one.
    """
    thread_id = threading.get_ident()
    if thread_id in _WATCHDOG._guards:
        yield
        return
    clock_id = time.pthread_getcpuclockid(thread_id)
    guard = _Guard(thread_id, clock_id, time.clock_gettime(clock_id) + seconds)
    _WATCHDOG.add(guard)
    try:
        yield
    finally:
        _disarm(guard)
    if guard.fired:
        raise BudgetExceeded


def _disarm(guard: _Guard) -> None:
    # The interruption may land while disarming; retry until the guard is gone and no
    # exception is left pending for this thread, so none surfaces later in unrelated code.
    while True:
        try:
            _WATCHDOG.remove(guard)
            if guard.fired:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(guard.thread_id), None)
            return
        except BudgetExceeded:
            guard.fired = True
