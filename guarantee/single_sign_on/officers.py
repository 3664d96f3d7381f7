"""Who signs in through the identity provider (Flask-free): the officer whose account has the
provider's verified e-mail address, or, where an admin allowed the address's domain, a new
account with no roles; whether the provider did multi-factor authentication; and the domains
an admin allows. Roles stay in the service: nothing the provider says grants one."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from guarantee.models import Officer, SignInDomain
from guarantee.services import validation as v
from guarantee.services.actors import Actor
from guarantee.services.audit import append_admin_event
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, NotFound, ValidationFailed
from guarantee.services.officers import require_role
from workflows.words import N_

# A password hash no password matches (not argon2): an account made by signing in through the
# provider has no password until an admin resets one.
NO_PASSWORD = "!single-sign-on"  # noqa: S105 (not a password: the mark of having none)
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class SignInRefused(Forbidden):
    """The provider signed the person in, but the service will not. ``reason`` is a code for the
    log (never the address or the name)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ProviderSignIn:
    """What a verified ID token says about who signed in."""

    email: str | None
    email_verified: bool
    name: str | None
    amr: tuple[str, ...]
    acr: str | None


def multi_factor(signed_in: ProviderSignIn, mfa_acr: Iterable[str]) -> bool:
    """Whether the provider says it used more than one factor: amr holds "mfa" (RFC 8176), or acr
    is one of the values the council's configuration counts as multi-factor."""
    return "mfa" in signed_in.amr or (signed_in.acr is not None and signed_in.acr in set(mfa_acr))


def officer_signing_in(ctx: ServiceContext, signed_in: ProviderSignIn) -> Officer:
    """The active officer the provider's verified address belongs to; or a new one, with no roles
    and no password, if the address's domain is allowed. Otherwise SignInRefused. Flushes only."""
    if not signed_in.email or "@" not in signed_in.email:
        raise SignInRefused(
            N_(
                "Your council account did not give this service your email address. "
                "Ask your IT service desk to let the service read it, then sign in again."
            ),
            "no_email",
        )
    if signed_in.email_verified is not True:
        raise SignInRefused(
            N_(
                "Your council account says your email address is not verified, so it cannot be used to "
                "sign in here. Ask your IT service desk to verify it, then sign in again."
            ),
            "email_not_verified",
        )
    email = signed_in.email.strip().lower()
    officer = ctx.session.scalar(select(Officer).where(Officer.email == email))
    if officer is not None:
        if not officer.active:
            raise SignInRefused(
                N_("Your officer account is not active. Ask an administrator to reactivate it."), "inactive"
            )
        return officer
    domain = email.rpartition("@")[2]
    if ctx.session.get(SignInDomain, domain) is None:
        raise SignInRefused(
            N_(
                "There is no officer account for the email address of your council account. "
                "Ask an administrator to add you, then sign in again."
            ),
            "unknown_email",
        )
    return _new_account(ctx, email, signed_in.name, domain)


def _new_account(ctx: ServiceContext, email: str, name: str | None, domain: str) -> Officer:
    try:
        clean_name = v.text(name, N_("a name"), max_length=200, multiline=False) if name else None
    except v.Invalid:
        clean_name = None
    officer = Officer(
        email=email,
        name=clean_name or email.partition("@")[0],
        password_hash=NO_PASSWORD,
        active=True,
        session_nonce=secrets.token_hex(16),
        must_change_password=False,
        created_at=ctx.now(),
        role_rows=[],
    )
    ctx.session.add(officer)
    ctx.session.flush()
    # Made by nobody but the person signing in: the domain an admin allowed is the reason.
    append_admin_event(ctx, officer.id, "account_made_by_signing_in", officer_id=officer.id, payload={"domain": domain})
    return officer


# --- the domains an admin allows ---------------------------------------------------------------


def allowed_domains(ctx: ServiceContext, actor: Actor) -> list[SignInDomain]:
    require_role(ctx, actor, ("admin",), N_("choose who may make an account by signing in"))
    return list(ctx.session.scalars(select(SignInDomain).order_by(SignInDomain.domain)))


def allow_domain(ctx: ServiceContext, actor: Actor, domain: str) -> str:
    """Staff with a verified address in ``domain`` may make themselves an account (with no roles)
    by signing in. Recorded in the admin log. Returns the domain as stored. Flushes only."""
    admin = require_role(ctx, actor, ("admin",), N_("choose who may make an account by signing in"))
    cleaned = (domain or "").strip().lower().removeprefix("@")
    if not cleaned:
        raise ValidationFailed({"domain": [N_("Enter an email domain, like council.example")]})
    if not _DOMAIN.fullmatch(cleaned):
        raise ValidationFailed(
            {"domain": [N_("Enter an email domain in the correct format, like council.example (the part after the @)")]}
        )
    if ctx.session.get(SignInDomain, cleaned) is not None:
        raise ValidationFailed({"domain": [N_("This domain is already allowed")]})
    ctx.session.add(SignInDomain(domain=cleaned, added_at=ctx.now(), added_by=admin.id))
    ctx.session.flush()
    append_admin_event(ctx, admin.id, "sign_in_domain_allowed", payload={"domain": cleaned})
    return cleaned


def remove_domain(ctx: ServiceContext, actor: Actor, domain: str) -> None:
    """No new account can be made by signing in with an address in ``domain`` (accounts made already
    stay). Recorded in the admin log. Flushes only."""
    admin = require_role(ctx, actor, ("admin",), N_("choose who may make an account by signing in"))
    found = ctx.session.get(SignInDomain, (domain or "").strip().lower())
    if found is None:
        raise NotFound(N_("This domain is not on the list: it may have been removed already."))
    ctx.session.delete(found)
    ctx.session.flush()
    append_admin_event(ctx, admin.id, "sign_in_domain_removed", payload={"domain": found.domain})


__all__ = [
    "NO_PASSWORD",
    "ProviderSignIn",
    "SignInRefused",
    "allow_domain",
    "allowed_domains",
    "multi_factor",
    "officer_signing_in",
    "remove_domain",
]
