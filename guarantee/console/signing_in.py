"""Signing in (a password, then a code where two-step verification is on), signing out,
changing one's password, and setting up or turning off two-step verification."""

from __future__ import annotations

import segno
from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from guarantee import sign_in_limits
from guarantee.console import bp, expired, forms, local, sessions
from guarantee.extensions import limiter
from guarantee.i18n import say, say_all
from guarantee.pages import render_error
from guarantee.public.forms import show_errors
from guarantee.services import two_step
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, TooManyAttempts, ValidationFailed
from guarantee.services.officers import active_officer, authenticate, change_password, end_sessions, officer_for_code
from guarantee.transactions import keep, read_only, transactional
from workflows.words import N_

SIGN_IN_FAILED = N_("Enter a correct email address and password")
PASSWORD_SIGN_IN_OFF = N_("Signing in with a password is turned off. Sign in with your council account instead.")


@bp.route("/sign-in", methods=["GET", "POST"])
@sign_in_limits.limited
@transactional
def sign_in(ctx: ServiceContext) -> ResponseReturnValue:
    form = forms.SignInForm()
    if request.method == "POST" and not current_app.config["GUARANTEE_PASSWORD_SIGN_IN"]:
        return render_error(
            403, PASSWORD_SIGN_IN_OFF, next_step=(N_("Go to the sign-in page"), url_for("console.sign_in"))
        )
    if request.method == "GET" or not form.validate():
        return render_template("console/sign_in.html", form=form), 200 if request.method == "GET" else 400
    target = request.args.get("next") or ""
    target = target if local(target) else url_for("console.queue_page")
    officer = authenticate(ctx, form.email.data or "", form.password.data or "")
    if officer is not None and officer.totp_secret is not None:
        sessions.await_code(officer, target)
        return redirect(url_for("console.sign_in_code"), code=303)
    if officer is None:
        form.password.data = ""
        show_errors(form, {"email": [say(SIGN_IN_FAILED)]})
        return render_template("console/sign_in.html", form=form), 400
    sessions.start(sessions.signed_in(officer))
    return redirect(target, code=303)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit("50 per hour", methods=["POST"])
@transactional
def sign_in_code(ctx: ServiceContext) -> ResponseReturnValue:
    """The second step of signing in: the code from the officer's authenticator app. Wrong codes
    are counted on the officer (five in 15 minutes), whatever browser or address they come from."""
    if current_user.is_authenticated:
        return redirect(url_for("console.queue_page"), code=303)
    waiting = sessions.awaiting_code()
    if waiting is None:
        lapsed = session.pop("awaiting_code", None) is not None
        flash(_("The code was not entered within 5 minutes. Sign in again.") if lapsed else _("Sign in to continue."))
        return redirect(url_for("console.sign_in"), code=303)
    form = forms.CodeForm()
    if request.method == "GET" or not form.validate():
        return render_template("console/sign_in_code.html", form=form), 200 if request.method == "GET" else 400
    try:
        officer = officer_for_code(ctx, int(waiting["officer"]), str(waiting["nonce"]))
        if officer is not None:
            two_step.check_code(ctx, officer, form.code.data)
    except two_step.WrongCode as wrong:
        two_step.count_wrong_code(ctx, wrong.officer_id)
        keep()  # the refusal is a 400, and the wrong code still counts
        form.code.data = ""
        show_errors(form, {"code": [say(wrong.message)]})
        return render_template("console/sign_in_code.html", form=form), 400
    except TooManyAttempts as refused:
        return render_error(429, say(refused.message))
    if officer is None:  # deactivated, reset, signed out everywhere or turned off meanwhile
        session.clear()
        flash(
            _("Your sign-in was stopped because your account changed or you were signed out elsewhere. Sign in again.")
        )
        return redirect(url_for("console.sign_in"), code=303)
    provider_mfa = waiting.get("provider_mfa")  # signed in through the identity provider, without MFA
    sessions.start(sessions.signed_in(officer, provider_mfa if isinstance(provider_mfa, bool) else None))
    return redirect(str(waiting["next"]), code=303)


