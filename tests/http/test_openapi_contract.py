"""schemathesis against the served OpenAPI document: generated requests never cause a server
error, and every response matches its documented schema and status codes."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from http_support import Agency

# Driven programmatically rather than through schemathesis' pytest plugin: the schema needs the
# per-test agency (database, app) and the plugin cannot build its items under importlib mode.
EXAMPLES_PER_OPERATION = 15
# A schema-valid body can still be refused with 422 for what a schema cannot say (an allegation's
# victim must be one of the report's children, a task must be open): that is the documented
# contract, so only the acceptance check is left out; status codes, schemas and 5xx stay checked.
SEMANTIC_CHECKS = [schemathesis.checks.positive_data_acceptance]


def test_every_operation_keeps_its_contract(agency: Agency) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", agency.app)
    headers = agency.headers("sue")
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples every run: a failure reproduces
            suppress_health_check=list(HealthCheck),
        )
        def keeps_contract(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=SEMANTIC_CHECKS)

        keeps_contract()  # a failure names the operation in its reproducing curl command
        checked += 1
    routes = {
        (rule.rule, method)
        for rule in agency.app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert checked == len(routes), "the OpenAPI document lists every /api/v1 route"
