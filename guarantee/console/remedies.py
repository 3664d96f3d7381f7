"""Remedy follow-ups (admins): the groups that answered a check-in that the remedy is not in
place, each due in working days (GUARANTEE_REMEDY_FOLLOW_UP_DAYS), and closing one with a note
of what was done (audited on the claim's chain; services.remedies)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SubmitField, TextAreaField

from guarantee.console import bp, submitted
from guarantee.services import remedies
from guarantee.services.context import ServiceContext
from guarantee.transactions import read_only, transactional
from guarantee.widgets import GovSubmitInput, GovTextArea


class CloseFollowUpForm(FlaskForm):  # type: ignore[misc]
    note = TextAreaField(_l("What was done"), widget=GovTextArea())
    submit = SubmitField(_l("Close the follow-up"), widget=GovSubmitInput())


@bp.get("/remedy-follow-ups")
@login_required
@read_only
def remedy_follow_ups(ctx: ServiceContext) -> ResponseReturnValue:
    """The open follow-ups, soonest due first; those past their due date are overdue."""
    return render_template(
        "console/remedy_follow_ups.html",
        follow_ups=remedies.open_follow_ups(ctx, current_user.actor),
        today=ctx.today(),
    )


def _page(ctx: ServiceContext, check_in_id: int, form: CloseFollowUpForm, status: int = 200) -> Response:
    shown = remedies.follow_up(ctx, current_user.actor, check_in_id)
    page = render_template("console/remedy_follow_up.html", follow_up=shown, form=form, today=ctx.today())
    return make_response(page, status)


@bp.get("/remedy-follow-ups/<int(max=2147483647):check_in_id>")
@login_required
@read_only
def remedy_follow_up(ctx: ServiceContext, check_in_id: int) -> ResponseReturnValue:
    return _page(ctx, check_in_id, CloseFollowUpForm(formdata=None))


@bp.post("/remedy-follow-ups/<int(max=2147483647):check_in_id>")
@login_required
@transactional
def close_remedy_follow_up(ctx: ServiceContext, check_in_id: int) -> ResponseReturnValue:
    form = CloseFollowUpForm()
    if not submitted(form, lambda: remedies.close_follow_up(ctx, current_user.actor, check_in_id, form.note.data)):
        return _page(ctx, check_in_id, form, 400)
    flash(_("The follow-up is closed, and your note is on the claim's timeline."), "success")
    return redirect(url_for("console.remedy_follow_ups"), code=303)
