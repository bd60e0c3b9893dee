"""A method a route does not take is 405 with the Allow header RFC 9110 requires, naming
exactly the methods the route takes: on every route of the app, API and pages alike, over a
real server."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict

import requests
from flask import Flask

from http_support import Agency

CANDIDATES = ("DELETE", "PATCH", "PUT", "POST")
# <converter(arguments):name> or <name> in a Flask rule, and a value each converter matches.
VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
SAMPLE = {"uuid": str(uuid.uuid4()), "int": "7", "path": "forms/a.json", "string": "court"}


def methods_by_path(app: Flask) -> dict[str, set[str]]:
    """Each rule as a concrete path, with the methods of every rule sharing its pattern (two
    rules may serve one path, e.g. a list's GET and its POST)."""
    methods: dict[str, set[str]] = defaultdict(set)
    for rule in app.url_map.iter_rules():
        path = VARIABLE.sub(lambda m: SAMPLE[m["converter"] or "string"], rule.rule)
        methods[path] |= rule.methods or set()
    return methods


def test_every_route_answers_405_with_allow_naming_its_methods(agency: Agency, server: str) -> None:
    routes = methods_by_path(agency.app)
    assert len(routes) > 60  # the API and the pages, not an empty map
    wrong = {}
    with requests.Session() as browser:
        for path, allowed in sorted(routes.items()):
            method = next(m for m in CANDIDATES if m not in allowed)
            answer = browser.request(method, server + path, timeout=30)
            said = {m.strip() for m in answer.headers.get("Allow", "").split(",") if m.strip()}
            if answer.status_code != 405 or said != allowed:
                wrong[f"{method} {path}"] = (answer.status_code, sorted(said), sorted(allowed))

    assert wrong == {}
