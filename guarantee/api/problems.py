"""RFC 9457 problem documents for every error on an API path."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, jsonify, request

from guarantee.services.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    TooManyAttempts,
    TriggerNotAllowed,
    ValidationFailed,
)
from guarantee.services.storage import StorageUnavailable
from guarantee.services.tokens import AuthenticationFailed

PROBLEM_JSON = "application/problem+json"
API_PATHS = ("/api/", "/openapi.json")
# Headers an error keeps from the exception that caused it.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "ETag")

DETAILS = {
    400: "The request could not be read. Send a JSON body that matches the API description at /openapi.json.",
    401: "Send a bearer token: a claim's tracking token, or an officer token from POST /api/v1/tokens.",
    404: "There is nothing at this address. The API description is at /openapi.json.",
    405: "This address does not accept that method; the Allow header lists the ones it does.",
    413: "The request is too large.",
    415: "Send the request body as JSON, with Content-Type: application/json.",
    429: "Too many requests. Wait a little (see Retry-After) and try again.",
    500: "Something went wrong on our side. Nothing you sent was saved by this request; please try again later.",
}


def is_api_request() -> bool:
    return request.path.startswith(API_PATHS)


def problem(status: int, detail: str | None = None, headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or DETAILS.get(status, HTTPStatus(status).description),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow/webargs messages as {dotted.path: [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or ""
            for sub, msgs in flatten(value, path).items():
                flat.setdefault(sub, []).extend(msgs)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix] = [str(messages)]
    return flat


def from_service_error(error: ServiceError) -> Response:
    if isinstance(error, ValidationFailed):
        return problem(422, error.message, errors=error.errors)
    if isinstance(error, AuthenticationFailed):
        return problem(401, error.message, headers={"WWW-Authenticate": 'Bearer realm="guarantee"'})
    if isinstance(error, NotFound):
        return problem(404, error.message)
    if isinstance(error, Forbidden):
        return problem(403, error.message)
    if isinstance(error, TriggerNotAllowed):
        return problem(409, error.message, allowed_triggers=list(error.allowed))
    if isinstance(error, Conflict):
        return problem(409, error.message)
    if isinstance(error, TooManyAttempts):
        return problem(429, error.message, headers={"Retry-After": "900"})
    if isinstance(error, StorageUnavailable):
        return problem(503, error.message, headers={"Retry-After": "60"})
    return problem(400, error.message)
