"""Signed webhooks in the console (admins): the endpoints, adding one (its secret shown once), an
endpoint's delivery log, turning one back on after failures, removing one. Every change goes in
the admin log (guarantee.webhooks.endpoints)."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from guarantee.console import bp, expired, forms
from guarantee.i18n import say_all
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.services.officers import require_role
from guarantee.transactions import read_only, transactional, undo
from guarantee.webhooks import delivery, endpoints, urls
from guarantee.webhooks.events import EVENT_NAMES
from workflows.words import N_


def _page_facts() -> dict[str, object]:
    return {
        "event_names": EVENT_NAMES,
        "turn_off_after": delivery.TURN_OFF_AFTER,
        "max_attempts": current_app.config["GUARANTEE_WEBHOOKS_MAX_ATTEMPTS"],
        "log_days": endpoints.LOG_DAYS,
    }


@bp.get("/webhooks")
@login_required
@read_only
def webhooks(ctx: ServiceContext) -> ResponseReturnValue:
    """Every endpoint: its URL, events, whether it is on; a notice for any turned off."""
    listed = endpoints.all_endpoints(ctx, current_user.actor)
    waiting = endpoints.waiting(ctx, [e.id for e in listed])
    return render_template("console/webhooks.html", endpoints=listed, waiting=waiting, **_page_facts())


@bp.route("/webhooks/new", methods=["GET", "POST"])
@login_required
@transactional
def add_webhook(ctx: ServiceContext) -> ResponseReturnValue:
    """Register an endpoint; its signing secret is shown once, on the page that answers."""
    errors: dict[str, list[str]] = {}
    if request.method == "GET":
        require_role(ctx, current_user.actor, endpoints.ADMINS, N_("add a webhook endpoint"))
    else:
        if not forms.CsrfForm().validate():
            return expired()
        try:
            added = endpoints.add(
                ctx,
                current_user.actor,
                current_app.extensions["guarantee.two_step_key"],
                urls.policy_from(current_app.config),
                url=request.form.get("url", ""),
                description=request.form.get("description", ""),
                events=request.form.getlist("events"),
            )
        except ValidationFailed as failed:
            undo()
            errors = say_all(failed.errors)
        else:
            return render_template("console/webhook_secret.html", endpoint=added.endpoint, secret=added.secret)
    page = render_template("console/webhook_add.html", errors=errors, typed=request.form, **_page_facts())
    return make_response(page, 400 if errors else 200)


@bp.get("/webhooks/<int(max=2147483647):endpoint_id>")
@login_required
@read_only
def webhook(ctx: ServiceContext, endpoint_id: int) -> ResponseReturnValue:
    """One endpoint and its delivery log of the last 30 days."""
    found = endpoints.endpoint(ctx, current_user.actor, endpoint_id)
    return render_template(
        "console/webhook.html",
        endpoint=found,
        log=endpoints.delivery_log(ctx, current_user.actor, endpoint_id),
        waiting=endpoints.waiting(ctx, [found.id]).get(found.id, 0),
        **_page_facts(),
    )


@bp.post("/webhooks/<int(max=2147483647):endpoint_id>/turn-on")
@login_required
@transactional
def turn_webhook_on(ctx: ServiceContext, endpoint_id: int) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return expired()
    if endpoints.turn_on(ctx, current_user.actor, endpoint_id):
        flash(_("The endpoint is on again: its waiting messages go at the worker's next round."), "success")
    else:
        flash(_("The endpoint was already on."), "info")
    return redirect(url_for("console.webhook", endpoint_id=endpoint_id), code=303)


@bp.post("/webhooks/<int(max=2147483647):endpoint_id>/remove")
@login_required
@transactional
def remove_webhook(ctx: ServiceContext, endpoint_id: int) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return expired()
    endpoints.remove(ctx, current_user.actor, endpoint_id)
    flash(_("The endpoint was removed, with its waiting messages and its delivery log."), "success")
    return redirect(url_for("console.webhooks"), code=303)
