"""/metrics tells how much work an agency has and how late it is: by default only a scraper on
the same machine reads it, or one bearing the metrics token; anyone else gets the 404 of a path
that does not exist. CASEWORK_METRICS_PUBLIC=true opens it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.deadlines.timers import TimerPolicy
from http_support import Agency
from workflows.app import create_app
from workflows.bootstrap import Services
from workflows.settings import Settings

TOKEN = "scraper-token-for-tests"
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}
Configured = Callable[..., FlaskClient]


@pytest.fixture
def configured(agency: Agency, database_url: str, tmp_path: Path) -> Configured:
    """A client of the app started with these CASEWORK_* variables (on the agency's database)."""

    def client(**variables: str) -> FlaskClient:
        env = {"CASEWORK_DATABASE_URL": database_url, "CASEWORK_DATA_DIR": str(tmp_path / "var")}
        settings = Settings.from_env({**env, **variables})
        return create_app(settings, Services(settings, agency.ctx, TimerPolicy())).test_client()

    return client


def is_metrics(answer: TestResponse) -> bool:
    return answer.status_code == 200 and b"casework_timers" in answer.data


def assert_not_found_like_any_unknown_path(answer: TestResponse, client: FlaskClient) -> None:
    unknown = client.get("/no-such-page", environ_base=ELSEWHERE)
    assert answer.status_code == 404
    assert answer.content_type == "application/problem+json"
    assert answer.json == unknown.json


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_a_scraper_on_this_machine_reads_metrics(configured: Configured, address: str) -> None:
    client = configured()

    assert is_metrics(client.get("/metrics", environ_base={"REMOTE_ADDR": address}))


def test_anyone_else_is_not_told_metrics_exist(configured: Configured) -> None:
    client = configured()

    answer = client.get("/metrics", environ_base=ELSEWHERE)

    assert_not_found_like_any_unknown_path(answer, client)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_a_request_relayed_by_a_proxy_on_this_machine_is_not_local(
    configured: Configured, header: str
) -> None:
    client = configured()

    answer = client.get(
        "/metrics", headers={header: "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )

    assert_not_found_like_any_unknown_path(answer, client)


def test_the_metrics_token_lets_a_scraper_read_from_anywhere(configured: Configured) -> None:
    client = configured(CASEWORK_METRICS_TOKEN=TOKEN)

    bearing = client.get(
        "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, environ_base=ELSEWHERE
    )
    wrong = client.get(
        "/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}, environ_base=ELSEWHERE
    )

    assert is_metrics(bearing)
    assert_not_found_like_any_unknown_path(wrong, client)


def test_without_a_metrics_token_no_bearer_token_opens_metrics(
    configured: Configured, agency: Agency
) -> None:
    client = configured()

    # Not even a user's API token: the figures are for scrapers, by the agency's setting.
    answer = client.get("/metrics", headers=agency.headers("alex"), environ_base=ELSEWHERE)

    assert_not_found_like_any_unknown_path(answer, client)


def test_public_metrics_answer_anyone(configured: Configured) -> None:
    client = configured(CASEWORK_METRICS_PUBLIC="true")

    assert is_metrics(client.get("/metrics", environ_base=ELSEWHERE))


def test_a_real_connection_from_loopback_reads_metrics(server: str) -> None:
    answer = requests.get(f"{server}/metrics", timeout=30)

    assert answer.status_code == 200
    assert "casework_timers" in answer.text
