"""Officers' short-lived API bearer tokens: issued for email and password, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from guarantee.models import Officer, OfficerToken
from guarantee.services import two_step
from guarantee.services.actors import Actor, OfficerActor
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ServiceError
from guarantee.services.officers import password_is_right, require_role, revoke_api_tokens, upgrade_password_hash
from workflows.words import N_, AsWritten, words

OFFICER_TOKEN_PREFIX = "gto_"  # noqa: S105 (a prefix that marks officer tokens, not a secret)


class AuthenticationFailed(ServiceError):
    """Wrong email or password, or a token that is unknown, expired or revoked."""


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    expires_at: datetime
    officer_id: int


class WrongCodeForToken(AuthenticationFailed):
    """The password was right, the two-step code was not: the caller counts it after rolling back."""

    def __init__(self, officer_id: int) -> None:
        super().__init__(
            N_("Send the current 6-digit code from your authenticator app as 'code' (each code works once).")
        )
        self.officer_id = officer_id


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_officer_token(
    ctx: ServiceContext,
    email: str,
    password: str,
    lifetime: timedelta,
    code: str | None = None,
    *,
    admins_must_use_two_step: bool = False,
) -> IssuedToken:
    """A bearer token for an active officer's email and password, and the code from their
    authenticator app if they use two-step verification (a code works once)."""
    officer = ctx.session.scalar(select(Officer).where(Officer.email == email.strip().lower()))
    right = password_is_right(officer, password)  # checked first: as slow for an unknown address
    if officer is None or not right or not officer.active:
        raise AuthenticationFailed(N_("The email address or password is wrong, or the account is not active."))
    upgrade_password_hash(officer, password)
    if officer.must_change_password:
        raise AuthenticationFailed(N_("Choose a new password in the officers' console (/officer/password) first."))
    if officer.totp_secret is not None:
        ctx.session.refresh(officer, with_for_update=True)  # locked only once the password was right
        try:
            two_step.check_code(ctx, officer, code)
        except two_step.WrongCode as wrong:
            raise WrongCodeForToken(wrong.officer_id) from None
    elif two_step.needs_setting_up(officer, admins_must_use_two_step):
        raise AuthenticationFailed(
            N_("Set up two-step verification in the officers' console (/officer/two-step) first.")
        )
    token = OFFICER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = ctx.now()
    ctx.session.add(
        OfficerToken(officer_id=officer.id, token_hash=_hash(token), created_at=now, expires_at=now + lifetime)
    )
    ctx.session.flush()
    return IssuedToken(token=token, expires_at=now + lifetime, officer_id=officer.id)


def officer_for_token(ctx: ServiceContext, token: str) -> OfficerActor:
    """The officer a live token belongs to."""
    row = ctx.session.execute(
        select(OfficerToken.officer_id, OfficerToken.expires_at, OfficerToken.revoked_at, Officer.active)
        .join(Officer, Officer.id == OfficerToken.officer_id)
        .where(OfficerToken.token_hash == _hash(token))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= ctx.now() or not row.active:
        raise AuthenticationFailed(N_("The token is unknown, expired or revoked: ask for a new one at /api/v1/tokens."))
    return OfficerActor(row.officer_id)


def revoke_officer_tokens(ctx: ServiceContext, email: str, actor: Actor | None = None) -> int:
    """Revoke every live token of an officer; returns how many. ``actor`` None is the operator."""
    if actor is not None:
        require_role(ctx, actor, ("admin",), "revoke API tokens")
    officer = ctx.session.scalar(select(Officer).where(Officer.email == email.strip().lower()))
    if officer is None:
        raise NotFound(words("There is no officer with the email address %(email)s.", email=AsWritten(email)))
    return revoke_api_tokens(ctx, officer.id)
