"""Who is calling the API: a claim's group (tracking token) or an officer (officer token)."""

from __future__ import annotations

from flask import request

from guarantee.services.actors import Actor, GroupActor, OfficerActor
from guarantee.services.claims import group_for_token, reference_for_token
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden
from guarantee.services.tokens import OFFICER_TOKEN_PREFIX, AuthenticationFailed, officer_for_token

MAX_TOKEN_LENGTH = 200


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise AuthenticationFailed(
            "Send Authorization: Bearer <token>: the tracking token you got when you filed the claim, "
            "or an officer token from POST /api/v1/tokens."
        )
    return token


def actor_for_claim(ctx: ServiceContext, reference: str) -> Actor:
    """An officer, or the group whose tracking token opens this claim.

    A token that opens no claim at all is 401; a live token of another claim is 404, so
    nobody learns from the answer whether a claim exists.
    """
    token = bearer_token()
    if token.startswith(OFFICER_TOKEN_PREFIX):
        return officer_for_token(ctx, token)
    if reference_for_token(ctx, token) is None:
        raise AuthenticationFailed("This tracking token is not valid. Use the link you were given when you filed.")
    return group_for_token(ctx, reference, token)


def officer_actor(ctx: ServiceContext) -> OfficerActor:
    """The officer whose live token this is.

    A live tracking token is 403: its holder is known (a claim's group) but may not do this.
    A token that opens nothing at all is 401.
    """
    token = bearer_token()
    if token.startswith(OFFICER_TOKEN_PREFIX):
        return officer_for_token(ctx, token)
    if reference_for_token(ctx, token) is None:
        raise AuthenticationFailed("This needs an officer token from POST /api/v1/tokens.")
    raise Forbidden(
        "Only officers can do this, and a tracking token opens only its own claim "
        "(GET /api/v1/claims/{reference}). Officers: send an officer token from POST /api/v1/tokens."
    )


def principal(actor: Actor) -> str:
    """A stable name for the caller, to scope idempotency keys."""
    if isinstance(actor, OfficerActor):
        return f"officer:{actor.officer_id}"
    if isinstance(actor, GroupActor):
        return f"group:{actor.claim_reference}"
    return actor.type
