"""A real casework server on the shipped process with password users, and Debian's Chromium
driven by Playwright. The server's clock is the tests' manual clock: nothing waits on time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from conftest import ROOT
from database_templates import AGENCY_SET_UP_AT
from engine.context import EngineContext
from engine.deadlines.timers import TimerPolicy
from http_support import password_of
from workflows.app import create_app
from workflows.bootstrap import Services
from workflows.settings import Settings

CHROMIUM = "/usr/bin/chromium"  # Debian's package, installed by `make test`; never downloaded
# How long a page may take to show what a test expects. A deploy checks the whole bundle (its
# scenarios and validation's walk), which on a loaded two-core machine, with the PostgreSQL
# tests running beside these, has taken more than Playwright's default 5 s.
expect.set_options(timeout=20_000)
ARTIFACTS = ROOT / "test-artifacts" / "browser"


@dataclass
class Site:
    base: str
    ctx: EngineContext


@pytest.fixture
def site(ctx: EngineContext, database_url: str, tmp_path: Path) -> Iterator[Site]:
    # The database is a copy of the agency's (database_templates): people have passwords.
    ctx.clock.move_to(AGENCY_SET_UP_AT)  # type: ignore[attr-defined]
    settings = Settings.from_env(
        {"CASEWORK_DATABASE_URL": database_url, "CASEWORK_DATA_DIR": str(tmp_path / "var")}
    )
    app = create_app(settings, Services(settings, ctx, TimerPolicy()))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    # A request a page still had in flight when its test ended is finished, and gives its
    # database connection back, before the database is disposed of.
    httpd.daemon_threads = False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{httpd.server_port}", ctx)
    httpd.shutdown()
    httpd.server_close()  # joins the request threads
    thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs Debian's package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


class Person:
    """One signed-in user's browser tab, with the page's console errors collected."""

    def __init__(self, browser: Browser, site: Site, user: str) -> None:
        self.user = user
        self.site = site
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.expected: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.goto(f"{site.base}/sign-in")
        self.page.fill("#user", user)
        self.page.fill("#password", password_of(user))
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/sign-in" not in url)

    def _console(self, message: Any) -> None:
        # A refused form answers 422 with the page redrawn: the browser logs that status, and
        # it is the expected outcome, not a fault of the page.
        # dmn-js's published bundle carries Inferno's development-build notice (logged as an
        # error by Inferno itself); it is the library's, not the page's.
        known = ("status of 422", "development build of Inferno", *self.expected)
        if message.type == "error" and not any(k in message.text for k in known):
            self.errors.append(message.text)

    def expect_refusals(self, *statuses: int) -> None:
        """A test that visits what it may not: those answers are the point, not page faults."""
        self.expected += [f"status of {status}" for status in statuses]

    def go(self, path: str) -> Page:
        self.page.goto(f"{self.site.base}{path}")
        return self.page

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def sign_in(browser: Browser, site: Site) -> Iterator[Any]:
    people: list[Person] = []

    def open_as(user: str) -> Person:
        person = Person(browser, site, user)
        people.append(person)
        return person

    yield open_as
    for person in people:
        assert person.errors == [], f"{person.user}'s pages logged errors: {person.errors}"
        person.close()
