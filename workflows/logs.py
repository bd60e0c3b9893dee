"""Log configuration: readable lines for a terminal, one JSON object a line for production
(``CASEWORK_LOG_FORMAT=json``). The same configuration serves the CLI and gunicorn
(`casework serve`), so the server's own lines and the app's come out alike."""

from __future__ import annotations

import logging.config
from typing import Any

from pythonjsonlogger.json import JsonFormatter

TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonLines(JsonFormatter):
    """One JSON object a line; levels in lower case ("info"), as the lines have always had."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        log_data["level"] = str(log_data.get("level", "")).lower()
        return log_data


def log_config(log_format: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: everything to standard error, INFO and up.
    In JSON, a line's ``extra`` fields (a request's status, its user) become keys."""
    if log_format == "json":
        formatter: dict[str, Any] = {
            "()": JsonLines,
            "fmt": "{levelname}{name}{message}",
            "style": "{",
            "rename_fields": {"levelname": "level", "name": "logger", "exc_info": "exception"},
            "timestamp": "at",
        }
    else:
        formatter = {"format": TEXT}
    handler = {"class": "logging.StreamHandler", "formatter": "casework"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"casework": formatter},
        "handlers": {"console": handler},
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "spiff": {"level": "WARNING"},
            "apscheduler": {"level": "WARNING"},
            # The development server's line per request; the app writes its own.
            "werkzeug": {"level": "WARNING"},
            # gunicorn's own loggers carry their own handlers; these take them back to ours.
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            # Its access lines are silenced: the app writes its own (without query strings,
            # which carry children's names).
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


def configure(log_format: str) -> None:
    logging.config.dictConfig(log_config(log_format))
