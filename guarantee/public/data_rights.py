"""The group's data rights, from its tracking page: see or download everything held about its claim
(UK GDPR Article 15), and ask for its contact details and evidence to be erased (Article 17).

Each copy of the data is audited, so it is made by a POST (a button, with CSRF), never by opening a
page: "Your data" explains and offers the two buttons; pressing one shows the copy as a page or
downloads it as a JSON file. Asking for erasure has its own page that says what goes and what
stays, and a button; after asking, the same page says when it will be done (services.data_rights).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SubmitField

from guarantee import mail
from guarantee.i18n import say
from guarantee.pages import render_error
from guarantee.public import _group, bp, tracking
from guarantee.services import data_rights, reading
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict
from guarantee.transactions import read_only, transactional, undo
from guarantee.widgets import GovSubmitInput


class CopyForm(FlaskForm):  # type: ignore[misc]
    """Two buttons: the copy as a page, or as a JSON file (the button pressed is ``format``)."""


class EraseForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField(_l("Yes, erase my contact details and evidence"), widget=GovSubmitInput())


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def asked_format() -> str:
    """page or json: the button pressed, or ``?format=json``."""
    chosen = request.form.get("format") or request.args.get("format") or "page"
    return chosen if chosen in data_rights.FORMATS else "page"


def copy_response(export: dict[str, Any], format: str, template: str, **context: Any) -> Response:
    """The copy as a page, or as a JSON file to download (never cached)."""
    if format == "json":
        body = json.dumps(export, default=_json_default, ensure_ascii=False, indent=2)
        response = make_response(body)
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="{export["reference"]}-your-data.json"'
    else:
        response = make_response(render_template(template, data=export, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/track/<reference>/your-data")
@read_only
def your_data(ctx: ServiceContext, reference: str) -> Response:
    """What the group can get, and the two buttons."""
    actor = _group(ctx, reference)
    view = reading.read_claim(ctx, reference, actor)[1]
    page = render_template("public/your_data.html", claim=view, form=CopyForm())
    return tracking.no_store(make_response(page))


@bp.post("/track/<reference>/your-data")
@transactional
def produce_your_data(ctx: ServiceContext, reference: str) -> Response:
    """Everything held about the claim, as a page or a JSON file; audited (data_provided)."""
    actor = _group(ctx, reference)
    if not CopyForm().validate():
        return tracking.no_store(
            render_error(
                400, _("This page had expired. Go back and press the button again."), next_step=_back(reference)
            )
        )
    format = asked_format()
    export = data_rights.produce(ctx, reference, actor, format=format, render=mail.render_copy)
    return tracking.no_store(copy_response(export, format, "public/your_data_copy.html"))


def _back(reference: str) -> tuple[str, str]:
    return _("Back to your claim"), url_for("public.track", reference=reference)


def _erase_page(ctx: ServiceContext, reference: str, form: EraseForm, status: int = 200) -> Response:
    actor = _group(ctx, reference)
    view = reading.read_claim(ctx, reference, actor)[1]
    waiting = data_rights.erasure_request_of(ctx, reference, actor)
    page = render_template("public/erase.html", claim=view, form=form, waiting=waiting)
    return tracking.no_store(make_response(page, status))


@bp.get("/track/<reference>/erase")
@read_only
def erase_page(ctx: ServiceContext, reference: str) -> Response:
    """What erasure does and does not erase, and the button; or, once asked, by when."""
    return _erase_page(ctx, reference, EraseForm(formdata=None))


@bp.post("/track/<reference>/erase")
@transactional
def ask_for_erasure(ctx: ServiceContext, reference: str) -> Response:
    actor = _group(ctx, reference)
    form = EraseForm()
    if not form.validate():
        return render_error(
            400, _("This page had expired. Go back and press the button again."), next_step=_back(reference)
        )
    try:
        data_rights.request_erasure(ctx, reference, actor)
    except Conflict as refused:
        undo()
        return tracking.no_store(render_error(409, say(refused.message), next_step=_back(reference)))
    return tracking.no_store(redirect(url_for("public.erase_page", reference=reference), code=303))
