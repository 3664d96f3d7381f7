"""The regulation catalogue: search it, correct an entry, merge a duplicate into another."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee.console import bp, expired, forms, may, submitted
from guarantee.i18n import say
from guarantee.services import queue
from guarantee.services import regulations as catalogue_entries
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, ValidationFailed
from guarantee.transactions import read_only, transactional, undo


@bp.get("/regulations")
@login_required
@read_only
def catalogue(ctx: ServiceContext) -> ResponseReturnValue:
    text = request.args.get("q", "").replace("\x00", "")[:200]
    entries = catalogue_entries.search(ctx, current_user.actor, text)
    return render_template("console/regulations.html", entries=entries, q=text)


def _regulation_page(
    ctx: ServiceContext,
    regulation_id: int,
    status: int = 200,
    *,
    form: FlaskForm | None = None,
    problem: str | None = None,
) -> Response:
    found = catalogue_entries.entry(ctx, current_user.actor, regulation_id)
    listed = catalogue_entries.search(ctx, current_user.actor, limit=1000)
    page = render_template(
        "console/regulation.html",
        regulation_id=regulation_id,
        title=found.title,
        form=form or forms.RegulationForm(obj=found, formdata=None),
        others=[e for e in listed if e.id != regulation_id],
        problem=problem,
        may_edit=may(catalogue_entries.EDITORS),
        public_page=url_for("rules.rule", slug=found.slug),
    )
    return make_response(page, status)


@bp.route("/regulations/<int(max=2147483647):regulation_id>", methods=["GET", "POST"])
@login_required
@transactional
def regulation(ctx: ServiceContext, regulation_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return _regulation_page(ctx, regulation_id)
    form = forms.RegulationForm()
    if not submitted(form, lambda: catalogue_entries.correct(ctx, current_user.actor, regulation_id, form.data)):
        return _regulation_page(ctx, regulation_id, 400, form=form)
    flash(_("The catalogue entry was saved."), "success")
    return redirect(url_for("console.regulation", regulation_id=regulation_id), code=303)


@bp.post("/regulations/<int(max=2147483647):regulation_id>/merge")
@login_required
@transactional
def merge_regulation(ctx: ServiceContext, regulation_id: int) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return expired()
    into = queue.as_id(request.form.get("into"))
    if into is None:
        return _regulation_page(ctx, regulation_id, 400, problem=_("Choose the entry this one duplicates."))
    try:
        moved = catalogue_entries.merge(ctx, current_user.actor, regulation_id, into)
    except (ValidationFailed, Conflict) as refused:
        undo()
        message = (
            say(refused.message) if isinstance(refused, Conflict) else _("Choose a different entry to merge into.")
        )
        return _regulation_page(ctx, regulation_id, 409, problem=message)
    flash(
        ngettext(
            "Merged: %(num)d claims now point to this entry.", "Merged: %(num)d claims now point to this entry.", moved
        ),
        "success",
    )
    return redirect(url_for("console.regulation", regulation_id=into), code=303)
