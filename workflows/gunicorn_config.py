"""gunicorn's settings for `casework serve` (``-c python:workflows.gunicorn_config``): its own
lines go through casework's log configuration, so that with ``CASEWORK_LOG_FORMAT=json`` every
line is JSON. No access log: the app writes one line per request itself
(workflows/http/request_log.py), with the user and the request id."""

from typing import Any

from workflows.logs import log_config
from workflows.settings import Settings
from workflows.shared_metrics import shared_directory

logconfig_dict = log_config(Settings.from_env().log_format)
accesslog = None


def child_exit(server: Any, worker: Any) -> None:
    """A web worker that ended: its live values leave the sum (its counts stay in it)."""
    if shared_directory():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
