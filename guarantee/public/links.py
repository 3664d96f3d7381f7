"""What a group meets when a link to its claim does not open it, and what it can do next.

Every refusal says what happened and offers the button for the next step:
- a link of this claim that has expired or was revoked (410): "Send me a new link", one press,
  sent to the address on file (the same answer whether or not there is one);
- a link that is not this claim's, or was copied only in part (404), and a page opened without a
  live tracking session (403): "Ask for a new link", the lost-link form with the reference filled in.
"""

from __future__ import annotations

from flask import make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField

from guarantee.public import tracking
from guarantee.services.claims import is_reference
from guarantee.widgets import GovSubmitInput


class FreshLinkForm(FlaskForm):  # type: ignore[misc]
    """One button: e-mail a fresh link to the address on file. The link that ended comes with it,
    to show that whoever presses once had the claim's link (the new one goes only to the address
    on file, never to the page)."""

    token = HiddenField()
    submit = SubmitField(_l("Send me a new link"), widget=GovSubmitInput())


def _page(status: int, situation: str, reference: str | None, **context: object) -> Response:
    page = render_template(
        "public/link_needed.html",
        situation=situation,
        # Only a well-formed reference is put in the button's address; it says nothing about whether
        # such a claim exists (every reference gets the same page).
        reference=reference if is_reference(reference) else None,
        **context,
    )
    return tracking.no_store(make_response(page, status))


def link_ended(reference: str, token: str, form: FreshLinkForm | None = None) -> Response:
    """410: the link was this claim's, and has expired or was revoked. With a ``form`` that was
    refused (its page was too old: CSRF), 400, saying so above the same button."""
    return _page(400 if form is not None else 410, "ended", reference, form=form or FreshLinkForm(token=token))


def link_does_not_work(reference: str) -> Response:
    """404: no link of this claim (another claim's, a typing mistake, part of a link)."""
    return _page(404, "wrong", reference)


def link_needed(reference: str | None, written: list[str]) -> Response:
    """403: no live tracking session for this claim in this browser (it lapsed, or never was)."""
    return _page(403, "lapsed", reference, written=written)


def fresh_link_sent() -> Response:
    """The answer to "Send me a new link": the same whether or not an address is on file."""
    return tracking.no_store(make_response(render_template("public/lost_link_sent.html", one_press=True)))
