"""The outbox at a glance (admins), and the messages the sender gave up on, each to try again."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from guarantee.console import bp, expired, forms
from guarantee.services import sender
from guarantee.services.context import ServiceContext
from guarantee.services.officers import require_role
from guarantee.transactions import read_only, transactional
from workflows.words import N_


@bp.get("/messages")
@login_required
@read_only
def messages(ctx: ServiceContext) -> ResponseReturnValue:
    """The outbox at a glance, and the messages the sender gave up on, each to try again."""
    require_role(ctx, current_user.actor, ("admin",), N_("see the messages that could not be sent"))
    failed = sender.failed_messages(ctx)
    return render_template(
        "console/messages.html",
        counts=sender.counts(ctx),
        failed=failed,
        references=sender.claim_references(ctx, failed),
    )


@bp.post("/messages/<int(max=2147483647):message_id>/try-again")
@login_required
@transactional
def try_message_again(ctx: ServiceContext, message_id: int) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return expired()
    admin_officer = require_role(ctx, current_user.actor, ("admin",), N_("send messages again"))
    if sender.try_again(ctx, message_id, admin_officer.id):
        flash(_("The message will be sent again at the sender's next round."), "success")
    else:
        flash(_("That message is no longer waiting to be tried again."), "info")
    return redirect(url_for("console.messages"), code=303)
