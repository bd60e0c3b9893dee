"""``/healthz`` through the test client, and ``casework run`` as a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import FIXTURES
from workflows.app import create_app, services_of
from workflows.settings import Settings


def test_healthz_reports_a_reachable_database(database_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env({"CASEWORK_DATABASE_URL": database_url})
    app = create_app(settings)

    response = app.test_client().get("/healthz")
    services_of(app).ctx.db.dispose()

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    app = create_app(Settings.from_env({"CASEWORK_DATABASE_URL": url}))

    response = app.test_client().get("/healthz")
    services_of(app).ctx.db.dispose()

    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_casework_run_migrates_deploys_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CASEWORK_DATA_DIR": str(tmp_path / "var"),
        "CASEWORK_BPMN_DIR": str(FIXTURES / "phases"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CASEWORK_DATABASE_URL", None)
    command = [sys.executable, "-m", "workflows", "run", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        printed = []
        for line in server.stdout:  # blocks until the server says where it listens
            printed.append(line)
            if "running at" in line:
                break
        assert f"http://127.0.0.1:{port}/" in printed[-1], printed
        assert any("definitions: version 1 (intake, investigation)" in p for p in printed)

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            body = json.load(response)

        assert body == {"status": "ok", "database": "ok"}
        assert (tmp_path / "var" / "casework.sqlite3").is_file()
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()
