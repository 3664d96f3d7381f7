"""The team's workload (admins and team leaders): each officer's open claims in each state, how
many are overdue and the earliest due date, each count a link to those claims in the queue; and
giving an officer's claims to another, all or none."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from guarantee.console import bp, expired, forms
from guarantee.console.bulk import nothing_changed
from guarantee.i18n import say, say_all
from guarantee.services import queue, workload
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, ValidationFailed
from guarantee.services.officers import active_names
from guarantee.transactions import read_only, transactional, undo
from workflows import ACTIVE_STATES

FIELD_IDS = {"assignee": "assignee", "references": "claims"}


def _not_allowed(refused: Forbidden) -> ResponseReturnValue:
    """A console page (not the public error page) saying who may see the team's work."""
    html = render_template("console/not_allowed.html", message=say(refused.message))
    return make_response(html, 403)


@bp.get("/team")
@login_required
@read_only
def team(ctx: ServiceContext) -> ResponseReturnValue:
    """Each officer's open claims by state, overdue, and earliest due date; the unassigned last."""
    try:
        loads = workload.team_workload(ctx, current_user.actor)
    except Forbidden as refused:
        return _not_allowed(refused)
    return render_template("console/team.html", loads=loads, states=ACTIVE_STATES)


@bp.route("/team/<int(max=2147483647):officer_id>/reassign", methods=["GET", "POST"])
@login_required
@transactional
def reassign(ctx: ServiceContext, officer_id: int) -> ResponseReturnValue:
    """An officer's open claims, all ticked, and whom to give the ticked ones to: all or none."""
    try:
        holding = workload.claims_held(ctx, current_user.actor, officer_id)
    except Forbidden as refused:
        return _not_allowed(refused)
    errors: dict[str, list[str]] = {}
    ticked = {row["reference"] for row in holding.claims}
    if request.method == "POST":
        if not forms.CsrfForm().validate():
            return expired(_("Go back to the team's workload and try again."))
        ticked = set(request.form.getlist("reference"))
        chosen = request.form.get("assignee", "")
        assignee = None if chosen == "none" else queue.as_id(chosen)
        # The versions the page showed: a claim changed since (or given to someone else) is refused.
        versions = {r: queue.as_id(request.form.get(f"version-{r}")) for r in ticked}
        if chosen != "none" and assignee is None:
            errors["assignee"] = [_("Choose who to give the claims to")]
        elif any(v is None for v in versions.values()):
            errors["references"] = [_("Nothing was changed. Reload this page and choose again.")]
        else:
            try:
                count = workload.reassign(ctx, current_user.actor, sorted(ticked), assignee, versions)
            except ValidationFailed as failed:
                undo()
                errors = say_all(nothing_changed(failed))
            else:
                to = dict(active_names(ctx)).get(assignee or 0) or _("nobody (unassigned)")
                moved = ngettext(
                    "%(num)d claim moved from %(holder)s to %(to)s.",
                    "%(num)d claims moved from %(holder)s to %(to)s.",
                    count,
                    holder=holding.name,
                    to=to,
                )
                flash(moved, "success")
                return redirect(url_for("console.team"), code=303)
        holding = workload.claims_held(ctx, current_user.actor, officer_id)  # as it is now
    html = render_template(
        "console/reassign.html",
        holding=holding,
        officers=[(i, name) for i, name in active_names(ctx) if i != holding.officer_id],
        ticked=ticked,
        chosen=request.form.get("assignee", ""),
        errors=errors,
        error_list=[
            {"text": m, "href": f"#{FIELD_IDS.get(field, 'main-content')}"} for field, ms in errors.items() for m in ms
        ],
    )
    return make_response(html, 400 if errors else 200)
