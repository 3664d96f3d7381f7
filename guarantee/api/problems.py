"""RFC 9457 problem documents for every error on an API path, in the caller's language.

The ``title``, the ``detail`` and each field's messages are said in the language the request asks
for (``Accept-Language``; guarantee.i18n chooses it and sets ``Content-Language``); the ``type``,
the ``status``, the field names and the codes (``allowed_triggers``) are the same in every language.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, jsonify, request

from guarantee.api.field_messages import in_words
from guarantee.i18n import say, say_all
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
from workflows.words import N_

PROBLEM_JSON = "application/problem+json"
API_PATHS = ("/api/", "/openapi.json")
# Headers an error keeps from the exception that caused it.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "ETag")

DETAILS = {
    400: N_("The request could not be read. Send a JSON body that matches the API description at /openapi.json."),
    401: N_("Send a bearer token: a claim's tracking token, or an officer token from POST /api/v1/tokens."),
    404: N_("There is nothing at this address. The API description is at /openapi.json."),
    405: N_("This address does not accept that method; the Allow header lists the ones it does."),
    413: N_("The request is too large."),
    415: N_("Send the request body as JSON, with Content-Type: application/json."),
    429: N_("Too many requests. Wait a little (see Retry-After) and try again."),
    500: N_("Something went wrong on our side. Nothing you sent was saved by this request; please try again later."),
}
# Each error status's phrase (the title), and its description where no detail above says more: the
# English is Python's own (http.HTTPStatus), marked here so that it is said in the caller's language.
TITLES: dict[int, str] = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    402: N_("Payment Required"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    407: N_("Proxy Authentication Required"),
    408: N_("Request Timeout"),
    409: N_("Conflict"),
    410: N_("Gone"),
    411: N_("Length Required"),
    412: N_("Precondition Failed"),
    413: N_("Request Entity Too Large"),
    414: N_("Request-URI Too Long"),
    415: N_("Unsupported Media Type"),
    416: N_("Requested Range Not Satisfiable"),
    417: N_("Expectation Failed"),
    418: N_("I'm a Teapot"),
    421: N_("Misdirected Request"),
    422: N_("Unprocessable Entity"),
    423: N_("Locked"),
    424: N_("Failed Dependency"),
    425: N_("Too Early"),
    426: N_("Upgrade Required"),
    428: N_("Precondition Required"),
    429: N_("Too Many Requests"),
    431: N_("Request Header Fields Too Large"),
    451: N_("Unavailable For Legal Reasons"),
    500: N_("Internal Server Error"),
    501: N_("Not Implemented"),
    502: N_("Bad Gateway"),
    503: N_("Service Unavailable"),
    504: N_("Gateway Timeout"),
    505: N_("HTTP Version Not Supported"),
    506: N_("Variant Also Negotiates"),
    507: N_("Insufficient Storage"),
    508: N_("Loop Detected"),
    510: N_("Not Extended"),
    511: N_("Network Authentication Required"),
}
DESCRIPTIONS: dict[int, str] = {
    402: N_("No payment -- see charging schemes"),
    403: N_("Request forbidden -- authorization will not help"),
    406: N_("URI not available in preferred format"),
    407: N_("You must authenticate with this proxy before proceeding"),
    408: N_("Request timed out; try again later"),
    409: N_("Request conflict"),
    410: N_("URI no longer exists and has been permanently removed"),
    411: N_("Client must specify Content-Length"),
    412: N_("Precondition in headers is false"),
    414: N_("URI is too long"),
    416: N_("Cannot satisfy request range"),
    417: N_("Expect condition could not be satisfied"),
    418: N_("Server refuses to brew coffee because it is a teapot."),
    421: N_("Server is not able to produce a response"),
    428: N_("The origin server requires the request to be conditional"),
    431: N_("The server is unwilling to process the request because its header fields are too large"),
    451: N_("The server is denying access to the resource as a consequence of a legal demand"),
    501: N_("Server does not support this operation"),
    502: N_("Invalid responses from another server/proxy"),
    503: N_("The server cannot process the request due to a high load"),
    504: N_("The gateway server did not receive a timely response"),
    505: N_("Cannot fulfill request"),
    511: N_("The client needs to authenticate to gain network access"),
}


def is_api_request() -> bool:
    return request.path.startswith(API_PATHS)


def problem(status: int, detail: str | None = None, headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    """A problem document, its texts said in the request's language (``detail`` and the messages
    of ``errors``: marked texts, ``Words``, or marshmallow's own messages)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": say(TITLES.get(status) or HTTPStatus(status).phrase),
        "status": status,
        "detail": say(detail or DETAILS.get(status) or DESCRIPTIONS.get(status) or HTTPStatus(status).description),
        **extra,
    }
    if "errors" in extra:
        body["errors"] = say_all(
            {field: [in_words(m) for m in messages] for field, messages in extra["errors"].items()}
        )
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
