"""Declaring API operations once: the Flask route, the request-body check, the authentication
and the OpenAPI description all come from the same declaration, so the document served at
``/api/openapi.json`` matches the code."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, current_app, g, jsonify, request
from jsonschema import Draft202012Validator, FormatChecker

from engine.errors import FieldError, InvalidTaskData
from engine.identity.users import Principal
from engine.tasks.form_schemas import field_errors
from workflows.http.problems import Unauthorized

PROBLEM: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "validator": {"type": "string"},
                },
            },
        },
        "problems": {"type": "array", "items": {"type": "object"}},
        "element_id": {"type": ["string", "null"]},
        "line": {"type": ["integer", "null"]},
        "reason": {"type": "string"},
    },
}


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI style: /cases/{case_id}
    summary: str
    tag: str
    response: dict[str, Any] | None
    status: int = 200
    body: dict[str, Any] | None = None
    query: list[dict[str, Any]] = field(default_factory=list)
    errors: tuple[int, ...] = ()
    auth: bool = True
    content_type: str = "application/json"
    extra_request: dict[str, Any] | None = None


class Api:
    """A blueprint that remembers its operations for the OpenAPI document."""

    def __init__(self, blueprint: Blueprint, prefix: str) -> None:
        self.blueprint = blueprint
        self.prefix = prefix
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        response: dict[str, Any] | None,
        status: int = 200,
        body: dict[str, Any] | None = None,
        query: list[dict[str, Any]] | None = None,
        errors: tuple[int, ...] = (),
        auth: bool = True,
        content_type: str = "application/json",
        extra_request: dict[str, Any] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        op = Operation(
            method,
            path,
            summary,
            tag,
            response,
            status,
            body,
            query or [],
            errors,
            auth,
            content_type,
            extra_request,
        )
        self.operations.append(op)
        flask_path = path
        for name in _path_names(path):
            converter = PATH_PARAMETERS.get(name, ("string", {}))[0]
            flask_path = flask_path.replace(f"{{{name}}}", f"<{converter}:{name}>")

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def wrapped(**kwargs: Any) -> Any:
                if op.auth and getattr(g, "principal", None) is None:
                    raise Unauthorized("sign in or send a bearer token")
                _refuse_nul_characters(kwargs)
                if op.body is not None:
                    g.body = _checked_body(op.body)
                return view(**kwargs)

            self.blueprint.add_url_rule(
                flask_path, endpoint=view.__name__, view_func=wrapped, methods=[method.upper()]
            )
            return wrapped

        return decorate


def _refuse_nul_characters(path_values: dict[str, Any]) -> None:
    """A NUL character is never meaningful in case data and PostgreSQL cannot store it in text or
    JSON: refuse it wherever it comes in (path, query string, JSON body) with the field named."""
    errors = [
        FieldError(f"/{name}", "must not contain NUL characters", "characters")
        for name, value in [*path_values.items(), *request.args.items(multi=True)]
        if isinstance(value, str) and "\x00" in value
    ]
    if request.is_json:
        errors += [
            FieldError(pointer, "must not contain NUL characters", "characters")
            for pointer in _nul_pointers(request.get_json(silent=True), "")
        ]
    if errors:
        raise InvalidTaskData("the request contains NUL characters", errors)


def _nul_pointers(value: Any, pointer: str) -> Iterator[str]:
    if isinstance(value, str):
        if "\x00" in value:
            yield pointer or "/"
    elif isinstance(value, dict):
        for key, item in value.items():
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            if "\x00" in str(key):
                yield f"{pointer}/{escaped}"
            yield from _nul_pointers(item, f"{pointer}/{escaped}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_pointers(item, f"{pointer}/{index}")


def _checked_body(schema: dict[str, Any]) -> Any:
    data = request.get_json(silent=True)  # parsed once, shared with the NUL check
    if data is None:
        raise _not_json()
    errors = field_errors(schema, data)
    if errors:
        raise InvalidTaskData("the request body is not valid", errors)
    return data


def _not_json() -> InvalidTaskData:
    """Why the body is not JSON casework accepts. The app's JSON provider refuses what cannot be
    bounded or stored (NaN, infinities, lone surrogates, deep nesting) with a ValueError that
    says why; a silent get_json drops the reason, so the body is read again to find it."""
    if request.is_json:
        try:
            current_app.json.loads(request.get_data(cache=True))
        except ValueError as exc:
            return InvalidTaskData(
                f"the request body is not acceptable JSON: {exc}",
                [FieldError("/", str(exc), "json")],
            )
    return InvalidTaskData(
        "the request body must be JSON", [FieldError("/", "expected a JSON body", "type")]
    )


def principal() -> Principal:
    found: Principal | None = getattr(g, "principal", None)
    if found is None:
        raise Unauthorized("sign in or send a bearer token")
    return found


def query_param(
    name: str, kind: str = "string", description: str = "", **schema: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind, **schema},
    }


MAX_ID = 2**31 - 1  # the database's integer keys
UUID_PARAMETER = ("uuid", {"type": "string", "format": "uuid"})
INTEGER_PARAMETER = (f"int(max={MAX_ID})", {"type": "integer", "minimum": 1, "maximum": MAX_ID})
# How each path parameter is matched by Flask and described in the OpenAPI document.
PATH_PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "case_id": UUID_PARAMETER,
    "task_id": UUID_PARAMETER,
    "alert_id": UUID_PARAMETER,
    "entry_id": UUID_PARAMETER,
    "document_id": UUID_PARAMETER,
    "referral_id": UUID_PARAMETER,
    "person_id": UUID_PARAMETER,
    "subscription_id": UUID_PARAMETER,
    "version_id": INTEGER_PARAMETER,
    "delivery_id": INTEGER_PARAMETER,
    "path": ("path", {"type": "string", "minLength": 1}),
    "source_id": ("string", {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}),
}
LAST_PAGE = 1_000_000
MAX_PER_PAGE = 200
PAGE = [
    query_param("page", "integer", "page number, from 1", minimum=1, maximum=LAST_PAGE, default=1),
    query_param(
        "per_page", "integer", "items per page", minimum=1, maximum=MAX_PER_PAGE, default=50
    ),
]


def page_args() -> tuple[int, int, int]:
    """(page, per_page, offset) from the query string, checked."""
    errors = []
    values = {}
    for name, default, high in (("page", 1, LAST_PAGE), ("per_page", 50, MAX_PER_PAGE)):
        raw = request.args.get(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            errors.append(FieldError(f"/{name}", "must be an integer", "type"))
            continue
        if not 1 <= value <= high:
            errors.append(FieldError(f"/{name}", f"must be between 1 and {high}", "range"))
        values[name] = value
    if errors:
        raise InvalidTaskData("invalid paging", errors)
    return values["page"], values["per_page"], (values["page"] - 1) * values["per_page"]


def paged(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def paged_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": item},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
        },
    }


def openapi(
    apis: list[Api],
    title: str,
    version: str,
    webhooks: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of these operations; ``webhooks`` lists the requests casework
    sends to subscribers (topic -> body schema)."""
    spec = APISpec(title=title, version=version, openapi_version="3.1.0")
    spec.components.schema("Problem", PROBLEM)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    for api in apis:
        for op in api.operations:
            parameters = [
                {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
                for name in _path_names(op.path)
            ] + op.query
            responses: dict[str, Any] = {}
            if op.response is None:
                responses[str(op.status)] = {"description": "done"}
            else:
                media = (
                    "application/json" if op.content_type == "application/json" else op.content_type
                )
                responses[str(op.status)] = {
                    "description": "ok",
                    "content": {media: {"schema": op.response}},
                }
            problem_ref = {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
            # Anything that reads a body or a query string can answer 422 with field errors.
            checked_input = (422,) if op.body is not None or op.query else ()
            auth_errors = (401,) if op.auth else ()
            for status in sorted({*op.errors, *auth_errors, *checked_input, 400}):
                responses[str(status)] = {"description": "problem", "content": problem_ref}
            operation: dict[str, Any] = {
                "summary": op.summary,
                "tags": [op.tag],
                "operationId": f"{op.method}_{op.path}".replace("/", "_")
                .replace("{", "")
                .replace("}", ""),
                "parameters": parameters,
                "responses": responses,
            }
            if op.auth:
                operation["security"] = [{"bearer": []}, {"session": []}]
            if op.body is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": op.body}},
                }
            if op.extra_request is not None:
                operation["requestBody"] = op.extra_request
            spec.path(path=api.prefix + op.path, operations={op.method.lower(): operation})
    document = spec.to_dict()
    if webhooks:
        document["webhooks"] = {
            topic: {
                "post": {
                    "summary": schema["properties"]["data"].get("description", topic),
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": schema}},
                    },
                    "responses": {"2XX": {"description": "received"}},
                }
            }
            for topic, schema in webhooks.items()
        }
    return document


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _path_schema(name: str) -> dict[str, Any]:
    return PATH_PARAMETERS.get(name, ("string", {"type": "string", "minLength": 1}))[1]


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def ok(body: Any, status: int = 200) -> Response:
    """A JSON answer with its status."""
    response = jsonify(body)
    response.status_code = status
    return response
