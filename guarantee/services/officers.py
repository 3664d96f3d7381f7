"""Officer accounts: creation, passwords (argon2id), and who may do what."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, func, select, update

from guarantee.models import MailOptOut, Officer, OfficerRole, OfficerToken
from guarantee.services import notifications
from guarantee.services import validation as v
from guarantee.services.actors import Actor, OfficerActor
from guarantee.services.audit import append_admin_event
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, ValidationFailed, or_list, shown_as
from workflows.vocabulary import ROLES, label
from workflows.words import N_, words

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def upgrade_password_hash(officer: Officer, password: str) -> None:
    """After a successful sign-in: hash the password again if it was hashed with other argon2id
    parameters than today's (raised since, say), so stored hashes follow the settings. Flushes
    with the sign-in's transaction."""
    if _hasher.check_needs_rehash(officer.password_hash):
        officer.password_hash = hash_password(password)


def create_officer(
    ctx: ServiceContext,
    *,
    email: str,
    name: str,
    roles: Iterable[str],
    password: str,
    added_by: int | None = None,
    must_change_password: bool = False,
) -> Officer:
    """A new officer account, recorded in the admin log as added by ``added_by`` (an admin's
    officer id), or by an operator at the command line when None. Flushes only."""
    errors = v.Errors()
    clean_email = errors.check("email", v.email, email)
    clean_name = errors.check("name", v.text, name, N_("the officer's name"), max_length=200, multiline=False)
    roles = sorted(set(roles))
    if not roles:
        errors.add("roles", words("Give at least one role: %(roles)s", roles=", ".join(ROLES)))
    for role in roles:
        if role not in ROLES:
            errors.add(
                "roles", words("%(role)s is not a role; choose from %(roles)s", role=repr(role), roles=", ".join(ROLES))
            )
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(
            "password", words("The password must be at least %(length)s characters long", length=MIN_PASSWORD_LENGTH)
        )
    if clean_email and ctx.session.scalar(select(func.count()).where(Officer.email == clean_email.lower())):
        errors.add("email", N_("An officer with this email address already exists"))
    errors.raise_if_any()
    assert clean_email and clean_name
    officer = Officer(
        email=clean_email.lower(),
        name=clean_name,
        password_hash=hash_password(password),
        active=True,
        session_nonce=secrets.token_hex(16),
        must_change_password=must_change_password,
        created_at=ctx.now(),
        role_rows=[OfficerRole(role=r) for r in roles],
    )
    ctx.session.add(officer)
    ctx.session.flush()
    append_admin_event(ctx, added_by, "officer_added", officer_id=officer.id, payload={"roles": roles})
    return officer


def active_officer(ctx: ServiceContext, actor: OfficerActor) -> Officer:
    officer = ctx.found(Officer, actor.officer_id) or ctx.session.get(Officer, actor.officer_id)
    if officer is None or not officer.active:
        raise Forbidden(N_("Your officer account is not active. Ask an administrator to reactivate it."))
    return ctx.keep(actor.officer_id, officer)


def active_names(ctx: ServiceContext) -> list[tuple[int, str]]:
    """(id, name) of every active officer, by name: whom a claim can be given to."""
    query = select(Officer.id, Officer.name).where(Officer.active).order_by(Officer.name)
    return [(officer_id, name) for officer_id, name in ctx.session.execute(query)]


def firer_names(ctx: ServiceContext, actor: Actor) -> frozenset[str]:
    """The names the workflow's ``fired_by`` lists use for this actor."""
    if isinstance(actor, OfficerActor):
        return active_officer(ctx, actor).roles
    return frozenset({actor.type})


def require_role(ctx: ServiceContext, actor: Actor, roles: Iterable[str], doing: str) -> Officer:
    """The acting officer, if active and holding one of ``roles``; otherwise Forbidden. ``doing`` is
    marked English ("see the queue"), said in the refusal in the reader's language; the roles read
    as their codes in English and by their names in another language."""
    roles = tuple(roles)
    if not isinstance(actor, OfficerActor):
        raise Forbidden(words("Only an officer can %(doing)s.", doing=doing))
    officer = active_officer(ctx, actor)
    if not officer.roles & set(roles):
        named = or_list([shown_as(role, label(role)) for role in roles])
        raise Forbidden(words("Only an officer with the %(roles)s role can %(doing)s.", roles=named, doing=doing))
    return officer


def assignable_officer(ctx: ServiceContext, officer_id: object, field: str) -> Officer:
    if isinstance(officer_id, bool) or not isinstance(officer_id, int):
        raise ValidationFailed({field: [N_("Choose an officer by their id")]})
    officer = ctx.session.get(Officer, officer_id)
    if officer is None or not officer.active:
        raise ValidationFailed({field: [N_("There is no active officer with this id")]})
    return officer


# --- signing in -------------------------------------------------------------------------

# Verified when no officer has the email, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def password_is_right(officer: Officer | None, password: str) -> bool:
    """Whether this is the officer's password. With no officer (an unknown e-mail address), a
    hash is still checked, so that the answer takes as long as for a wrong password."""
    matches = password_matches(officer.password_hash if officer else _DUMMY_HASH, password or "")
    return officer is not None and matches


def authenticate(ctx: ServiceContext, email: str, password: str) -> Officer | None:
    """The active officer with this email and password, or None (never saying which was wrong)."""
    wanted = (email or "").strip().lower()
    officer = None if "\x00" in wanted else ctx.session.scalar(select(Officer).where(Officer.email == wanted))
    right = password_is_right(officer, password)  # checked first: as slow for an unknown address
    if officer is None or not right or not officer.active:
        return None
    upgrade_password_hash(officer, password)
    return officer


