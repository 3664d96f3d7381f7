"""Officers' console sessions: Flask-Login over the signed session cookie, bound to the
officer's session nonce, so that signing out, a password change or deactivation ends every
session of that officer on every machine. Sessions end after 15 minutes without a page and
8 hours after signing in, by the service's clock (injectable, so tests can move it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, session
from flask_login import UserMixin, login_user

from guarantee.context import service_context
from guarantee.extensions import login_manager
from guarantee.i18n import say
from guarantee.models import Officer
from guarantee.services import two_step
from guarantee.services.actors import OfficerActor
from guarantee.services.officers import officer_for_session
from workflows.words import N_

IDLE = timedelta(minutes=15)
ABSOLUTE = timedelta(hours=8)


@dataclass(frozen=True)
class SignedIn(UserMixin):  # type: ignore[misc]
    """The officer of this session, as loaded for this request."""

    officer_id: int
    name: str
    email: str
    roles: frozenset[str]
    nonce: str
    must_change_password: bool = False
    # An admin who must use two-step verification and has not set it up yet.
    must_set_up_two_step: bool = False
    two_step: bool = False
    # Signed in through the council's identity provider (guarantee.single_sign_on): whether it did
    # multi-factor authentication; None when signed in with a password.
    provider_mfa: bool | None = None

    def get_id(self) -> str:
        return f"{self.officer_id}:{self.nonce}"

    @property
    def actor(self) -> OfficerActor:
        return OfficerActor(self.officer_id)


def _now() -> datetime:
    now: datetime = current_app.extensions["guarantee.clock"].now()
    return now


def _load(session_id: str) -> SignedIn | None:
    officer_id, _, nonce = session_id.partition(":")
    if not officer_id.isascii() or not officer_id.isdigit() or len(officer_id) > 9 or not nonce:
        return None
    ctx = service_context()
    try:
        officer = officer_for_session(ctx, int(officer_id), nonce)
        if officer is None:
            return None
        provider_mfa = session.get("provider_mfa")
        return signed_in(officer, provider_mfa if isinstance(provider_mfa, bool) else None)
    finally:
        ctx.rollback()


def signed_in(officer: Officer, provider_mfa: bool | None = None) -> SignedIn:
    """``provider_mfa``: signed in through the identity provider, which did (True) or did not (False)
    multi-factor authentication. Then no password is asked to be changed (it was not used), and
    an admin who must use two-step verification need not set it up here if the provider did MFA."""
    return SignedIn(
        officer.id,
        officer.name,
        officer.email,
        officer.roles,
        officer.session_nonce,
        officer.must_change_password and provider_mfa is None,
        two_step.needs_setting_up(officer, admins_must_use_two_step()) and not provider_mfa,
        officer.totp_secret is not None,
        provider_mfa,
    )


def admins_must_use_two_step() -> bool:
    return bool(current_app.config["GUARANTEE_ADMIN_TWO_STEP"])


# --- between the password and the code ---------------------------------------------------

CODE_WAIT = timedelta(minutes=5)


def await_code(officer: Officer, next_url: str, *, provider_mfa: bool | None = None) -> None:
    """The password was right and the officer uses two-step verification: nobody is signed in
    until the code is, within 5 minutes, and only while the officer's sessions stand."""
    session.clear()
    session["awaiting_code"] = {
        "officer": officer.id,
        "nonce": officer.session_nonce,
        "at": _now().timestamp(),
        "next": next_url,
        "provider_mfa": provider_mfa,
    }


def awaiting_code() -> dict[str, Any] | None:
    """Who entered the right password and has yet to enter a code, if still in time."""
    waiting = session.get("awaiting_code")
    if not isinstance(waiting, dict) or _now().timestamp() - float(waiting.get("at", 0)) > CODE_WAIT.total_seconds():
        return None
    return waiting


def start(officer: SignedIn, *, keep_started: bool = False) -> None:
    """Sign the officer in on this browser. ``keep_started``: the same sign-in goes on under a new
    nonce (after a password or two-step change), so the 8 hours still count from signing in."""
    started = session.get("signed_in_at") if keep_started else None
    session.clear()  # nothing from before signing in carries over
    login_user(officer)
    if officer.provider_mfa is not None:
        session["provider_mfa"] = officer.provider_mfa
    session["signed_in_at"] = session["last_seen"] = _now().timestamp()
    if started is not None:
        session["signed_in_at"] = started


def lapsed() -> str | None:
    """Why this session has ended by time (marked English: the page says it), or None; otherwise it
    counts as seen now."""
    now = _now().timestamp()
    signed_in_at = float(session.get("signed_in_at", 0))
    last_seen = float(session.get("last_seen", 0))
    if now - signed_in_at > ABSOLUTE.total_seconds():
        return N_("You were signed out because you had been signed in for 8 hours. Sign in again to carry on.")
    if now - last_seen > IDLE.total_seconds():
        return N_("You were signed out after 15 minutes without activity. Sign in again to carry on.")
    session["last_seen"] = now
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load)
    login_manager.login_view = "console.sign_in"
    login_manager.login_message = N_("Sign in to use the officers' console.")
    login_manager.localize_callback = say  # flashed in the reader's language
    login_manager.session_protection = None  # the nonce and the time limits do this job
