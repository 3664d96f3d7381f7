"""Administering officer accounts (admins): add one, set roles, deactivate or reactivate, reset a
password or two-step verification, revoke API tokens; each recorded in the admin log."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from guarantee.console import bp, expired, forms, summary
from guarantee.i18n import say
from guarantee.pages import render_error
from guarantee.services import admin
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, ValidationFailed
from guarantee.transactions import read_only, transactional, undo
from workflows.vocabulary import ROLES


@bp.route("/admin", methods=["GET", "POST"])
@login_required
@transactional
def officers(ctx: ServiceContext) -> ResponseReturnValue:
    """Every officer account; add one (with a temporary password, shown once)."""
    problem = None
    if request.method == "POST":
        if not forms.CsrfForm().validate():
            return expired()
        try:
            officer_id, password = admin.add_officer(
                ctx,
                current_user.actor,
                email=request.form.get("email", ""),
                name=request.form.get("name", ""),
                roles=request.form.getlist("roles"),
            )
        except ValidationFailed as failed:
            undo()
            problem = summary(failed)
        else:
            return render_template("console/temporary_password.html", officer_id=officer_id, password=password)
    listed = admin.accounts(ctx, current_user.actor)
    page = render_template("console/officers.html", accounts=listed, roles=ROLES, problem=problem, typed=request.form)
    return make_response(page, 400 if problem else 200)


@bp.get("/admin/<int(max=2147483647):officer_id>")
@login_required
@read_only
def officer_account(ctx: ServiceContext, officer_id: int) -> ResponseReturnValue:
    found = admin.account(ctx, current_user.actor, officer_id)
    events = [(e.occurred_at, e.action, e.payload) for e in admin.history(ctx, current_user.actor, officer_id)]
    return render_template("console/officer.html", account=found, events=events, roles=ROLES)


@bp.post("/admin/<int(max=2147483647):officer_id>/<change>")
@login_required
@transactional
def change_officer(ctx: ServiceContext, officer_id: int, change: str) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return expired()
    password = None
    try:
        if change == "roles":
            admin.set_roles(ctx, current_user.actor, officer_id, request.form.getlist("roles"))
            done = _("Roles saved.")
        elif change in ("deactivate", "reactivate"):
            admin.set_active(ctx, current_user.actor, officer_id, change == "reactivate")
            done = (
                _("Account deactivated: its sessions and API tokens have ended.")
                if change == "deactivate"
                else _("Account reactivated.")
            )
        elif change == "reset-password":
            password = admin.reset_password(ctx, current_user.actor, officer_id)
            done = _("Password reset.")
        elif change == "reset-two-step":
            password = admin.reset_two_step(ctx, current_user.actor, officer_id)
            done = _("Two-step verification reset.")
        elif change == "revoke-tokens":
            revoked = admin.revoke_api_tokens(ctx, current_user.actor, officer_id)
            done = ngettext("%(num)d API tokens revoked.", "%(num)d API tokens revoked.", revoked)
        else:
            return render_error(404)
    except (ValidationFailed, Conflict) as refused:
        undo()  # nothing was changed, although the answer is a redirect
        why = say(refused.message) if isinstance(refused, Conflict) else _("Choose at least one role.")
        flash(_("Nothing was changed. %(why)s", why=why))
        return redirect(url_for("console.officer_account", officer_id=officer_id), code=303)
    if password is not None:
        return render_template(
            "console/temporary_password.html",
            officer_id=officer_id,
            password=password,
            two_step_reset=change == "reset-two-step",
        )
    flash(done, "success")
    return redirect(url_for("console.officer_account", officer_id=officer_id), code=303)
