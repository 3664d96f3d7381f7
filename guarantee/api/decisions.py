"""/api/v1/decisions: the decision register as open data (issue 20), JSON in keyset pages or
every matching statement as CSV. Anonymised and public: no token needed."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app, jsonify, url_for
from werkzeug.routing import Rule

from guarantee.api.parser import Blueprint
from guarantee.api.problems import problem
from guarantee.context import service_context
from guarantee.schemas.decisions import DecisionArgs, DecisionPageSchema
from guarantee.services import register, register_open_data
from guarantee.services.context import ServiceContext

blp = Blueprint("decisions_api", __name__, url_prefix="/api/v1", description="The decision register, as open data")

MAX_AGE = 60
CSV_RESPONSE = {
    200: {
        "description": "Every shown statement matching the filters, newest first, with a header row",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def _filters(args: dict[str, str]) -> register.Filters:
    return register.Filters(
        rule=args["rule"], category=args["category"], area=args["region"], outcome=args["outcome"], year=args["year"]
    )


def _read(ctx: ServiceContext, args: dict[str, str], *, every: bool) -> register.Register:
    try:
        return register.read_register(
            ctx.session,
            _filters(args),
            k=int(current_app.config["GUARANTEE_REGISTER_MIN_CLAIMS"]),
            cursor=None if every else args["cursor"] or None,
            page_size=None if every else register.PAGE_SIZE,
            today=ctx.today(),
            cache_seconds=float(current_app.config["GUARANTEE_REGISTER_CACHE_SECONDS"]),
        )
    finally:
        ctx.rollback()


@blp.route("/decisions", methods=["GET"])
@blp.arguments(DecisionArgs, location="query", unknown=ma.RAISE)
@blp.response(200, DecisionPageSchema)
@blp.doc(operationId="listDecisions", security=[])
@blp.problems(400, 422)
def decisions_json(args: dict[str, str]) -> Response:
    """The shown decision statements, newest first, a page at a time

    Filters match what is shown (a coarsened region matches its nation, not the region). A bad
    cursor is refused with 400.
    """
    try:
        found = _read(service_context(), args, every=False)
    except register.BadCursor as refused:
        return problem(400, refused.summary)
    filters: dict[str, Any] = {**_filters(args).as_args(), "cursor": found.next_cursor}
    body: dict[str, Any] = {
        "statements": [register_open_data.as_record(s) for s in found.statements],
        "matching": found.matching,
        "held_back": found.held_back,
        "min_claims": found.k,
        "next": url_for("decisions_api.decisions_json", **filters) if found.next_cursor else None,
    }
    response = jsonify(DecisionPageSchema().dump(body))
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


@blp.route("/decisions.csv", methods=["GET"])
@blp.arguments(DecisionArgs, location="query", unknown=ma.RAISE)
@blp.doc(operationId="downloadDecisionsCsv", security=[], responses=CSV_RESPONSE)
@blp.problems(400, 422)
def decisions_csv(args: dict[str, str]) -> Response:
    """Every shown decision statement matching the filters, as CSV"""
    found = _read(service_context(), args, every=True)
    response = Response(register_open_data.as_csv(found.statements), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="guarantee-decisions.csv"'
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


FEED_PATH = {
    "get": {
        "operationId": "decisionsFeed",
        "summary": "The decision register as an Atom feed (RFC 4287)",
        "description": "Every shown statement, newest first; a withdrawn one is an entry that says so. With ?rule=, "
        "one rule's statements (its slug; 404 if there is no such rule). Links are absolute, from the service's address.",
        "tags": ["decisions_api"],
        "security": [],
        "parameters": [
            {"in": "query", "name": "rule", "required": False, "schema": {"type": "string", "maxLength": 80}}
        ],
        "responses": {
            "200": {"description": "The feed", "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
            # Pages' errors are HTML pages, not problem documents: described, without a schema.
            "400": {"description": "The address held a character that cannot be stored (an HTML page)"},
            "404": {"description": "No rule has this slug (an HTML page)"},
        },
    }
}


def document_feed(spec: Any) -> None:
    """The feed is a page of the register blueprint, not of the API: describe it here, beside the JSON and CSV."""
    spec.path(rule=Rule("/decisions.atom"), operations=FEED_PATH)
