"""Metrics that add up across processes.

Under gunicorn each web worker is a process of its own, and so is ``casework worker``: each
would count only its own requests, timers and deliveries, and a scrape would see whichever
answered (six completions read as 2, 2, 4, 4). prometheus-client's multiprocess mode keeps every
process's values in files of one directory, and ``/metrics`` adds them up whichever process
answers. ``casework serve`` and ``casework worker`` share the directory (``CASEWORK_METRICS_DIR``,
by default ``<data dir>/metrics``); ``casework run``, one process, needs none.
"""

from __future__ import annotations

import os
from pathlib import Path

# prometheus-client reads it when it is first imported: it is set before that, in the process
# and for the ones it starts.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def shared_directory() -> str | None:
    """The directory this process's metrics go to, when they are shared."""
    return os.environ.get(MULTIPROCESS_DIR) or None


def share_across_processes(directory: Path, *, starting_server: bool = False) -> None:
    """From now on, this process's metrics (and its children's) go to ``directory``.

    A web server starting removes the files of processes no longer running: their counts end
    with them, as a restarted server's do (Prometheus reads a counter that went back as a
    restart). Nothing else removes them, so that the sum never drops while the server runs."""
    directory.mkdir(parents=True, exist_ok=True)
    if starting_server:
        for path in directory.glob("*.db"):
            pid = path.stem.rsplit("_", 1)[-1]
            if pid.isdigit() and not _running(int(pid)):
                path.unlink(missing_ok=True)
    os.environ[MULTIPROCESS_DIR] = str(directory)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True
