"""Officers' console sessions: Flask-Login over the signed session cookie, bound to the
officer's session nonce, so that signing out, a password change or deactivation ends every
session of that officer on every machine. Sessions end after 15 minutes without a page and
8 hours after signing in, by the service's clock (injectable, so tests can move it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, session
from flask_login import UserMixin, login_user

from guarantee.context import service_context
from guarantee.extensions import login_manager
from guarantee.models import Officer
from guarantee.services.actors import OfficerActor
from guarantee.services.officers import officer_for_session

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
        return signed_in(officer)
    finally:
        ctx.rollback()


def signed_in(officer: Officer) -> SignedIn:
    return SignedIn(
        officer.id, officer.name, officer.email, officer.roles, officer.session_nonce, officer.must_change_password
    )


def start(officer: SignedIn) -> None:
    session.clear()  # nothing from before signing in carries over
    login_user(officer)
    session["signed_in_at"] = session["last_seen"] = _now().timestamp()


def lapsed() -> str | None:
    """Why this session has ended by time, or None; otherwise it counts as seen now."""
    now = _now().timestamp()
    signed_in_at = float(session.get("signed_in_at", 0))
    last_seen = float(session.get("last_seen", 0))
    if now - signed_in_at > ABSOLUTE.total_seconds():
        return "You were signed out because you had been signed in for 8 hours. Sign in again to carry on."
    if now - last_seen > IDLE.total_seconds():
        return "You were signed out after 15 minutes without activity. Sign in again to carry on."
    session["last_seen"] = now
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load)
    login_manager.login_view = "console.sign_in"
    login_manager.login_message = "Sign in to use the officers' console."
    login_manager.session_protection = None  # the nonce and the time limits do this job
