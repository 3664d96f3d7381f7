"""Two-step verification for officers: a six-digit code from an authenticator app (TOTP, RFC 6238,
30-second steps, SHA-1, as every common app expects), asked for after the password at sign-in
and when getting an API token. Optional for each officer; required for admins when the service
is configured so (GUARANTEE_ADMIN_TWO_STEP). A code is accepted once: the last step used is kept,
so a code seen over someone's shoulder cannot be replayed. Wrong codes are counted on the officer's
row (only ever after their password was right): after five in 15 minutes, codes are refused for
the rest of the 15 minutes, whichever browser, address or surface they come from. The secrets
are kept sealed (two_step_secrets), under the key the caller's context carries."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select

from guarantee.models import Officer
from guarantee.services.audit import append_admin_event
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, Forbidden, TooManyAttempts, ValidationFailed
from guarantee.services.officers import credentials_changed
from guarantee.services.two_step_secrets import (
    TwoStepKey,
    forget,
    keep_being_set_up,
    keep_in_use,
    secret_being_set_up,
    secret_in_use,
)
from workflows.words import N_

ISSUER = "Co-production Guarantee"  # the name the authenticator app shows: a name, not translated
# Messages are marked English (workflows.words): each page says them in its reader's language.
STEP_SECONDS = 30
# A code from the step before or after also counts: phones' clocks drift, people type slowly.
DRIFT_STEPS = 1

WRONG_CODE = N_("The code is wrong or has already been used. Enter the code your app shows now")
CODE_FORMAT = N_("Enter the 6-digit code from your authenticator app")
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)
TOO_MANY = N_(
    "Too many wrong codes. Wait 15 minutes and try again, or ask an administrator to reset your "
    "two-step verification if you no longer have your phone."
)


class WrongCode(Exception):
    """The code did not match. The caller rolls back, then counts it with ``count_wrong_code``."""

    def __init__(self, officer_id: int, code: str | None, field: str = "code") -> None:
        super().__init__(WRONG_CODE)
        self.officer_id = officer_id
        self.field = field  # the form field it was typed in
        self.message = WRONG_CODE if clean_code(code) is not None else CODE_FORMAT


@dataclass(frozen=True)
class Setup:
    secret: str  # shown grouped, for typing into an app by hand
    uri: str  # otpauth://, shown as a QR code

    @property
    def grouped(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def required(officer: Officer, admins_must: bool) -> bool:
    """Whether this officer must use two-step verification."""
    return admins_must and "admin" in officer.roles


def needs_setting_up(officer: Officer, admins_must: bool) -> bool:
    return required(officer, admins_must) and officer.totp_secret is None


def clean_code(code: str | None) -> str | None:
    """Six ASCII digits, spaces allowed between them; None if it is not shaped like a code."""
    digits = (code or "").replace(" ", "").replace("-", "")
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


def _matching_step(ctx: ServiceContext, secret: str, code: str, after: int | None) -> int | None:
    """The time step this code belongs to (within the allowed drift, later than ``after``)."""
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = ctx.now()
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after is None or step > after) and secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _key(ctx: ServiceContext) -> TwoStepKey:
    if ctx.two_step_key is None:
        raise RuntimeError("This service context has no two-step key: build it with guarantee.context.service_context")
    return ctx.two_step_key


def _officer(ctx: ServiceContext, officer_id: int) -> Officer:
    officer = ctx.session.scalar(select(Officer).where(Officer.id == officer_id).with_for_update())
    if officer is None or not officer.active:
        raise Forbidden(N_("Your officer account is not active. Ask an administrator to reactivate it."))
    return officer


def begin_setup(ctx: ServiceContext, officer_id: int) -> Setup:
    """A new secret for the officer to add to their app, kept aside until they confirm it with a
    code (a secret already in use goes on working until then). Asked for with a POST: opening the
    page only shows a secret already begun. Flushes only."""
    officer = _officer(ctx, officer_id)
    if officer.totp_pending_secret is None:
        keep_being_set_up(_key(ctx), officer, pyotp.random_base32())
        ctx.session.flush()
    setup = pending_setup(ctx, officer)
    assert setup is not None
    return setup


def pending_setup(ctx: ServiceContext, officer: Officer) -> Setup | None:
    """The secret being set up, to show again on every visit until it is confirmed or cancelled."""
    secret = secret_being_set_up(_key(ctx), officer)
    if secret is None:
        return None
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=officer.email, issuer_name=ISSUER)
    return Setup(secret, uri)


def confirm_setup(ctx: ServiceContext, officer_id: int, code: str | None, current_code: str | None = None) -> Officer:
    """Turn two-step verification on with the secret being set up, once the officer's app shows a
    matching code. Replacing a phone also takes a code from the old one (``current_code``; a lost
    phone is an administrator's reset), so a session left open cannot take the factor over.
    Every other session of theirs ends. Flushes only."""
    officer = _officer(ctx, officer_id)
    pending = secret_being_set_up(_key(ctx), officer)
    if pending is None:
        raise Conflict(N_("Start setting up two-step verification again: this page had expired."))
    if officer.totp_secret is not None:
        try:
            check_code(ctx, officer, current_code)
        except WrongCode as wrong:
            raise WrongCode(wrong.officer_id, current_code, "current_code") from None
    cleaned = clean_code(code)
    if cleaned is None:
        raise ValidationFailed({"code": [CODE_FORMAT]})
    step = _matching_step(ctx, pending, cleaned, None)
    if step is None:
        raise ValidationFailed({"code": [WRONG_CODE]})
    replacing = officer.totp_secret is not None
    keep_in_use(_key(ctx), officer, pending)
    keep_being_set_up(_key(ctx), officer, None)
    officer.totp_last_step = step
    credentials_changed(ctx, officer)  # what was opened without this factor ends: sessions, API tokens
    append_admin_event(
        ctx, officer.id, "two_step_replaced" if replacing else "two_step_turned_on", officer_id=officer.id
    )
    return officer


def check_code(ctx: ServiceContext, officer: Officer, code: str | None) -> None:
    """Accept the officer's current code, once; otherwise raise WrongCode (or TooManyAttempts
    after too many wrong ones). The caller holds the officer's row for the transaction, so one
    code cannot be used twice at once. Flushes only."""
    now = ctx.now()
    since = officer.totp_failures_since
    if officer.totp_failures >= MAX_WRONG_CODES and since is not None and now - since < WRONG_CODE_WINDOW:
        raise TooManyAttempts(TOO_MANY)
    cleaned = clean_code(code)
    secret = secret_in_use(_key(ctx), officer)
    step = None
    if secret is not None and cleaned is not None:
        step = _matching_step(ctx, secret, cleaned, officer.totp_last_step)
    if step is None:
        raise WrongCode(officer.id, code)
    officer.totp_last_step, officer.totp_failures, officer.totp_failures_since = step, 0, None
    ctx.session.flush()


def count_wrong_code(ctx: ServiceContext, officer_id: int) -> None:
    """Count a wrong code against the officer, in its own transaction (the attempt's was rolled
    back). Flushes only."""
    officer = ctx.session.scalar(select(Officer).where(Officer.id == officer_id).with_for_update())
    if officer is None:
        return
    now = ctx.now()
    since = officer.totp_failures_since
    if since is None or now - since >= WRONG_CODE_WINDOW:
        officer.totp_failures, officer.totp_failures_since = 1, now
    else:
        officer.totp_failures += 1
    ctx.session.flush()


def turn_off(ctx: ServiceContext, officer_id: int, code: str | None, admins_must: bool) -> None:
    """The officer turns two-step verification off, proving it with a current code. Not allowed
    where it is required. Flushes only."""
    officer = _officer(ctx, officer_id)
    if required(officer, admins_must):
        raise Conflict(N_("Administrators must use two-step verification here, so it cannot be turned off."))
    if officer.totp_secret is None:
        raise Conflict(N_("Two-step verification is not turned on."))
    check_code(ctx, officer, code)
    forget(officer)
    officer.totp_last_step = None
    append_admin_event(ctx, officer.id, "two_step_turned_off", officer_id=officer.id)


def cancel_setup(ctx: ServiceContext, officer_id: int) -> None:
    officer = _officer(ctx, officer_id)
    keep_being_set_up(_key(ctx), officer, None)
    ctx.session.flush()
