"""Signing in through the provider, and checking what it sends back: the code is exchanged (with
the PKCE verifier) and the ID token verified by Authlib, each claim the service relies on
required explicitly, times by the service's clock. Each way it can fail is a ``Failure``: a
reason code for the log and a sentence for the officer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from guarantee.single_sign_on.officers import ProviderSignIn
from workflows.words import N_

# Seconds of difference between the provider's clock and the service's that are forgiven.
LEEWAY = 60


@dataclass
class Failure(Exception):
    reason: str  # for the log: a code, never a person's details
    message: str  # marked English, said in the reader's language
    status: int = 400


STATE_UNKNOWN = Failure(
    "state_not_found",
    N_(
        "This sign-in had already been used, or it was started in another browser or too long ago, "
        "so it was stopped. Go back to the sign-in page and sign in again."
    ),
)
PROVIDER_DOWN = Failure(
    "provider_unreachable",
    N_("The council's sign-in service did not answer. Try again in a few minutes, or ask your IT service desk."),
    502,
)
NOT_SIGNED_IN = N_("The council's sign-in service did not sign you in. Go back to the sign-in page and sign in again.")
NOT_VERIFIED = N_(
    "The answer from the council's sign-in service could not be verified, so you were not signed in. "
    "Go back to the sign-in page and sign in again. If this happens again, tell your IT service desk."
)


def _claims_class(now: int) -> type[CodeIDToken]:
    class ByServiceClock(CodeIDToken):  # type: ignore[misc]
        def validate(self, now_: int | None = None, leeway: int = 0) -> None:
            super().validate(now, leeway)

    return ByServiceClock


def claims_options(issuer: str, client_id: str) -> dict[str, Any]:
    """What the ID token must hold (Authlib checks only some of these unless told)."""
    return {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }


def _failure(error: Exception) -> Failure:
    if isinstance(error, MismatchingStateError):
        return STATE_UNKNOWN
    if isinstance(error, BadSignatureError):
        return Failure("id_token_signature", NOT_VERIFIED)
    if isinstance(error, ExpiredTokenError):
        return Failure(
            "id_token_expired",
            N_(
                "The answer from the council's sign-in service had expired, so you were not signed in. "
                "Check that your computer's clock is right, then go back to the sign-in page and sign in again."
            ),
        )
    if isinstance(error, ClaimError) and error.claim == "aud":
        return Failure(
            "id_token_audience",
            N_(
                "The council's sign-in service answered for another service, so you were not signed in. "
                "Go back to the sign-in page and sign in again. If this happens again, tell your IT service desk."
            ),
        )
    if isinstance(error, ClaimError):
        return Failure(f"id_token_{error.claim.replace(',', '_')}"[:60], NOT_VERIFIED)
    if isinstance(error, JoseError):
        return Failure("id_token_invalid", NOT_VERIFIED)
    if isinstance(error, OAuthError):
        return Failure(f"provider_{error.error}"[:60], NOT_SIGNED_IN)
    raise error


def finish(client: Any, issuer: str, client_id: str, now: int) -> ProviderSignIn:
    """Exchange the code the provider sent back (this request's ``state`` must be the one this
    browser started; it is then forgotten, so it works once) and verify the ID token."""
    try:
        metadata = client.load_server_metadata()
        if metadata.get("issuer") != issuer:  # OpenID Connect Discovery 1.0, section 4.3
            raise Failure("discovery_issuer_mismatch", NOT_VERIFIED)
        token = client.authorize_access_token(
            claims_options=claims_options(issuer, client_id), claims_cls=_claims_class(now), leeway=LEEWAY
        )
    except requests.RequestException:
        raise PROVIDER_DOWN from None
    except (OAuthError, JoseError) as error:
        raise _failure(error) from None
    claims = token.get("userinfo")  # the verified ID token's claims
    if not claims:
        raise Failure("no_id_token", NOT_VERIFIED)
    profile = dict(claims)
    if "email" not in claims:  # many providers (as oidc-provider) give it at the userinfo endpoint only
        profile.update(_userinfo(client, token, claims["sub"]))
    amr = claims.get("amr")
    acr = claims.get("acr")
    return ProviderSignIn(
        email=profile.get("email") if isinstance(profile.get("email"), str) else None,
        email_verified=profile.get("email_verified") is True,
        name=profile.get("name") if isinstance(profile.get("name"), str) else None,
        amr=tuple(str(a) for a in amr) if isinstance(amr, list) else (),
        acr=acr if isinstance(acr, str) else None,
    )


def _userinfo(client: Any, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """The e-mail claims from the userinfo endpoint, asked with the access token just issued;
    only if they are about the ID token's subject (OpenID Connect Core 1.0, section 5.3.2)."""
    try:
        answer = client.userinfo(token=token)
    except requests.RequestException:
        raise PROVIDER_DOWN from None
    if answer.get("sub") != subject:
        raise Failure("userinfo_subject_mismatch", NOT_VERIFIED)
    return {k: answer[k] for k in ("email", "email_verified", "name") if k in answer}
