"""The public pages for community groups: the start page, how claims are handled, opening a
tracking link, and lost tracking links. Filing a claim (the question pages, check your answers
and the confirmation) is in filing, and the tracking page and its actions are in claim_page,
both on this blueprint."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from guarantee.extensions import limiter
from guarantee.i18n import say
from guarantee.pages import render_error
from guarantee.public import forms, links, tracking
from guarantee.services import reading
from guarantee.services.actors import GroupActor
from guarantee.services.claims import (
    LinkEnded,
    group_for_token_id,
    is_reference,
    request_tracking_link,
    send_fresh_link,
    tracking_token_id,
)
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ServiceError
from guarantee.transactions import read_only, transactional
from workflows import STATE_DESCRIPTIONS, TRANSITIONS, diagram
from workflows.sentences import what_is_given, who_may

bp = Blueprint("public", __name__, template_folder="templates")

ALREADY_SENT = _l(
    "This page was already sent once, with different answers. Check the answers below, "
    "then send them again if they are right."
)


def _token_limit() -> str:
    return str(current_app.config["GUARANTEE_TOKEN_RATE_LIMIT"])


# --- the start page and how claims are handled ---------------------------------------


@bp.get("/")
def start() -> str:
    return render_template("public/start.html", days=current_app.config["GUARANTEE_WORKING_DAYS"])


@bp.get("/process")
def process() -> str:
    """How a claim moves, who moves it and how long each step may take: from workflows/."""
    workflow = reading.describe_workflow(current_app.config["GUARANTEE_WORKING_DAYS"])
    steps = [(t, who_may(t), what_is_given(t)) for t in TRANSITIONS]
    return render_template(
        "public/process.html",
        workflow=workflow,
        descriptions=STATE_DESCRIPTIONS,
        steps=steps,
        # The diagram drawn in each language (``flask guarantee diagram --language``): the page shows its own.
        diagrams=diagram.FILE_NAMES,
    )


# --- the tracking page --------------------------------------------------------------


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
@transactional
def lost_link(ctx: ServiceContext) -> ResponseReturnValue:
    """Track a claim, or ask for a new tracking link: the same answer whether or not the
    reference and email match a claim. A refusal's "Ask for a new tracking link" button fills in
    the reference (``?reference=``)."""
    if request.method == "GET":
        form = forms.LostLinkForm(formdata=None, reference=request.args.get("reference", "")[:20])
        return render_template("public/lost_link.html", form=form)
    form = forms.LostLinkForm()
    if not form.validate():
        return render_template("public/lost_link.html", form=form), 400
    problems: dict[str, list[str]] = {}
    if not (form.reference.data or "").strip():
        problems["reference"] = [_("Enter your claim reference, like CPG-2026-000123")]
    if not (form.email.data or "").strip():
        problems["email"] = [_("Enter the email address you gave when you filed the claim")]
    if problems:
        forms.show_errors(form, problems)
        return render_template("public/lost_link.html", form=form), 400
    request_tracking_link(ctx, form.reference.data, form.email.data)
    return render_template("public/lost_link_sent.html")


@bp.post("/track/<reference>/new-link")
@limiter.limit(_token_limit)
@transactional
def send_new_link(ctx: ServiceContext, reference: str) -> Response:
    """One press on the page of a link that has ended: a fresh link to the address on file. The
    same answer whether or not there is an address (or the link was this claim's at all)."""
    form = links.FreshLinkForm()
    if not form.validate():  # the page was too old (CSRF): show the button again
        return links.link_ended(reference, form.token.data or "", form)
    send_fresh_link(ctx, reference, form.token.data or "")
    return links.fresh_link_sent()


@bp.get("/track/<reference>")
@limiter.limit(_token_limit, exempt_when=lambda: "token" not in request.args)
@read_only
def track(ctx: ServiceContext, reference: str) -> Response:
    token = request.args.get("token")
    if token is not None:
        return _open_link(ctx, reference, token)
    actor = _group(ctx, reference)
    return tracking.remember(claim_page.tracking_page(ctx, reference, actor), tracking.opened_claims())


def _open_link(ctx: ServiceContext, reference: str, token: str) -> Response:
    """First visit with the link: swap the token for the cookie, then drop it from the address.
    A link that no longer opens the claim says what to do next (public/links.py)."""
    try:
        token_id = tracking_token_id(ctx, reference, token)
    except LinkEnded:
        return links.link_ended(reference, token)
    except NotFound:
        return links.link_does_not_work(reference)
    opened = tracking.opened_claims()
    opened.pop(reference, None)
    opened[reference] = tracking.opened_now(token_id)
    response = redirect(url_for("public.track", reference=reference), code=303)
    return tracking.remember(tracking.no_store(response), opened)


class _NotOpened(Exception):
    """This browser has no live tracking session for the claim."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


def _group(ctx: ServiceContext, reference: str) -> GroupActor:
    token_id = tracking.token_id_for(reference)
    if token_id is None:
        raise _NotOpened(reference)
    try:
        return group_for_token_id(ctx, reference, token_id)
    except NotFound:
        raise _NotOpened(reference) from None


@bp.errorhandler(_NotOpened)
def _not_opened(not_opened: _NotOpened) -> Response:
    """Ask for the link again; if a form was being sent, show what was written so it can be
    copied (the session may have lapsed while the group was typing)."""
    written = []
    if request.method == "POST":
        written = [
            value
            for name, value in request.form.items(multi=True)
            if value.strip()
            and not name.endswith(("csrf_token", "action_key", "version", "submit", "confirmed", "language"))
        ]
    return links.link_needed(not_opened.reference, written)


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    status = 404 if isinstance(error, NotFound) else 409 if isinstance(error, Conflict) else 400
    return tracking.no_store(render_error(status, say(error.message), next_step=back_to_claim()))


def back_to_claim() -> tuple[str, str] | None:
    """On a claim's pages, a refusal's button back to the claim (where, without a tracking session,
    the page says how to open it again)."""
    reference = (request.view_args or {}).get("reference")
    if not isinstance(reference, str) or not is_reference(reference):
        return None
    return _("Back to your claim"), url_for("public.track", reference=reference)


# The claim form's pages, the tracking page with its actions, and the remedy check-in page register
# themselves on this blueprint.
from guarantee.public import checkins, claim_page, data_rights, filing  # noqa: E402, F401
