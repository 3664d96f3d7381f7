"""Bulk actions on the claims ticked in the queue, from its sticky action bar: assign them all to
an officer (or to nobody), or decline them as duplicates of one claim after a page that asks which
and why. All or none: one refused claim and nothing is changed."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from guarantee.console import bp, expired, forms, local
from guarantee.console.queue import render_queue
from guarantee.i18n import say, say_all
from guarantee.pages import render_error
from guarantee.services import queue
from guarantee.services.casework import assign_many, decline_as_duplicates
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.transactions import transactional, undo
from workflows.words import N_

RELOAD = N_("Nothing was changed. Reload the queue and select the claims again.")


@bp.post("/bulk")
@login_required
@transactional
def bulk(ctx: ServiceContext) -> ResponseReturnValue:
    """Assign the selected claims, or decline them as duplicates of one claim: all or none."""
    back = request.form.get("back") or ""
    if not local(back):
        back = url_for("console.queue_page")
    if not forms.CsrfForm().validate():
        return expired(_("Go back to the queue and try again."))
    references = list(dict.fromkeys(request.form.getlist("reference")))
    # The version of each claim as the queue showed it: a claim changed since is not touched.
    versions = {r: queue.as_id(request.form.get(f"version-{r}")) for r in references}
    if any(v is None for v in versions.values()):
        flash(say(RELOAD))
        return redirect(back, code=303)
    action = request.form.get("action")
    if action == "assign":
        return _assign(ctx, back, references, versions)
    if action == "decline_duplicates":
        if "duplicate_of" not in request.form:  # from the queue: ask which claim, and why
            return _decline_page(ctx, back, references, versions)
        return _decline(ctx, back, references, versions)
    return render_error(400, _("Choose what to do with the selected claims."))


def _back_to_queue(
    ctx: ServiceContext, back: str, references: list[str], errors: dict[str, list[str]]
) -> ResponseReturnValue:
    """The queue the officer came from, again, saying what was refused, with their ticks kept."""
    args = MultiDict(parse_qsl(urlsplit(back).query))
    return render_queue(ctx, args, errors=errors, ticked=tuple(references))


def _assign(
    ctx: ServiceContext, back: str, references: list[str], versions: dict[str, int | None]
) -> ResponseReturnValue:
    chosen = request.form.get("assignee", "")
    assignee = None if chosen == "none" else queue.as_id(chosen)
    if chosen != "none" and assignee is None:
        return _back_to_queue(ctx, back, references, {"assignee": [_("Choose who to assign the claims to")]})
    try:
        count = assign_many(ctx, references, assignee, current_user.actor, versions=versions)
    except ValidationFailed as failed:
        undo()  # all or none: the claims done before the refusal are not changed either
        return _back_to_queue(ctx, back, references, nothing_changed(failed))
    if assignee is None:
        flash(ngettext("%(num)d claim unassigned.", "%(num)d claims unassigned.", count), "success")
    else:
        flash(ngettext("%(num)d claim assigned.", "%(num)d claims assigned.", count), "success")
    return redirect(back, code=303)


def nothing_changed(failed: ValidationFailed) -> dict[str, list[str]]:
    """A refusal of several claims at once, for the page that says so: nothing was changed, and why
    (in the reader's language)."""
    messages = [say(m) for ms in failed.errors.values() for m in ms]
    return {"references": [" ".join((_("Nothing was changed."), messages[0])), *messages[1:]]}


def _decline_page(
    ctx: ServiceContext,
    back: str,
    references: list[str],
    versions: dict[str, int | None],
    errors: dict[str, list[str]] | None = None,
) -> ResponseReturnValue:
    """Which claim the ticked ones duplicate, and what to tell their groups, before any is declined."""
    if not references:
        return _back_to_queue(ctx, back, references, {"references": [_("Select at least one claim")]})
    html = render_template(
        "console/decline_duplicates.html",
        claims=queue.claims_by_reference(ctx, current_user.actor, references),
        versions=versions,
        back=back,
        errors=errors or {},
        typed=request.form,
    )
    return make_response(html, 400 if errors else 200)


def _decline(
    ctx: ServiceContext, back: str, references: list[str], versions: dict[str, int | None]
) -> ResponseReturnValue:
    duplicate_of = (request.form.get("duplicate_of") or "").strip().upper()
    explanation = request.form.get("explanation") or ""
    try:
        count = decline_as_duplicates(ctx, references, duplicate_of, explanation, current_user.actor, versions=versions)
    except ValidationFailed as failed:
        undo()
        return _decline_page(ctx, back, references, versions, say_all(failed.errors))
    flash(
        ngettext("%(num)d claim declined as a duplicate.", "%(num)d claims declined as duplicates.", count),
        "success",
    )
    return redirect(back, code=303)
