"""Did the remedy happen? The one-question page a check-in's e-mail links to
(``/check-in/{reference}?token=...``; services.remedies). The token travels in the form, never in a
cookie: the page needs no tracking session. A link that is not this claim's check-in's is a 404
that says what to do; one that has ended is a 410; a second answer is refused, kindly."""

from __future__ import annotations

from flask import current_app, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, RadioField, SelectChoice, SubmitField, TextAreaField

from guarantee.extensions import limiter
from guarantee.i18n import say
from guarantee.public import _token_limit, bp, tracking
from guarantee.public.forms import said, show_errors
from guarantee.services import remedies
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ServiceError, ValidationFailed
from guarantee.transactions import read_only, transactional, undo
from guarantee.widgets import GovRadioInput, GovSubmitInput, GovTextArea
from workflows.remedies import ANSWERS, CHECK_IN_MONTHS, FOLLOW_UP, QUESTION


class CheckInForm(FlaskForm):  # type: ignore[misc]
    token = HiddenField()
    answer = RadioField(
        said(QUESTION),
        choices=[SelectChoice(slug, said(words)) for slug, words in ANSWERS.items()],
        validate_choice=False,  # the service checks the answer and says what to do
        widget=GovRadioInput(),
    )
    anything_else = TextAreaField(_l("Is there anything else you want to tell us? (optional)"), widget=GovTextArea())
    submit = SubmitField(_l("Send your answer"), widget=GovSubmitInput())


def _page(template: str, status: int = 200, **context: object) -> Response:
    return tracking.no_store(make_response(render_template(template, **context), status))


def _refusal(reference: str, refused: ServiceError, *, posted: bool = False) -> Response:
    """The page for a link that opens no check-in to answer, saying why and what to do."""
    if isinstance(refused, remedies.AlreadyAnswered):
        row = refused.check_in
        later = [m for m in CHECK_IN_MONTHS if m > row.months]
        return _page(
            "public/check_in_link.html",
            409 if posted else 200,
            situation="answered",
            reference=reference,
            answered_on=row.answered_at,
            answer=say(ANSWERS.get(row.answer or "", "")),
            next_months=later[0] if later else None,
        )
    situation = "ended" if isinstance(refused, remedies.CheckInEnded) else "wrong"
    return _page("public/check_in_link.html", 410 if situation == "ended" else 404, situation=situation)


def _form_page(reference: str, form: CheckInForm, months: int, status: int = 200) -> Response:
    return _page(
        "public/check_in.html",
        status,
        form=form,
        reference=reference,
        months=months,
        limit=remedies.FREE_TEXT_LIMIT,
    )


@bp.get("/check-in/<reference>")
@limiter.limit(_token_limit)
@read_only
def check_in(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    """The one question, for the check-in whose link this is."""
    token = request.args.get("token", "")
    try:
        row = remedies.open_check_in(ctx, reference, token)
    except NotFound as refused:
        return _refusal(reference, refused)
    except remedies.AlreadyAnswered as answered:
        return _refusal(reference, answered)
    return _form_page(reference, CheckInForm(formdata=None, token=token), row.months)


@bp.post("/check-in/<reference>")
@limiter.limit(_token_limit)
@transactional
def answer_check_in(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    form = CheckInForm()
    token = form.token.data or ""
    try:
        row = remedies.open_check_in(ctx, reference, token)
    except NotFound as refused:
        return _refusal(reference, refused, posted=True)
    except remedies.AlreadyAnswered as answered:
        return _refusal(reference, answered, posted=True)
    if not form.validate():  # the page was too old (CSRF): the question again, with what was chosen
        return _form_page(reference, form, row.months, 400)
    try:
        row = remedies.answer_check_in(
            ctx,
            reference,
            token,
            form.answer.data,
            form.anything_else.data,
            follow_up_days=int(current_app.config["GUARANTEE_REMEDY_FOLLOW_UP_DAYS"]),
        )
    except ValidationFailed as failed:
        undo()
        show_errors(form, failed.errors)
        return _form_page(reference, form, row.months, 400)
    except remedies.AlreadyAnswered as answered:  # answered in another tab a moment ago
        undo()
        return _refusal(reference, answered, posted=True)
    later = [m for m in CHECK_IN_MONTHS if m > row.months]
    return _page(
        "public/check_in_answered.html",
        reference=reference,
        in_place=row.answer not in FOLLOW_UP,
        next_months=later[0] if later else None,
    )
