"""An officer's own settings: which kinds of e-mail they get (those their roles bring)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from guarantee.console import bp, expired, forms, summary
from guarantee.services import officers
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.transactions import transactional, undo


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
@transactional
def mail_settings(ctx: ServiceContext) -> ResponseReturnValue:
    """The kinds of e-mail the officer may get, each a checkbox: ticked, they get it."""
    problem = None
    if request.method == "POST":
        if not forms.CsrfForm().validate():
            return expired(_("Go back to your e-mail settings and try again."))
        try:
            officers.change_mail_settings(ctx, current_user.actor, set(request.form.getlist("kinds")))
        except ValidationFailed as failed:
            undo()
            problem = summary(failed)
        else:
            flash(_("Your e-mail settings are saved."), "success")
            return redirect(url_for("console.mail_settings"), code=303)
    settings = officers.mail_settings(ctx, current_user.actor)
    html = render_template("console/mail_settings.html", settings=settings, problem=problem)
    return make_response(html, 400 if problem else 200)
