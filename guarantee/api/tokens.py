"""/api/v1/tokens: officers exchange email and password for a short-lived bearer token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, current_app, jsonify

from guarantee import sign_in_limits
from guarantee.api.parser import Blueprint
from guarantee.api.problems import problem
from guarantee.context import unit_of_work
from guarantee.extensions import limiter
from guarantee.schemas.tokens import TokenRequest, TokenSchema
from guarantee.services import two_step
from guarantee.services.tokens import WrongCodeForToken, issue_officer_token
from workflows.words import N_

# Single sign-on (issue 24): with password sign-in off, there is no way to make a token.
PASSWORD_TOKENS_OFF = N_(
    "Signing in with a password is turned off for this service, so an API token cannot be made with a "
    "password, and there is no other way to make one. If a program needs the API, ask the service's "
    "operators to turn password sign-in on (GUARANTEE_PASSWORD_SIGN_IN=on)."
)
blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens", description="Officer sign-in for the API")


@blp.route("", methods=["POST"])
@limiter.limit(lambda: current_app.config["GUARANTEE_TOKEN_RATE_LIMIT"])
@sign_in_limits.limited
@blp.arguments(TokenRequest, example={"email": "officer@council.example", "password": "your password"})
@blp.response(201, TokenSchema)
@blp.doc(operationId="createToken", security=[])
@blp.problems(400, 401, 403, 415, 422, 429)
def create_token(data: dict[str, Any]) -> Response:
    """Get an officer token

    Valid for GUARANTEE_API_TOKEN_MINUTES (default 30); revoke with flask guarantee revoke-tokens.
    Refused (403) when password sign-in is turned off (GUARANTEE_PASSWORD_SIGN_IN=off).
    """
    if not current_app.config["GUARANTEE_PASSWORD_SIGN_IN"]:
        return problem(403, PASSWORD_TOKENS_OFF)
    lifetime = timedelta(minutes=current_app.config["GUARANTEE_API_TOKEN_MINUTES"])
    try:
        with unit_of_work() as ctx:
            issued = issue_officer_token(
                ctx,
                data["email"],
                data["password"],
                lifetime,
                data.get("code"),
                admins_must_use_two_step=current_app.config["GUARANTEE_ADMIN_TWO_STEP"],
            )
    except WrongCodeForToken as wrong:
        with unit_of_work() as ctx:  # the attempt was rolled back; the wrong code still counts
            two_step.count_wrong_code(ctx, wrong.officer_id)
        raise
    response = jsonify(
        TokenSchema().dump({"token": issued.token, "token_type": "Bearer", "expires_at": issued.expires_at})
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
