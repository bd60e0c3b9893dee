"""A log line per request, with the user and a request id the response carries back; and
`casework serve` with ``CASEWORK_LOG_FORMAT=json`` writing nothing but JSON lines, gunicorn's
own included."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from http_support import Agency
from tests.http.test_health import free_port


def _entries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "casework.request"]


def test_each_request_is_logged_with_its_user_status_and_the_callers_id(
    agency: Agency, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="casework.request")

    response = agency.get("ivy", "/api/v1/cases?text=Lia", headers={"X-Request-Id": "hotline-42"})

    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "hotline-42"
    [entry] = _entries(caplog)
    assert (entry.method, entry.path, entry.status, entry.user) == (  # type: ignore[attr-defined]
        "GET",
        "/api/v1/cases",  # no query string: searches carry children's names
        200,
        "ivy",
    )
    assert entry.request_id == "hotline-42"  # type: ignore[attr-defined]
    assert entry.ms > 0  # type: ignore[attr-defined]
    assert "Lia" not in entry.getMessage()


def test_a_path_no_route_matched_is_not_logged_and_none_can_forge_a_line(
    agency: Agency, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="casework.request")

    agency.get("ivy", "/api/v1/people/Lia%20Smith%0A2026%20INFO%20forged")
    # A route whose last segment is free text: matched, with a newline in it.
    agency.post("ivy", "/api/v1/messages/court%0Aorder", {})

    unmatched, matched = _entries(caplog)
    assert unmatched.path == "(no route)"  # type: ignore[attr-defined]
    assert "Lia" not in unmatched.getMessage()
    assert matched.path == r"/api/v1/messages/court\norder"  # type: ignore[attr-defined]
    assert "\n" not in matched.getMessage()


@pytest.mark.parametrize("sent", [None, "two words", "x" * 101])
def test_a_missing_or_implausible_id_is_replaced_by_a_new_one(
    agency: Agency, caplog: pytest.LogCaptureFixture, sent: str | None
) -> None:
    caplog.set_level(logging.INFO, logger="casework.request")
    headers = {"X-Request-Id": sent} if sent is not None else {}

    response = agency.get(None, "/api/v1/cases", headers=headers)

    assert response.status_code == 401
    given = response.headers["X-Request-Id"]
    assert len(given) == 32 and int(given, 16) >= 0
    [entry] = _entries(caplog)
    assert (entry.request_id, entry.status, entry.user) == (given, 401, None)  # type: ignore[attr-defined]


def test_casework_serve_logs_only_json_lines_when_asked(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CASEWORK_DATABASE_URL": database_url,
        "CASEWORK_DATA_DIR": str(tmp_path / "var"),
        "CASEWORK_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "workflows", "serve", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        assert server.stderr is not None
        for line in server.stderr:  # blocks until gunicorn says it listens
            lines.append(line)
            if "Listening at" in line:
                break
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz?name=Lia", headers={"X-Request-Id": "probe-1"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    finally:
        server.terminate()
        _, rest = server.communicate(timeout=30)
    lines += rest.splitlines()

    entries = [json.loads(line) for line in lines if line.strip()]  # each line is JSON
    loggers = {entry["logger"] for entry in entries}
    assert {"gunicorn.error", "casework.request"} <= loggers
    assert "gunicorn.access" not in loggers  # one line per request, and no query strings
    assert not [line for line in lines if "Lia" in line]
    [served] = [e for e in entries if e["logger"] == "casework.request"]
    assert served["path"] == "/healthz"
    assert served["status"] == 200
    assert served["request_id"] == "probe-1"
    assert {"at", "level", "message"} <= set(served)
    assert served["level"] == "info"
