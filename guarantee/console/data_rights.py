"""Data rights in the console (services.data_rights): the list of groups' requests, open ones first
by due date; recording a request that came by post, e-mail or phone; answering a request to see
their data (a copy, as a page or a JSON file); and, for admins, erasing a group's contact details
and evidence, for a request or straight from the claim's page. For the officers who may see a
group's contact details (an admin erases)."""

from __future__ import annotations

import re
from datetime import date

from flask import flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, StringField, SubmitField, TextAreaField

from guarantee import i18n, mail
from guarantee.console import bp, expired, forms, may, refuse
from guarantee.public.data_rights import asked_format, copy_response
from guarantee.services import data_rights
from guarantee.services.claims import get_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.services.officers import require_role
from guarantee.transactions import read_only, transactional
from guarantee.widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from workflows.words import N_

# The choices' labels are marked English (services.data_rights): the widgets say them.
CHANNEL_CHOICES = [SelectChoice(c, data_rights.CHANNEL_LABELS[c]) for c in ("post", "email", "phone")]
_DAY = re.compile(r"^\s*(\d{1,2})[\s/.-]+(\d{1,2})[\s/.-]+(\d{4})\s*$")


class RecordRequestForm(FlaskForm):  # type: ignore[misc]
    kind = RadioField(
        _l("What did the group ask for?"),
        choices=[SelectChoice(k, label) for k, label in data_rights.KIND_LABELS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    channel = RadioField(
        _l("How did the request come?"), choices=CHANNEL_CHOICES, validate_choice=False, widget=GovRadioInput()
    )
    received_on = StringField(_l("Date it was received"), widget=GovTextInput())
    note = TextAreaField(_l("Note (optional)"), widget=GovTextArea())
    submit = SubmitField(_l("Record the request"), widget=GovSubmitInput())


class EraseNowForm(FlaskForm):  # type: ignore[misc]
    channel = RadioField(
        _l("How did the group ask?"), choices=CHANNEL_CHOICES, validate_choice=False, widget=GovRadioInput()
    )
    reason = TextAreaField(_l("Reason"), widget=GovTextArea())
    submit = SubmitField(_l("Erase contact details and evidence"), widget=GovSubmitInput())


def day_given(text: str | None) -> date | None:
    """A date typed as day, month and year (27 11 2026, 27/11/2026); None if it is not one."""
    found = _DAY.match(text or "")
    if found is None:
        return None
    try:
        return date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        return None


# --- the list and one request -----------------------------------------------------------------


@bp.get("/data-rights")
@login_required
@read_only
def data_rights_list(ctx: ServiceContext) -> ResponseReturnValue:
    """Open requests first, soonest due; then those done lately."""
    listed = data_rights.requests(ctx, current_user.actor)
    return render_template(
        "console/data_rights.html",
        waiting=[r for r in listed if r.open],
        done=[r for r in listed if not r.open],
        today=ctx.today(),
    )


def _request_page(ctx: ServiceContext, request_id: int, status: int = 200) -> Response:
    shown = data_rights.request(ctx, current_user.actor, request_id)
    page = render_template(
        "console/data_rights_request.html",
        request=shown,
        today=ctx.today(),
        form=forms.CsrfForm(),
        may_erase=may(data_rights.ERASERS),
    )
    return make_response(page, status)


@bp.get("/data-rights/<int(max=2147483647):request_id>")
@login_required
@read_only
def data_rights_request(ctx: ServiceContext, request_id: int) -> ResponseReturnValue:
    return _request_page(ctx, request_id)


@bp.post("/data-rights/<int(max=2147483647):request_id>/copy")
@login_required
@transactional
def data_rights_copy(ctx: ServiceContext, request_id: int) -> ResponseReturnValue:
    """The group's data for an access request, as a page or a JSON file: audited, and the request done."""
    if not forms.CsrfForm().validate():
        return expired()
    reference = data_rights.request(ctx, current_user.actor, request_id).reference
    format = asked_format()
    export = data_rights.produce(
        ctx, reference, current_user.actor, format=format, render=mail.render_copy, request_id=request_id
    )
    return copy_response(export, format, "console/data_rights_copy.html", request_id=request_id)


@bp.post("/data-rights/<int(max=2147483647):request_id>/erase")
@login_required
@transactional
def data_rights_erase(ctx: ServiceContext, request_id: int) -> ResponseReturnValue:
    """An admin carries out an erasure request."""
    if not forms.CsrfForm().validate():
        return expired()
    done = data_rights.complete_erasure(ctx, request_id, current_user.actor)
    flash(_("The group's contact details and evidence were erased, and the request is done."), "success")
    return redirect(url_for("console.data_rights_request", request_id=done.id), code=303)


# --- from a claim's page ------------------------------------------------------------------------


def _record_page(ctx: ServiceContext, reference: str, form: RecordRequestForm, status: int = 200) -> Response:
    claim = get_claim(ctx, reference)
    data_rights.requests_of_claim(ctx, reference, current_user.actor)  # refused here, not on sending
    page = render_template("console/data_rights_record.html", reference=claim.reference, form=form)
    return make_response(page, status)


@bp.get("/claims/<reference>/data-rights")
@login_required
@read_only
def record_data_rights_page(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    form = RecordRequestForm(formdata=None, received_on=f"{ctx.today():%-d %-m %Y}")
    return _record_page(ctx, reference, form)


@bp.post("/claims/<reference>/data-rights")
@login_required
@transactional
def record_data_rights(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    form = RecordRequestForm()
    if not form.validate():
        return expired()
    try:
        made = data_rights.record_request(
            ctx,
            reference,
            current_user.actor,
            kind=form.kind.data,
            channel=form.channel.data,
            received_on=day_given(form.received_on.data),
            note=form.note.data,
        )
    except ValidationFailed as failed:
        refuse(form, failed)
        return _record_page(ctx, reference, form, 400)
    flash(_("The request is recorded. It is due by %(day)s.", day=i18n.long_date(made.due_on)), "success")
    return redirect(url_for("console.data_rights_request", request_id=made.id), code=303)


def _erase_page(ctx: ServiceContext, reference: str, form: EraseNowForm, status: int = 200) -> Response:
    require_role(ctx, current_user.actor, data_rights.ERASERS, N_("erase a group's contact details and evidence"))
    claim = get_claim(ctx, reference)
    erased_at = data_rights.contact_erased_at(ctx, reference)
    page = render_template("console/erase.html", reference=claim.reference, form=form, erased_at=erased_at)
    return make_response(page, status)


@bp.get("/claims/<reference>/erase")
@login_required
@read_only
def erase_page(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    return _erase_page(ctx, reference, EraseNowForm(formdata=None))


@bp.post("/claims/<reference>/erase")
@login_required
@transactional
def erase(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    """An admin erases the group's contact details and evidence, for a request not recorded before."""
    form = EraseNowForm()
    if not form.validate():
        return expired()
    try:
        data_rights.erase_now(ctx, reference, current_user.actor, channel=form.channel.data, reason=form.reason.data)
    except ValidationFailed as failed:
        refuse(form, failed)
        return _erase_page(ctx, reference, form, 400)
    flash(_("The group's contact details and evidence were erased. What was decided stays."), "success")
    return redirect(url_for("console.claim_page", reference=reference), code=303)
