"""Who is calling the API: a claim's group (tracking token) or an officer (officer token).

Each operation declares who may call it once, as its OpenAPI ``security`` (``@blp.doc(security=...)``).
That one declaration is the document integrators read and the check ``check_caller`` makes on
every request, before anything reads the body or the query: a stranger learns nothing about
what the operation expects, and never gets a 415 or a 422 where they should get a 401.
"""

from __future__ import annotations

from flask import current_app, g, request

from guarantee.context import service_context
from guarantee.services.actors import Actor, GroupActor, OfficerActor
from guarantee.services.claims import group_for_token, reference_for_token
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, or_list
from guarantee.services.officers import active_officer
from guarantee.services.tokens import OFFICER_TOKEN_PREFIX, AuthenticationFailed, officer_for_token
from workflows.words import N_, words

MAX_TOKEN_LENGTH = 200
# The security schemes, by their names in the OpenAPI document.
TRACKING_SCHEME = "trackingToken"
OFFICER_SCHEME = "officerToken"
# The attribute @blp.doc(security=...) leaves on a view (guarantee.api.parser.Blueprint.doc).
DECLARED_SECURITY = "declared_security"

# An OpenAPI security requirement list: any one of its entries lets the caller in. For the officer
# token, a list of role names (OpenAPI 3.1 allows role names for http schemes) means "one of these".
Security = list[dict[str, list[str]]]
PUBLIC: Security = []
OFFICER: Security = [{OFFICER_SCHEME: []}]
GROUP_OR_OFFICER: Security = [{TRACKING_SCHEME: []}, {OFFICER_SCHEME: []}]


def officer_with(roles: tuple[str, ...]) -> Security:
    """An officer holding one of ``roles``."""
    return [{OFFICER_SCHEME: list(roles)}]


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise AuthenticationFailed(
            N_(
                "Send Authorization: Bearer <token>: the tracking token you got when you filed the claim, "
                "or an officer token from POST /api/v1/tokens."
            )
        )
    return token


def authorise(ctx: ServiceContext, security: Security, reference: str | None) -> Actor:
    """The caller ``security`` lets in, from the bearer token alone.

    No token, or one that opens nothing: 401. An officer without a role the operation names: 403.
    A live tracking token where only officers are let in: 403 (its holder is known, and not
    allowed). A live tracking token of another claim: 404, so that nobody learns from the answer
    whether a claim exists.
    """
    schemes = {name: roles for requirement in security for name, roles in requirement.items()}
    token = bearer_token()
    if token.startswith(OFFICER_TOKEN_PREFIX):
        officer = officer_for_token(ctx, token)
        if OFFICER_SCHEME not in schemes:
            raise Forbidden(N_("Only the claim's group can do this, with its tracking token."))
        roles = schemes[OFFICER_SCHEME]
        if roles and not active_officer(ctx, officer).roles & set(roles):
            raise Forbidden(
                words(
                    "Only an officer with the %(roles)s role can do this. Ask an administrator if your work needs it.",
                    roles=or_list(roles),
                )
            )
        return officer
    if reference_for_token(ctx, token) is None:
        if TRACKING_SCHEME in schemes:
            raise AuthenticationFailed(
                N_("This tracking token is not valid. Use the link you were given when you filed.")
            )
        raise AuthenticationFailed(N_("This needs an officer token from POST /api/v1/tokens."))
    if TRACKING_SCHEME not in schemes:
        raise Forbidden(
            N_(
                "Only officers can do this, and a tracking token opens only its own claim "
                "(GET /api/v1/claims/{reference}). Officers: send an officer token from POST /api/v1/tokens."
            )
        )
    if reference is None:
        raise RuntimeError(f"{request.endpoint} lets in a tracking token but its path names no claim")
    return group_for_token(ctx, reference, token)


def check_caller() -> None:
    """Before anything else on an API blueprint: let in only the callers the operation declares,
    and keep the caller for the view (``caller()``)."""
    g.api_caller = None
    automatic_options = getattr(request.url_rule, "provide_automatic_options", False)  # Flask sets it on rules
    if request.url_rule is None or (request.method == "OPTIONS" and automatic_options):
        return  # no operation here (Flask answers 404/405, or OPTIONS with Allow)
    view = current_app.view_functions[request.endpoint or ""]
    security: Security | None = getattr(view, DECLARED_SECURITY, None)
    if security is None:
        raise RuntimeError(f"{request.endpoint} does not declare who may call it: @blp.doc(security=...)")
    if not security:
        return
    ctx = service_context()
    try:
        g.api_caller = authorise(ctx, security, (request.view_args or {}).get("reference"))
    finally:
        ctx.session.rollback()  # the view runs its own transaction


def caller() -> Actor:
    """The caller ``check_caller`` let in to this request's operation."""
    actor = g.get("api_caller")
    if not isinstance(actor, OfficerActor | GroupActor):
        raise RuntimeError(f"{request.endpoint} is public: it has no caller")
    return actor


def principal(actor: Actor) -> str:
    """A stable name for the caller, to scope idempotency keys."""
    if isinstance(actor, OfficerActor):
        return f"officer:{actor.officer_id}"
    if isinstance(actor, GroupActor):
        return f"group:{actor.claim_reference}"
    return actor.type
