"""gunicorn's settings for `casework serve` (``-c python:workflows.gunicorn_config``): its own
lines go through casework's log configuration, so that with ``CASEWORK_LOG_FORMAT=json`` every
line is JSON. No access log: the app writes one line per request itself
(workflows/http/request_log.py), with the user and the request id."""

from workflows.logs import log_config
from workflows.settings import Settings

logconfig_dict = log_config(Settings.from_env().log_format)
accesslog = None