@bp.post("/sign-out")
@login_required
@transactional
def sign_out(ctx: ServiceContext) -> ResponseReturnValue:
    if not forms.SignOutForm().validate():
        return render_error(400, _("Your session had expired. Sign out again."))
    end_sessions(ctx, current_user.officer_id)  # every session of this officer, everywhere
    logout_user()
    session.clear()
    return redirect(url_for("console.signed_out"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
@transactional
def password(ctx: ServiceContext) -> ResponseReturnValue:
    """Choose a new password (required after an administrator reset it). Other sessions end."""
    form = forms.PasswordForm()
    if request.method == "GET" or not form.validate():
        return render_template("console/password.html", form=form), 200 if request.method == "GET" else 400
    try:
        officer = change_password(
            ctx, current_user.officer_id, form.current_password.data or "", form.new_password.data or ""
        )
    except ValidationFailed as failed:
        show_errors(form, say_all(failed.errors))
        return render_template("console/password.html", form=form), 400
    sessions.start(sessions.signed_in(officer), keep_started=True)  # this session goes on; the others have ended
    flash(_("Your password was changed. Any other sessions of yours have ended."), "success")
    return redirect(url_for("console.queue_page"), code=303)


@bp.get("/two-step")
@login_required
@read_only
def two_step_page(ctx: ServiceContext) -> ResponseReturnValue:
    return _two_step_page(ctx)


def _two_step_page(
    ctx: ServiceContext, status: int = 200, form: FlaskForm | None = None, problem: str | None = None
) -> Response:
    """Two-step verification: set it up (a QR code and the key, then a code to confirm), set up a
    new phone, or turn it off where it is not required."""
    officer = active_officer(ctx, current_user.actor)
    setup = two_step.pending_setup(ctx, officer)  # begun with a POST: opening the page changes nothing
    page = render_template(
        "console/two_step.html",
        setup=setup,
        qr=_qr_code(setup.uri) if setup else None,
        required=two_step.required(officer, sessions.admins_must_use_two_step()),
        turned_on=officer.totp_secret is not None,
        form=form or forms.CodeForm(formdata=None),
        problem=problem,
    )
    return make_response(page, status)


def _qr_code(uri: str) -> Markup:
    """The key as a QR code, inline SVG: segno draws only paths, from our own URI, with our title."""
    title = _("QR code of your two-step verification key")
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=title)
    label = escape(title)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))  # noqa: S704


@bp.post("/two-step/<change>")
@login_required
@transactional
def two_step_change(ctx: ServiceContext, change: str) -> ResponseReturnValue:
    form = forms.CodeForm()
    if not form.validate():
        return expired()
    officer_id = current_user.officer_id
    now_signed_in = None
    try:
        if change == "confirm":
            officer = two_step.confirm_setup(ctx, officer_id, form.code.data, form.current_code.data)
            now_signed_in = sessions.signed_in(officer)
            done = _("Two-step verification is on. You will be asked for a code each time you sign in.")
        elif change == "start":  # the first phone, or a new one
            two_step.begin_setup(ctx, officer_id)
            return redirect(url_for("console.two_step_page"), code=303)
        elif change == "cancel":
            two_step.cancel_setup(ctx, officer_id)
            return redirect(url_for("console.two_step_page"), code=303)
        elif change == "turn-off":
            two_step.turn_off(ctx, officer_id, form.code.data, sessions.admins_must_use_two_step())
            done = _("Two-step verification is off.")
        else:
            return render_error(404)
    except two_step.WrongCode as wrong:
        two_step.count_wrong_code(ctx, wrong.officer_id)
        keep()  # the refusal is a 400, and the wrong code still counts
        form.code.data = form.current_code.data = ""
        show_errors(form, {wrong.field: [say(wrong.message)]})
        return _two_step_page(ctx, 400, form)
    except ValidationFailed as failed:
        form.code.data = form.current_code.data = ""
        show_errors(form, say_all(failed.errors))
        return _two_step_page(ctx, 400, form)
    except Conflict as refused:
        return _two_step_page(ctx, 409, problem=say(refused.message))
    except TooManyAttempts as refused:
        return render_error(429, say(refused.message))
    if now_signed_in is not None:
        sessions.start(now_signed_in, keep_started=True)  # this session goes on; the others have ended
    flash(done, "success")
    return redirect(url_for("console.two_step_page"), code=303)


@bp.get("/signed-out")
def signed_out() -> str:
    return render_template("console/signed_out.html")
