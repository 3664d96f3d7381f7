"""/api/v1/claims: file, read, list, fire triggers, assign, classify, note, audit trail.

Views are thin: they parse, call one service inside one transaction, and serialise.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import Response, current_app, jsonify, request, url_for

from guarantee.api import auth
from guarantee.api.auth import GROUP_OR_OFFICER, OFFICER, PUBLIC, officer_with
from guarantee.api.idempotent import run_once, run_once_for
from guarantee.api.parser import Blueprint
from guarantee.api.problems import problem
from guarantee.context import service_context, unit_of_work
from guarantee.extensions import limiter
from guarantee.i18n import ENGLISH, current_language
from guarantee.schemas.claims import (
    AssignmentInput,
    AuditTrailSchema,
    ClaimListArgs,
    ClaimPageSchema,
    ClaimSchema,
    ClassificationInput,
    NoteInput,
    NoteSchema,
    SubmissionSchema,
    SubmittedSchema,
    TransitionSchema,
)
from guarantee.services import casework, reading
from guarantee.services.actors import Actor
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import StaleClaim
from guarantee.services.idempotency import StoredResponse

blp = Blueprint("claims", __name__, url_prefix="/api/v1/claims", description="Claims and their workflow")

ETAG_HEADER = {"ETag": {"description": "The claim's version; send it back in If-Match", "schema": {"type": "string"}}}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Any unique string (a UUID). A retry with the same key and body returns the first response "
    "and does nothing again; the same key with another body is refused (422). Kept for 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": "The ETag you last saw. If the claim has changed since, nothing is done and you get 412.",
    "schema": {"type": "string"},
}
REFERENCE_PARAMETER = {
    "in": "path",
    "name": "reference",
    "required": True,
    "description": "The claim's reference",
    "schema": {"type": "string", "pattern": r"^CPG-\d{4}-\d{6}$", "example": "CPG-2026-000001"},
}
_ETAG = re.compile(r'^"v(\d{1,9})(?:-cy)?"$')

# One example request per trigger, for the document and for people reading it.
TRIGGER_EXAMPLES: dict[str, dict[str, Any]] = {
    "accept": {"category": "food_hygiene", "regulation": 3, "assignee": 7},
    "decline": {
        "reason_code": "duplicate",
        "explanation": "The same barrier is in claim CPG-2026-000101.",
        "duplicate_of": "CPG-2026-000101",
    },
    "request_information": {"question": "How many volunteers cook each week, and what training do they have?"},
    "provide_information": {"answer": "Twelve volunteers; all hold a level 2 food hygiene certificate."},
    "information_lapsed": {},
    "uphold": {"reasons": "The rule was applied more strictly than the law requires.", "remedy": "waiver"},
    "not_uphold": {
        "reasons": "The rule protects children and applies to every nursery.",
        "reason_code": "regulation_necessary_and_proportionate",
    },
    "appeal": {"grounds": "The decision did not consider that a qualified lead is always present."},
    "appeal_window_closed": {},
    "allow_appeal": {"reasons": "The panel finds the rule disproportionate here.", "remedy": "guidance_clarified"},
    "dismiss_appeal": {"reasons": "The panel agrees with the original decision."},
    "record_resolution": {"outcome": "waiver_granted", "summary": "The council granted a twelve-month waiver."},
    "withdraw": {"reason": "We found another venue."},
    "reopen": {"justification": "The group sent new evidence by post."},
}


def etag(version: int) -> str:
    """The claim's version as an ETag; a body in Welsh (its labels said in Welsh) has one of its
    own, so that a copy kept in one language is never taken for the other's. If-Match takes both."""
    language = current_language()
    return f'"v{version}"' if language == ENGLISH else f'"v{version}-{language}"'


def _claim_response(ctx: ServiceContext, reference: str, actor: Actor, status: int = 200) -> StoredResponse:
    claim, view = reading.read_claim(ctx, reference, actor)
    return StoredResponse(status, ClaimSchema().dump(view), {"ETag": etag(claim.version)})


