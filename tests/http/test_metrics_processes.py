"""/metrics adds up every process's figures: `casework serve` with two gunicorn workers counts
each request once, whichever worker served it and whichever answers the scrape; a worker
process's timers fired appear beside them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path

from http_support import RECORD_REPORT, Agency, hotline_report
from tests.http.test_health import free_port
from workflows.scheduler import tick_timers

REQUESTS = 12


def counted(text: str) -> float:
    """The health checks the scrape counts, over every status line."""
    return sum(
        float(value)
        for value in re.findall(
            r'^casework_http_requests_total\{[^}]*endpoint="health.healthz"[^}]*\} (\S+)$',
            text,
            re.M,
        )
    )


def test_two_web_workers_add_up_at_every_scrape(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "CASEWORK_DATABASE_URL": database_url,
        "CASEWORK_DATA_DIR": str(tmp_path / "var"),
        "CASEWORK_METRICS_DIR": str(metrics_dir),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "workflows", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        booted = 0
        for line in server.stderr:  # blocks until both workers have started
            booted += "Booting worker" in line
            if booted == 2:
                break
        base = f"http://127.0.0.1:{port}"
        # One worker takes a request that has not finished arriving and waits for the rest:
        # meanwhile the other serves everything else. Then the first one's request ends.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as held:
            held.sendall(b"GET /healthz HTTP/1.0\r\n")
            for _ in range(REQUESTS - 1):
                with urllib.request.urlopen(f"{base}/healthz", timeout=30) as answer:
                    assert answer.status == 200
            held.sendall(b"\r\n")
            assert held.makefile("rb").readline().startswith(b"HTTP/1.0 200")
        scrapes = []
        for _ in range(6):
            with urllib.request.urlopen(f"{base}/metrics", timeout=30) as answer:
                scrapes.append(counted(answer.read().decode()))
        # Both workers served and wrote their counts; every scrape adds them all up.
        writers = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
        assert len(writers) == 2, sorted(metrics_dir.iterdir())
        assert scrapes == [REQUESTS] * 6
    finally:
        server.terminate()
        server.communicate(timeout=30)


def fired(text: str) -> float:
    found = re.search(r"^casework_timers_fired_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_the_timers_a_tick_fires_are_counted_at_metrics(agency: Agency) -> None:
    """`casework run`, one process: its scheduler's figures are on the app's /metrics."""
    filed = agency.post("sam", "/api/v1/intakes", hotline_report()).json["id"]
    [task] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={filed}").json["items"]
    done = agency.post("sam", f"/api/v1/tasks/{task['id']}/complete", RECORD_REPORT)
    assert done.status_code == 200, done.json
    before = fired(agency.client.get("/metrics").get_data(as_text=True))
    # The first contact's window (24 hours for this report) has passed.
    agency.ctx.clock.move_to(agency.ctx.clock.now() + timedelta(days=3))  # type: ignore[attr-defined]
    tick_timers(agency.app.extensions["casework"], "test")
    after = fired(agency.client.get("/metrics").get_data(as_text=True))
    assert after - before >= 1
