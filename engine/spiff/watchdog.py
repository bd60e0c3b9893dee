"""A CPU-time budget for one engine run, enforced from a watchdog thread.

SpiffWorkflow has no timeout, and a BPMN script can loop forever. Signals only reach the main
thread, so instead one daemon thread watches the CPU clock of every guarded thread and, once a
run is over budget, raises ``BudgetExceeded`` inside that thread (``PyThreadState_SetAsyncExc``).
``BudgetExceeded`` derives from ``BaseException`` so that the engine's own ``except Exception``
blocks cannot swallow it (and the sandbox lets scripts catch only named ``Exception``
subclasses); it is raised again every half second while the run goes on, and once more at exit
if it was swallowed anyway.

An asynchronous exception can land on any bytecode, so the guarded thread never takes a lock
while it can be interrupted: it registers and unregisters with atomic dictionary operations,
waits for any check the watchdog has in flight, and only then lets whatever is still pending
surface where it is caught.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_POLL_SECONDS = 0.02
_REFIRE_SECONDS = 0.5


class BudgetExceeded(BaseException):
    """Raised inside a guarded thread whose run used up its CPU budget."""


@dataclass
class _Guard:
    thread_id: int
    clock_id: int
    deadline: float
    fired: bool = False
    last_fired: float = 0.0


def _interrupt(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(BudgetExceeded)
    )


def _drain_pending() -> None:
    """Let an interruption still pending for this thread surface here and now.

    (Clearing it with ``PyThreadState_SetAsyncExc(id, NULL)`` instead would leave CPython's
    eval-breaker flag set for good, slowing every later bytecode of the process.)
    """
    for _ in range(1000):
        pass


class _Watchdog:
    def __init__(self) -> None:
        self.guards: dict[int, _Guard] = {}
        self.passes = 0  # completed checking passes
        self.in_pass = False
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, guard: _Guard) -> None:
        # Called before the guard is armed: nothing can interrupt this thread yet.
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="casework-script-watchdog", daemon=True
                )
                self._thread.start()
        self.guards[guard.thread_id] = guard
        self._wake.set()

    def _run(self) -> None:
        while True:
            if not self.guards:
                self._wake.wait()
                self._wake.clear()
                continue
            self.in_pass = True
            for guard in list(self.guards.values()):
                self._check(guard)
            self.in_pass = False
            self.passes += 1
            time.sleep(_POLL_SECONDS)

    def _check(self, guard: _Guard) -> None:
        if self.guards.get(guard.thread_id) is not guard:
            return
        try:
            used = time.clock_gettime(guard.clock_id)
        except OSError:  # the thread is gone
            self.guards.pop(guard.thread_id, None)
            return
        now = time.monotonic()
        if used >= guard.deadline and now - guard.last_fired >= _REFIRE_SECONDS:
            guard.fired = True
            guard.last_fired = now
            _interrupt(guard.thread_id)

    def quiesce(self) -> None:
        """Wait until no checking pass that may still see an unregistered guard is running."""
        seen = self.passes
        while self.in_pass and self.passes == seen:
            time.sleep(0.0005)


_WATCHDOG = _Watchdog()


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Run the body with at most ``seconds`` of this thread's CPU time.

    Raises ``BudgetExceeded`` when the budget is used up. Nested guards keep the outer one.
    """
    thread_id = threading.get_ident()
    if thread_id in _WATCHDOG.guards:
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
    # Every step may itself be interrupted; each is safe to repeat, and none holds a lock.
    while True:
        try:
            _WATCHDOG.guards.pop(guard.thread_id, None)
            _WATCHDOG.quiesce()
            if guard.fired:
                _drain_pending()
            return
        except BudgetExceeded:
            guard.fired = True
