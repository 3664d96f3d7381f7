"""The JSON API under /api/v1, its OpenAPI 3.1 document at /openapi.json and docs at /api/docs."""

from __future__ import annotations

import http
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from guarantee.api import auth, claims, decisions, docs, evidence, tokens, workflow
from guarantee.api.field_messages import in_words
from guarantee.api.problems import KEPT_HEADERS, PROBLEM_JSON, flatten, from_service_error, is_api_request, problem
from guarantee.pages import html_error
from guarantee.schemas.claims import regulation_field_properties
from guarantee.schemas.common import ProblemSchema
from guarantee.services.errors import ServiceError, joined
from guarantee.statistics import api as statistics_api
from workflows.words import N_, words

BLUEPRINTS = (claims.blp, evidence.blp, tokens.blp, workflow.blp, statistics_api.blp, decisions.blp)
JSON_BODY_METHODS = ("POST", "PUT", "PATCH")

SPEC_DESCRIPTION = """\
The Co-production Guarantee by program: file a claim, follow it with its tracking token, and
(for officers) work it through the workflow. Errors are `application/problem+json` (RFC 9457).

Two kinds of bearer token: a claim's **tracking token** (returned once by `POST /api/v1/claims`)
opens that one claim in the group's view; an **officer token** (from `POST /api/v1/tokens`)
opens the officers' view, as far as the officer's roles allow.
"""


class GuaranteeApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with RFC 9457 problems on API paths and HTML errors elsewhere, whose
    OpenAPI document is written when it is first asked for.

    Describing every operation (marshmallow schemas resolved into the document) was more than half
    of making an app, paid again by every gunicorn worker, CLI command and test, and read only by
    GET /openapi.json, ``flask openapi`` and the tests. The routes are registered at once; each
    blueprint's part of the document is added, in the order registered, by ``spec.to_dict()``'s
    first call: the document is the same, key for key."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask) -> None:
        self._undocumented: list[Callable[[], None]] = []
        super().__init__(app)
        written = self.spec.to_dict
        writing = threading.Lock()  # two threads' first requests must not describe an operation twice

        def to_dict() -> dict[str, Any]:
            with writing:
                while self._undocumented:
                    self._undocumented.pop(0)()
            document: dict[str, Any] = written()
            return document

        self.spec.to_dict = to_dict

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """flask-smorest's register_blueprint, with the blueprint's documentation put off."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        app = self._app

        def document() -> None:
            blp.register_views_in_doc(self, app, self.spec, name=name, parameters=parameters)
            self.spec.tag({"name": name, "description": blp.description})

        self._undocumented.append(document)

    def document_later(self, document: Callable[[], None]) -> None:
        """Add to the OpenAPI document, after what is already put off, when it is first written."""
        self._undocumented.append(document)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default: dict[str, Any] = {"description": "An error, as a problem document", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not is_api_request():
            return html_error(error)  # pages get HTML error pages
        status = error.code or 500
        headers = {k: v for k, v in error.get_headers() if k in KEPT_HEADERS}
        data = getattr(error, "data", None) or {}
        headers.update(data.get("headers") or {})
        messages = data.get("messages")
        if status == 422 and messages:
            # webargs nests by location ({"json": {...}}); name fields in the body's own terms.
            fields = flatten(
                {k: v for loc in messages.values() for k, v in (loc.items() if isinstance(loc, dict) else {})}
            )
            return problem(422, N_("Some fields need correcting: see errors."), headers, errors=fields)
        if status == 400 and messages:
            detail = joined([in_words(m) for msgs in flatten(messages).values() for m in msgs], "; ")
            return problem(400, words("The request could not be read: %(detail)s", detail=detail), headers)
        return problem(status, None, headers)


def _require_json() -> Response | None:
    """Every write takes a JSON body: 400 without one, 415 for anything else."""
    if request.method not in JSON_BODY_METHODS:
        return None
    if not (request.content_length or request.headers.get("Transfer-Encoding")):
        return problem(
            400, N_("This request needs a JSON body. The API description at /openapi.json shows what to send.")
        )
    if not request.is_json:
        abort(415)
    return None


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "guarantee")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": SPEC_DESCRIPTION},
        },
    )
    api = GuaranteeApi(app)
    app.extensions["guarantee.api"] = api
    api.ma_plugin.converter.add_attribute_function(regulation_field_properties)
    api.spec.components.security_scheme(
        auth.TRACKING_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "A claim's tracking token: that claim, group's view"},
    )
    api.spec.components.security_scheme(
        auth.OFFICER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An officer token from POST /api/v1/tokens. Where an operation lists roles with it, "
            "the officer needs one of them.",
        },
    )
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.document_later(lambda: decisions.document_feed(api.spec))
    app.register_blueprint(docs.bp)
    names = {blueprint.name for blueprint in BLUEPRINTS}
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint.partition(".")[0] in names and not hasattr(view, auth.DECLARED_SECURITY)
    ]
    if undeclared:  # auth.check_caller would refuse them all; say so before serving anything
        raise RuntimeError(f"API operations that do not declare who may call them: {', '.join(undeclared)}")


def _service_error(error: ServiceError) -> Response:
    return from_service_error(error)


# Blueprints are set up once, when this module is imported; each app only registers them. These
# checks of the body come after auth.check_caller, which each Blueprint registers first.
for _blueprint in BLUEPRINTS:
    if _blueprint is not evidence.blp:  # uploads are multipart; it checks its own bodies
        _blueprint.before_request(_require_json)
    _blueprint.register_error_handler(ServiceError, _service_error)