def _expected_version() -> frozenset[int] | None:
    """The versions If-Match lists (RFC 9110 13.1.1: any of them matches): None for no header or
    *, none at all when nothing in it is one of our ETags."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    return frozenset(int(found.group(1)) for c in header.split(",") if (found := _ETAG.match(c.strip())))


def _stale_problem(error: StaleClaim) -> Response:
    headers = {"ETag": etag(error.current_version)} if error.current_version else None
    return problem(412, error.message, headers=headers)


@blp.route("", methods=["POST"])
@limiter.limit(lambda: current_app.config["GUARANTEE_SUBMISSION_RATE_LIMIT"])
@blp.arguments(
    SubmissionSchema,
    example={
        "group": {"name": "Little Acorns Parents", "contact_name": "Sam Patel", "email": "sam@example.org"},
        "initiative": {
            "title": "Parent-run nursery",
            "description": "Parents run a nursery on a rota with one qualified lead.",
            "sector": "children_and_families",
            "region": "north_west",
            "people_involved": 24,
        },
        "barrier": {
            "regulation": "Early years staffing ratios",
            "imposed_by": "Ofsted",
            "category": "professional_standards_and_qualifications",
            "how_it_blocks": "Every parent on the rota would need a level 3 qualification.",
            "remedy_sought": "waiver",
        },
        "consent": {"contact": True},
    },
)
@blp.response(201, SubmittedSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.doc(
    operationId="submitClaim",
    security=PUBLIC,
    parameters=[IDEMPOTENCY_KEY],
    responses={
        201: {  # an int, as @blp.response keys it, so the two merge
            "links": {
                "GetClaim": {"operationId": "getClaim", "parameters": {"reference": "$response.body#/reference"}},
                "FireTransition": {
                    "operationId": "fireTransition",
                    "parameters": {"reference": "$response.body#/reference"},
                },
            }
        }
    },
)
@blp.problems(400, 409, 413, 415, 422, 429)
def submit(data: dict[str, Any]) -> Response:
    """File a claim (no account needed)

    Returns the reference and the tracking token, shown only once.
    """

    def produce(ctx: ServiceContext) -> StoredResponse:
        submitted = submit_claim(ctx, data)
        location = url_for("claims.claim", reference=submitted.reference)
        base = current_app.config["GUARANTEE_BASE_URL"].rstrip("/")
        body = SubmittedSchema().dump(
            {
                "reference": submitted.reference,
                "state": submitted.claim.state,
                "tracking_token": submitted.tracking_token,
                "tracking_url": f"{base}/track/{submitted.reference}?token={submitted.tracking_token}",
                "submitted_at": submitted.claim.submitted_at,
            }
        )
        headers = {"Location": location, "ETag": etag(submitted.claim.version), "Cache-Control": "no-store"}
        return StoredResponse(201, body, headers)

    return run_once("public POST /api/v1/claims", data, produce)


@blp.route("", methods=["GET"])
@blp.arguments(ClaimListArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@blp.response(200, ClaimPageSchema)
@blp.doc(operationId="listClaims", security=OFFICER)
@blp.problems(401, 403, 422)
def list_claims(limit: int, cursor: str | None = None, **filters: Any) -> Response:
    """List claims (officers), newest first

    Filters combine; pages follow next_cursor.
    """
    page = reading.list_claims(service_context(), auth.caller(), filters, limit=limit, cursor=cursor)
    response = jsonify(ClaimPageSchema().dump(page))
    if page.next_cursor:
        args: dict[str, Any] = {k: request.args.getlist(k) for k in request.args if k != "cursor"}
        link = url_for("claims.list_claims", **args, cursor=page.next_cursor)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response


@blp.route("/<reference>", methods=["GET"], parameters=[REFERENCE_PARAMETER])
@blp.response(200, ClaimSchema, headers=ETAG_HEADER)
@blp.doc(operationId="getClaim", security=GROUP_OR_OFFICER)
@blp.alt_response(304, description="Not modified since the ETag in If-None-Match")
@blp.problems(401, 404)
def claim(reference: str) -> Response:
    """Read a claim

    With the group's tracking token: the group's view (no internal notes, no officers' names).
    With an officer token: the full view.
    """
    stored = _claim_response(service_context(), reference, auth.caller())
    if request.if_none_match.contains(stored.headers["ETag"].strip('"')):
        return Response(status=304, headers={"ETag": stored.headers["ETag"]})
    response = jsonify(stored.body)
    response.headers.update(stored.headers)
    response.headers["Vary"] = "Authorization"
    # Only the caller may keep a copy, and must check it is still current (the ETag makes that cheap).
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.route("/<reference>/transitions", methods=["POST"], parameters=[REFERENCE_PARAMETER])
@blp.arguments(
    TransitionSchema,
    examples={t: {"summary": t.replace("_", " "), "value": {"trigger": t, **v}} for t, v in TRIGGER_EXAMPLES.items()},
)
@blp.response(200, ClaimSchema, headers=ETAG_HEADER)
@blp.doc(operationId="fireTransition", security=GROUP_OR_OFFICER, parameters=[IF_MATCH, IDEMPOTENCY_KEY])
@blp.problems(401, 403, 404, 409, 412, 415, 422)
def transition(data: dict[str, Any], reference: str) -> Response:
    """Fire a trigger on a claim

    GET /api/v1/workflow lists the triggers, who may fire them and the input each needs.
    409 lists the triggers you may fire now.
    """
    expected = _expected_version()
    inputs = {k: v for k, v in data.items() if k != "trigger"}
    actor = auth.caller()

    def produce(ctx: ServiceContext) -> StoredResponse:
        fire(ctx, reference, data["trigger"], actor, inputs, expected_version=expected)
        return _claim_response(ctx, reference, actor)

    try:
        return run_once_for(actor, data, produce)
    except StaleClaim as error:
        if expected is None:
            raise
        return _stale_problem(error)


def _officer_write(reference: str, change: Any) -> Response:
    expected = _expected_version()
    actor = auth.caller()
    try:
        with unit_of_work() as ctx:
            change(ctx, actor, expected)
            stored = _claim_response(ctx, reference, actor)
    except StaleClaim as error:
        if expected is None:
            raise
        return _stale_problem(error)
    response = jsonify(stored.body)
    response.headers.update(stored.headers)
    return response


@blp.route("/<reference>/assignee", methods=["PUT"], parameters=[REFERENCE_PARAMETER])
@blp.arguments(AssignmentInput, example={"assignee_id": 7})
@blp.response(200, ClaimSchema, headers=ETAG_HEADER)
@blp.doc(operationId="assignClaim", security=officer_with(casework.ASSIGNERS), parameters=[IF_MATCH])
@blp.problems(401, 403, 404, 409, 412, 415, 422)
def assign(data: dict[str, Any], reference: str) -> Response:
    """Assign a claim to an officer, or unassign it (officers)"""
    return _officer_write(
        reference,
        lambda ctx, actor, expected: casework.assign(
            ctx, reference, data["assignee_id"], actor, expected_version=expected
        ),
    )


@blp.route("/<reference>/classification", methods=["PUT"], parameters=[REFERENCE_PARAMETER])
@blp.arguments(
    ClassificationInput,
    example={
        "category": "food_hygiene",
        "regulation": {
            "title": "Food premises registration",
            "legal_reference": "Regulation (EC) 852/2004",
            "issuing_body": "Food Standards Agency",
        },
    },
)
@blp.response(200, ClaimSchema, headers=ETAG_HEADER)
@blp.doc(operationId="classifyClaim", security=officer_with(casework.CLASSIFIERS), parameters=[IF_MATCH])
@blp.problems(401, 403, 404, 409, 412, 415, 422)
def classify(data: dict[str, Any], reference: str) -> Response:
    """Set a claim's barrier category and regulation catalogue entry (officers)"""
    return _officer_write(
        reference,
        lambda ctx, actor, expected: casework.classify(
            ctx,
            reference,
            actor,
            category=data.get("category"),
            regulation=data.get("regulation"),
            expected_version=expected,
        ),
    )


@blp.route("/<reference>/notes", methods=["POST"], parameters=[REFERENCE_PARAMETER])
@blp.arguments(NoteInput, example={"note": "Phoned the group's contact; they will send photos of the kitchen."})
@blp.response(201, NoteSchema)
@blp.doc(operationId="addNote", security=OFFICER, parameters=[IDEMPOTENCY_KEY])
@blp.problems(401, 403, 404, 409, 415, 422)
def add_note(data: dict[str, Any], reference: str) -> Response:
    """Add an internal note (officers; never shown to the group)

    With an Idempotency-Key, a retry of the same note returns the first answer and adds nothing.
    """
    actor = auth.caller()

    def produce(ctx: ServiceContext) -> StoredResponse:
        entry = casework.add_note(ctx, reference, actor, data["note"])
        return StoredResponse(201, NoteSchema().dump({"seq": entry.seq, "note": entry.body}), {})

    return run_once_for(actor, data, produce)


@blp.route("/<reference>/audit", methods=["GET"], parameters=[REFERENCE_PARAMETER])
@blp.response(200, AuditTrailSchema)
@blp.doc(operationId="getAuditTrail", security=OFFICER)
@blp.problems(401, 403, 404)
def audit_trail(reference: str) -> Response:
    """A claim's audit trail: its hash chain, event by event (officers)"""
    events = reading.audit_trail(service_context(), reference, auth.caller())
    return jsonify(AuditTrailSchema().dump({"reference": reference, "events": events}))
