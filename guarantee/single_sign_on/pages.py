"""The console's pages of single sign-on: "Sign in with your council account" (start), the page
the provider sends officers back to (callback), the first page of an account with no roles yet,
and the admins' list of e-mail domains whose staff may make an account by signing in."""

from __future__ import annotations

import logging

import requests
from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from guarantee import single_sign_on
from guarantee.console import bp, expired, forms, local, sessions, summary
from guarantee.extensions import limiter
from guarantee.i18n import say
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.single_sign_on import officers, tokens
from guarantee.transactions import transactional, undo
from workflows.words import N_

log = logging.getLogger(__name__)
NOT_SET_UP = N_("Signing in with a council account is not set up for this service. Sign in with your password.")


def _refused(failure: tokens.Failure) -> ResponseReturnValue:
    session.pop("sign_in_next", None)
    log.warning("single sign-on refused: %s", failure.reason)  # the reason's code only: no one's details
    page = render_template("single_sign_on/refused.html", message=say(failure.message))
    return make_response(page, failure.status)


@bp.get("/sign-in/oidc")
@limiter.limit("30 per minute")
def sign_in_with_provider() -> ResponseReturnValue:
    """Off to the council's identity provider (authorization code flow, PKCE S256, state, nonce)."""
    client = single_sign_on.client()
    if client is None:
        return _refused(tokens.Failure("not_set_up", NOT_SET_UP, 404))
    if current_user.is_authenticated:
        return redirect(url_for("console.queue_page"), code=303)
    target = request.args.get("next") or ""
    session["sign_in_next"] = target if local(target) else url_for("console.queue_page")
    try:
        response = client.authorize_redirect(single_sign_on.redirect_uri())
    except (requests.RequestException, ValueError, KeyError, RuntimeError):  # no discovery document to be had
        return _refused(tokens.PROVIDER_DOWN)
    response.status_code = 303
    return response  # type: ignore[no-any-return]


@bp.get("/sign-in/oidc/callback")
@limiter.limit("30 per minute")
@transactional
def signed_in_by_provider(ctx: ServiceContext) -> ResponseReturnValue:
    """Where the provider sends the officer back: check its answer, then sign the officer in (or
    ask for the service's own two-step code if the provider did not do multi-factor)."""
    client = single_sign_on.client()
    if client is None:
        return _refused(tokens.Failure("not_set_up", NOT_SET_UP, 404))
    if request.args.get("error"):  # the officer cancelled, or the provider would not sign them in
        session.pop(f"_state_{single_sign_on.PROVIDER}_{request.args.get('state', '')}", None)
        return _refused(tokens.Failure(f"provider_{request.args['error']}"[:60], tokens.NOT_SIGNED_IN))
    config = current_app.config
    try:
        said = tokens.finish(
            client, config["GUARANTEE_OIDC_ISSUER"], config["GUARANTEE_OIDC_CLIENT_ID"], int(ctx.now().timestamp())
        )
        officer = officers.officer_signing_in(ctx, said)
    except tokens.Failure as failure:
        return _refused(failure)
    except officers.SignInRefused as refused:
        return _refused(tokens.Failure(refused.reason, refused.message, 403))
    target = session.pop("sign_in_next", None) or url_for("console.queue_page")
    mfa = officers.multi_factor(said, config["GUARANTEE_OIDC_MFA_ACR"])
    if officer.totp_secret is not None and not mfa:
        sessions.await_code(officer, target, provider_mfa=False)
        return redirect(url_for("console.sign_in_code"), code=303)
    sessions.start(sessions.signed_in(officer, mfa))
    return redirect(target if officer.roles else url_for("console.no_roles_yet"), code=303)


@bp.get("/no-roles-yet")
@login_required
def no_roles_yet() -> ResponseReturnValue:
    """The first page of an account made by signing in: nothing to do until an admin gives a role."""
    if current_user.roles:
        return redirect(url_for("console.queue_page"), code=303)
    return render_template("single_sign_on/no_roles_yet.html")


@bp.route("/admin/sign-in-domains", methods=["GET", "POST"])
@login_required
@transactional
def sign_in_domains(ctx: ServiceContext) -> ResponseReturnValue:
    """The e-mail domains whose staff may make themselves an account (with no roles) by signing in."""
    problem = None
    if request.method == "POST":
        if not forms.CsrfForm().validate():
            return expired()
        try:
            added = officers.allow_domain(ctx, current_user.actor, request.form.get("domain", ""))
        except ValidationFailed as failed:
            undo()
            problem = summary(failed)
        else:
            flash(
                _(
                    "Staff with a verified email address at %(domain)s can now make an account by signing in.",
                    domain=added,
                ),
                "success",
            )
            return redirect(url_for("console.sign_in_domains"), code=303)
    page = render_template(
        "single_sign_on/sign_in_domains.html",
        domains=officers.allowed_domains(ctx, current_user.actor),
        problem=problem,
        typed=request.form.get("domain", ""),
        set_up=single_sign_on.client() is not None,
        redirect_uri=single_sign_on.redirect_uri(),
    )
    return make_response(page, 400 if problem else 200)


@bp.post("/admin/sign-in-domains/remove")
@login_required
@transactional
def remove_sign_in_domain(ctx: ServiceContext) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return expired()
    domain = request.form.get("domain", "")
    try:
        officers.remove_domain(ctx, current_user.actor, domain)
    except NotFound as missing:
        undo()
        flash(say(missing.message))
        return redirect(url_for("console.sign_in_domains"), code=303)
    flash(
        _("%(domain)s was removed. Accounts already made stay as they are.", domain=domain.strip().lower()), "success"
    )
    return redirect(url_for("console.sign_in_domains"), code=303)
