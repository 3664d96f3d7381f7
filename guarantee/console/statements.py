"""Decision statements to approve: the second officer's part of publishing (four eyes).

The officer who decides a claim drafts its statement on the decision form; here another officer
reads it beside the personal-data check, may correct its summary (and then a third must approve
it), and approves it for the register. An administrator may withdraw a published statement, with a
public reason. The rules are the service's (``services.publishing``); these pages show them."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField, TextAreaField

from guarantee.console import bp, expired, may, refuse
from guarantee.i18n import say
from guarantee.services import publishing
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.transactions import read_only, transactional
from guarantee.widgets import GovSubmitInput, GovTextArea

STATEMENT_ID = "<int(max=2147483647):statement_id>"


class SummaryForm(FlaskForm):  # type: ignore[misc]
    summary = TextAreaField(
        _l("Summary for the public register"),
        description=_l(
            "If you change it, another officer must approve it: not you, and not the officer who drafted it."
        ),
        widget=GovTextArea(),
    )
    submit = SubmitField(_l("Save the summary"), widget=GovSubmitInput())


class ApproveForm(FlaskForm):  # type: ignore[misc]
    seen = HiddenField()  # the summary this page showed, so that a changed one is read first
    submit = SubmitField(_l("Approve and publish"), widget=GovSubmitInput())


class WithdrawForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        _l("Why it is withdrawn"),
        description=_l("This is published on the register beside the statement, which stays listed as withdrawn."),
        widget=GovTextArea(),
    )
    submit = SubmitField(_l("Withdraw from the register"), widget=GovSubmitInput())


@bp.get("/statements")
@login_required
@read_only
def statements(ctx: ServiceContext) -> ResponseReturnValue:
    waiting = publishing.awaiting(ctx, current_user.actor)
    published = publishing.recently_published(ctx, current_user.actor)
    return render_template(
        "console/statements.html", waiting=waiting, published=published, officer_id=current_user.actor.officer_id
    )


def _statement_page(
    ctx: ServiceContext,
    statement_id: int,
    status: int = 200,
    *,
    edit: SummaryForm | None = None,
    approval_errors: list[str] | None = None,
    withdrawal: WithdrawForm | None = None,
) -> Response:
    shown = publishing.for_approval(ctx, current_user.actor, statement_id)
    statement = shown.statement
    approval = ApproveForm(prefix="approve", formdata=None, data={"seen": publishing.summary_seen(statement)})
    page = render_template(
        "console/statement.html",
        shown=shown,
        statement=statement,
        edit=edit or SummaryForm(prefix="edit", formdata=None, data={"summary": statement.summary}),
        approval=approval,
        approval_errors=approval_errors or [],
        withdrawal=withdrawal or WithdrawForm(prefix="withdraw", formdata=None),
        may_withdraw=may(publishing.WITHDRAWERS),
        officer_id=current_user.actor.officer_id,
    )
    return make_response(page, status)


@bp.get(f"/statements/{STATEMENT_ID}")
@login_required
@read_only
def statement_page(ctx: ServiceContext, statement_id: int) -> ResponseReturnValue:
    return _statement_page(ctx, statement_id)


@bp.post(f"/statements/{STATEMENT_ID}/summary")
@login_required
@transactional
def edit_statement(ctx: ServiceContext, statement_id: int) -> ResponseReturnValue:
    form = SummaryForm(prefix="edit")
    if not form.validate():
        return expired()
    try:
        publishing.edit_summary(ctx, current_user.actor, statement_id, form.summary.data)
    except ValidationFailed as failed:
        refuse(form, failed)
        return _statement_page(ctx, statement_id, 400, edit=form)
    flash(_("The summary was saved. Another officer must now approve it: not you, as you changed it."), "success")
    return redirect(url_for("console.statement_page", statement_id=statement_id), code=303)


@bp.post(f"/statements/{STATEMENT_ID}/approve")
@login_required
@transactional
def approve_statement(ctx: ServiceContext, statement_id: int) -> ResponseReturnValue:
    form = ApproveForm(prefix="approve")
    if not form.validate():
        return expired()
    try:
        statement = publishing.approve(ctx, current_user.actor, statement_id, seen=form.seen.data or None)
    except ValidationFailed as failed:
        refuse(form, failed)
        return _statement_page(ctx, statement_id, 400, approval_errors=_messages(failed))
    flash(_("Statement %(number)s is published on the register.", number=statement.number), "success")
    return redirect(url_for("console.statements"), code=303)


@bp.post(f"/statements/{STATEMENT_ID}/withdraw")
@login_required
@transactional
def withdraw_statement(ctx: ServiceContext, statement_id: int) -> ResponseReturnValue:
    form = WithdrawForm(prefix="withdraw")
    if not form.validate():
        return expired()
    try:
        statement = publishing.withdraw(ctx, current_user.actor, statement_id, form.reason.data)
    except ValidationFailed as failed:
        refuse(form, failed)
        return _statement_page(ctx, statement_id, 400, withdrawal=form)
    flash(
        _("Statement %(number)s is withdrawn. It stays on the register, marked as withdrawn.", number=statement.number),
        "success",
    )
    return redirect(url_for("console.statement_page", statement_id=statement_id), code=303)


def _messages(failed: ValidationFailed) -> list[str]:
    return [say(message) for messages in failed.errors.values() for message in messages]
