"""Administering officer accounts: add, set roles, deactivate and reactivate, reset a password,
revoke API tokens. Only admins may; each change is a link in the admin log (services.audit)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from guarantee.models import AdminEvent, Officer, OfficerRole
from guarantee.services import officers
from guarantee.services.actors import Actor
from guarantee.services.audit import append_admin_event
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ValidationFailed
from guarantee.services.officers import create_officer, credentials_changed, hash_password, require_role
from workflows.vocabulary import ROLES
from workflows.words import N_


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    email: str
    roles: tuple[str, ...]
    active: bool
    must_change_password: bool
    two_step: bool


def _admin(ctx: ServiceContext, actor: Actor, doing: str) -> int:
    """The acting admin's id; ``doing`` is marked English ("add officers"), said in the refusal."""
    return require_role(ctx, actor, ("admin",), doing).id


def _record(ctx: ServiceContext, admin_id: int, officer_id: int, action: str, **payload: Any) -> None:
    append_admin_event(ctx, admin_id, action, officer_id=officer_id, payload=payload)


def _officer(ctx: ServiceContext, officer_id: int) -> Officer:
    officer = ctx.session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(N_("There is no such officer."))
    return officer


def accounts(ctx: ServiceContext, actor: Actor) -> list[Account]:
    _admin(ctx, actor, N_("administer officers"))
    return [
        Account(
            o.id, o.name, o.email, tuple(sorted(o.roles)), o.active, o.must_change_password, o.totp_secret is not None
        )
        for o in ctx.session.scalars(select(Officer).order_by(Officer.name, Officer.id))
    ]


def account(ctx: ServiceContext, actor: Actor, officer_id: int) -> Account:
    _admin(ctx, actor, N_("administer officers"))
    o = _officer(ctx, officer_id)
    return Account(
        o.id, o.name, o.email, tuple(sorted(o.roles)), o.active, o.must_change_password, o.totp_secret is not None
    )


def history(ctx: ServiceContext, actor: Actor, officer_id: int) -> list[AdminEvent]:
    """What was done to this officer's account, newest first."""
    _admin(ctx, actor, N_("administer officers"))
    return list(
        ctx.session.scalars(
            select(AdminEvent).where(AdminEvent.officer_id == officer_id).order_by(AdminEvent.seq.desc())
        )
    )


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def add_officer(ctx: ServiceContext, actor: Actor, *, email: str, name: str, roles: Iterable[str]) -> tuple[int, str]:
    """A new officer with a temporary password (shown once), to change at first sign-in."""
    admin_id = _admin(ctx, actor, N_("add officers"))
    password = temporary_password()
    officer = create_officer(
        ctx, email=email, name=name, roles=roles, password=password, added_by=admin_id, must_change_password=True
    )
    return officer.id, password


def set_roles(ctx: ServiceContext, actor: Actor, officer_id: int, roles: Iterable[str]) -> None:
    admin_id = _admin(ctx, actor, N_("change officers' roles"))
    chosen = sorted(set(roles))
    if not chosen or any(r not in ROLES for r in chosen):
        raise ValidationFailed({"roles": [N_("Choose at least one role from the list")]})
    officer = _officer(ctx, officer_id)
    if officer.id == admin_id and "admin" not in chosen:
        raise Conflict(N_("You cannot take the admin role from yourself: ask another administrator."))
    before = sorted(officer.roles)
    officer.role_rows = [OfficerRole(role=r) for r in chosen]
    ctx.session.flush()
    _record(ctx, admin_id, officer.id, "roles_changed", before=before, after=chosen)


def set_active(ctx: ServiceContext, actor: Actor, officer_id: int, active: bool) -> None:
    """Deactivating ends every session and API token of the officer at once."""
    admin_id = _admin(ctx, actor, N_("deactivate or reactivate officers"))
    officer = _officer(ctx, officer_id)
    if officer.id == admin_id and not active:
        raise Conflict(N_("You cannot deactivate yourself: ask another administrator."))
    officer.active = active
    if not active:
        credentials_changed(ctx, officer)
    _record(ctx, admin_id, officer.id, "reactivated" if active else "deactivated")


def reset_password(ctx: ServiceContext, actor: Actor, officer_id: int) -> str:
    """A temporary password (shown once to the admin); the officer must choose a new one at
    the next sign-in. Their sessions and API tokens end."""
    admin_id = _admin(ctx, actor, N_("reset passwords"))
    officer = _officer(ctx, officer_id)
    password = temporary_password()
    officer.password_hash = hash_password(password)
    officer.must_change_password = True
    credentials_changed(ctx, officer)
    _record(ctx, admin_id, officer.id, "password_reset")
    return password


def reset_two_step(ctx: ServiceContext, actor: Actor | None, officer_id: int) -> str:
    """For an officer who lost their phone: two-step verification is off, and they get a temporary
    password (returned, shown once), so that whoever set it up again holds what the admin handed
    over, not just the old password. Their sessions and API tokens end. ``actor`` None is an
    operator at the command line (for an only admin who lost their phone)."""
    admin_id = None if actor is None else _admin(ctx, actor, N_("reset two-step verification"))
    officer = _officer(ctx, officer_id)
    if officer.id == admin_id:
        raise Conflict(N_("Ask another administrator to reset your two-step verification."))
    officer.totp_secret = officer.totp_pending_secret = officer.totp_last_step = None
    officer.totp_failures, officer.totp_failures_since = 0, None
    password = temporary_password()
    officer.password_hash = hash_password(password)
    officer.must_change_password = True
    credentials_changed(ctx, officer)
    append_admin_event(ctx, admin_id, "two_step_reset", officer_id=officer.id)
    return password


def revoke_api_tokens(ctx: ServiceContext, actor: Actor, officer_id: int) -> int:
    admin_id = _admin(ctx, actor, N_("revoke API tokens"))
    officer = _officer(ctx, officer_id)
    count = officers.revoke_api_tokens(ctx, officer.id)
    _record(ctx, admin_id, officer.id, "api_tokens_revoked", count=count)
    return count