def officer_for_session(ctx: ServiceContext, officer_id: int, nonce: str) -> Officer | None:
    """The officer a console session belongs to, while that session is still valid: the
    officer is active and has not signed out, changed password or been deactivated since."""
    officer = ctx.session.get(Officer, officer_id)
    if officer is None or not officer.active or not secrets.compare_digest(officer.session_nonce, nonce):
        return None
    return officer


def officer_for_code(ctx: ServiceContext, officer_id: int, nonce: str) -> Officer | None:
    """The officer who entered the right password and is now entering a code, locked for the
    transaction (so that one code cannot be used twice at once), while still active and with no
    sign-out, reset or deactivation since."""
    officer = ctx.session.scalar(select(Officer).where(Officer.id == officer_id).with_for_update())
    if officer is None or not officer.active or not secrets.compare_digest(officer.session_nonce, nonce):
        return None
    return officer if officer.totp_secret is not None else None  # turned off meanwhile: start again


def end_sessions(ctx: ServiceContext, officer_id: int) -> None:
    """End every console session of the officer, on every machine (signing out). Their API
    tokens stand: a program keeps working while its officer signs out of a browser. Flushes only."""
    officer = ctx.session.get(Officer, officer_id)
    if officer is not None:
        officer.session_nonce = secrets.token_hex(16)
        ctx.session.flush()


def revoke_api_tokens(ctx: ServiceContext, officer_id: int) -> int:
    """Revoke every live API token of the officer; returns how many. Flushes only."""
    result = ctx.session.execute(
        update(OfficerToken)
        .where(OfficerToken.officer_id == officer_id, OfficerToken.revoked_at.is_(None))
        .values(revoked_at=ctx.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def credentials_changed(ctx: ServiceContext, officer: Officer) -> None:
    """The officer's password, second factor or standing changed: whatever was signed in with the
    old credentials ends, every console session and every API token alike. Every such change
    goes through here, so that no way in outlives the credentials it was opened with."""
    officer.session_nonce = secrets.token_hex(16)
    revoke_api_tokens(ctx, officer.id)
    ctx.session.flush()


def change_password(ctx: ServiceContext, officer_id: int, current: str, new: str) -> Officer:
    """An officer chooses a new password. Every other session and every API token of theirs ends.
    Flushes only."""
    officer = ctx.session.get(Officer, officer_id)
    if officer is None or not officer.active:
        raise Forbidden(N_("Your officer account is not active. Ask an administrator to reactivate it."))
    errors = v.Errors()
    if not password_matches(officer.password_hash, current or ""):
        errors.add("current_password", N_("Enter your current password correctly"))
    if len(new or "") < MIN_PASSWORD_LENGTH:
        errors.add(
            "new_password", words("Choose a password of at least %(length)s characters", length=MIN_PASSWORD_LENGTH)
        )
    elif new == current:
        errors.add("new_password", N_("Choose a password different from your current one"))
    errors.raise_if_any()
    officer.password_hash = hash_password(new)
    officer.must_change_password = False
    credentials_changed(ctx, officer)
    return officer


# --- which e-mails an officer gets ------------------------------------------------------------


@dataclass(frozen=True)
class MailSetting:
    """One kind of e-mail an officer may get, and whether they get it."""

    kind: str  # the value a form posts: one of workflows.vocabulary.OFFICER_MESSAGE_KINDS
    label: str
    hint: str
    on: bool


def _turned_off(ctx: ServiceContext, officer_id: int) -> set[str]:
    return set(ctx.session.scalars(select(MailOptOut.kind).where(MailOptOut.officer_id == officer_id)))


def mail_settings(ctx: ServiceContext, actor: Actor) -> list[MailSetting]:
    """The kinds of e-mail the acting officer may get (those their roles bring), each on unless
    they turned it off."""
    officer = require_role(ctx, actor, ROLES, N_("choose which e-mails you get"))
    off = _turned_off(ctx, officer.id)
    return [MailSetting(k.kind, k.label, k.hint, k.kind not in off) for k in notifications.kinds_for(officer.roles)]


def change_mail_settings(ctx: ServiceContext, actor: Actor, chosen: set[str]) -> list[MailSetting]:
    """The acting officer gets the kinds of e-mail in ``chosen`` and not the others on their list
    (a kind their roles do not bring keeps its setting, for the day they have the role). A kind not
    on their list is refused. A change is recorded in the admin log (which kinds were turned on
    and off). Returns the settings as they now are. Flushes only."""
    officer = require_role(ctx, actor, ROLES, N_("choose which e-mails you get"))
    offered = [k.kind for k in notifications.kinds_for(officer.roles)]
    unknown = set(chosen) - set(offered)
    if unknown:
        raise ValidationFailed(
            {"kinds": [N_("Choose the e-mails you want from the list: some of those chosen are not on it")]}
        )
    before = _turned_off(ctx, officer.id)
    turn_off = {kind for kind in offered if kind not in chosen} - before
    turn_on = before & set(chosen)
    if turn_on:
        ctx.session.execute(delete(MailOptOut).where(MailOptOut.officer_id == officer.id, MailOptOut.kind.in_(turn_on)))
    ctx.session.add_all(MailOptOut(officer_id=officer.id, kind=kind) for kind in sorted(turn_off))
    ctx.session.flush()
    if turn_on or turn_off:
        append_admin_event(
            ctx,
            officer.id,
            "mail_settings_changed",
            officer_id=officer.id,
            payload={"turned_on": sorted(turn_on), "turned_off": sorted(turn_off)},
        )
    return mail_settings(ctx, actor)
