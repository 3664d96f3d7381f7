"""The public pages for community groups: the start page, the tracking page and its actions,
and lost tracking links. Filing a claim (the question pages, check your answers and the
confirmation) is in guarantee.public.filing, on the same blueprint."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee.action_forms import action_form
from guarantee.context import run_once
from guarantee.extensions import limiter
from guarantee.pages import render_error
from guarantee.public import forms, tracking
from guarantee.security import evidence_download
from guarantee.services import reading
from guarantee.services.actors import GroupActor
from guarantee.services.claims import (
    change_contact_email,
    contact_email_hint,
    fire,
    group_for_token_id,
    request_tracking_link,
    tracking_token_id,
)
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ServiceError, TriggerNotAllowed, ValidationFailed
from guarantee.services.evidence import MAX_FILE_BYTES, MAX_FILES_PER_CLAIM, add_evidence, list_evidence, open_evidence
from guarantee.services.idempotency import StoredResponse
from guarantee.services.storage import StorageUnavailable
from guarantee.transactions import context, read_only, transactional, undo
from workflows import (
    CLOCKS,
    STATE_GUIDANCE,
    STATE_LABELS,
    TIMELINE_LABELS,
    TRANSITIONS_BY_TRIGGER,
    Transition,
    is_terminal,
)

bp = Blueprint("public", __name__, template_folder="templates")

ALREADY_SENT = (
    "This page was already sent once, with different answers. Check the answers below, "
    "then send them again if they are right."
)
DONE_MESSAGES = {
    "provide_information": "Your answer has been sent. We have started the time to decide again.",
    "appeal": "Your appeal has been sent.",
    "withdraw": "Your claim has been withdrawn.",
    "evidence": "Your file has been added to the claim.",
    "contact": "Your contact email address has been changed. We have told the old address.",
}

# Requests up to this size reach the form, so that a file somewhat over the limit gets a
# form error beside the field (and keeps the other answers); beyond it, the 413 page.
UPLOAD_LIMIT = 3 * MAX_FILE_BYTES


def _token_limit() -> str:
    return str(current_app.config["GUARANTEE_TOKEN_RATE_LIMIT"])


# --- start page and how claims are handled ------------------------------------------------


@bp.get("/")
def start() -> str:
    return render_template("public/start.html", days=current_app.config["GUARANTEE_WORKING_DAYS"], clocks=CLOCKS)


@bp.get("/process")
def process() -> str:
    """How a claim moves, who moves it and how long each step may take: from workflows/."""
    workflow = reading.describe_workflow(current_app.config["GUARANTEE_WORKING_DAYS"])
    return render_template("public/process.html", workflow=workflow, guidance=STATE_GUIDANCE)


# --- the tracking page --------------------------------------------------------------


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
@transactional
def lost_link(ctx: ServiceContext) -> ResponseReturnValue:
    """Track a claim, or ask for a new tracking link: the same answer whether or not the
    reference and email match a claim."""
    form = forms.LostLinkForm()
    if request.method == "GET":
        return render_template("public/lost_link.html", form=form)
    if not form.validate():
        return render_template("public/lost_link.html", form=form), 400
    problems: dict[str, list[str]] = {}
    if not (form.reference.data or "").strip():
        problems["reference"] = ["Enter your claim reference, like CPG-2026-000123"]
    if not (form.email.data or "").strip():
        problems["email"] = ["Enter the email address you gave when you filed the claim"]
    if problems:
        forms.show_errors(form, problems)
        return render_template("public/lost_link.html", form=form), 400
    request_tracking_link(ctx, form.reference.data, form.email.data)
    return render_template("public/lost_link_sent.html")


@bp.get("/track/<reference>")
@limiter.limit(_token_limit, exempt_when=lambda: "token" not in request.args)
@read_only
def track(ctx: ServiceContext, reference: str) -> Response:
    token = request.args.get("token")
    if token is not None:
        return _open_link(ctx, reference, token)
    actor = _group(ctx, reference)
    return tracking.remember(_tracking_page(ctx, reference, actor), tracking.opened_claims())


def _open_link(ctx: ServiceContext, reference: str, token: str) -> Response:
    """First visit with the link: swap the token for the cookie, then drop it from the address."""
    try:
        token_id = tracking_token_id(ctx, reference, token)
    except NotFound:
        return tracking.no_store(
            render_error(
                404,
                "This tracking link does not work. It may have been copied only in part, "
                "or it may have been withdrawn.",
            )
        )
    opened = tracking.opened_claims()
    opened.pop(reference, None)
    opened[reference] = tracking.opened_now(token_id)
    response = redirect(url_for("public.track", reference=reference), code=303)
    return tracking.remember(tracking.no_store(response), opened)


class _NotOpened(Exception):
    """This browser has no live tracking session for the claim."""


def _group(ctx: ServiceContext, reference: str) -> GroupActor:
    token_id = tracking.token_id_for(reference)
    if token_id is None:
        raise _NotOpened
    try:
        return group_for_token_id(ctx, reference, token_id)
    except NotFound:
        raise _NotOpened from None


@bp.errorhandler(_NotOpened)
def _not_opened(_: _NotOpened) -> Response:
    """Ask for the link again; if a form was being sent, show what was written so it can be
    copied (the session may have lapsed while the group was typing)."""
    written = []
    if request.method == "POST":
        written = [
            value
            for name, value in request.form.items(multi=True)
            if value.strip() and not name.endswith(("csrf_token", "action_key", "submit", "confirmed"))
        ]
    return tracking.no_store(make_response(render_template("public/link_needed.html", written=written), 403))


def _tracking_page(
    ctx: ServiceContext,
    reference: str,
    actor: GroupActor,
    status: int = 200,
    *,
    action_forms: dict[str, FlaskForm] | None = None,
    evidence_form: forms.EvidenceForm | None = None,
    contact_form: forms.ContactEmailForm | None = None,
    problem: str | None = None,
) -> Response:
    """The tracking page. Forms that failed keep their answers and errors."""
    claim, view = reading.read_claim(ctx, reference, actor)
    files = [
        {"id": f.id, "filename": f.filename, "size": f.size, "uploaded_at": f.uploaded_at}
        for f in list_evidence(ctx, reference, actor)
    ]
    state = claim.state
    contact_hint = contact_email_hint(ctx, reference, actor)
    if contact_hint is not None and not is_terminal(state):  # nothing more will be sent once it is over
        contact_form = contact_form or forms.ContactEmailForm(formdata=None)
    else:
        contact_hint = None
    allowed = view["allowed_triggers"]
    # A form for each action open now; one that failed keeps what was typed, if still open.
    shown = {t: f for t, f in (action_forms or {}).items() if t in allowed}
    for trigger in allowed:
        shown.setdefault(trigger, _action_form(TRANSITIONS_BY_TRIGGER[trigger], formdata=None))
        shown[trigger].action_key.data = secrets.token_urlsafe(24)
    refused = evidence_form is not None and bool(evidence_form.errors)  # shown beside its field, even at the limit
    if not is_terminal(state) and (len(files) < MAX_FILES_PER_CLAIM or refused):
        evidence_form = evidence_form or forms.EvidenceForm(formdata=None)
        evidence_form.action_key.data = secrets.token_urlsafe(24)
    else:
        evidence_form = None
    page = render_template(
        "public/track.html",
        claim=view,
        guidance=STATE_GUIDANCE[state],
        files=files,
        action_forms=shown,
        transitions=TRANSITIONS_BY_TRIGGER,
        clocks=CLOCKS,
        timeline_labels=TIMELINE_LABELS,
        evidence_form=evidence_form,
        contact_form=contact_form if contact_hint is not None else None,
        contact_hint=contact_hint,
        max_files=MAX_FILES_PER_CLAIM,
        problem=problem,
        done=DONE_MESSAGES.get(str(session.pop("done", ""))),
        form=_first_with_errors(shown, evidence_form, contact_form),
    )
    return tracking.no_store(make_response(page, status))


def _action_form(transition: Transition, **kwargs: Any) -> FlaskForm:
    """The form for a step the group takes, sent once however often it is posted (its key)."""
    return action_form(transition, hidden=("action_key",), **kwargs)


def _first_with_errors(action_forms: dict[str, FlaskForm], *others: FlaskForm | None) -> FlaskForm | None:
    """The form whose errors the page's error summary lists."""
    for form in (*action_forms.values(), *others):
        if form is not None and form.errors:
            return form
    return None


def _upload(form: FlaskForm, name: str) -> tuple[str, bytes] | None:
    storage = getattr(form, name).data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.filename, storage.read(MAX_FILE_BYTES + 1)


def _ask_to_choose_files_again(form: FlaskForm, uploads: dict[str, tuple[str, bytes] | None]) -> None:
    """Browsers cannot keep a chosen file when a page comes back: say so beside the field."""
    for name, upload in uploads.items():
        field = getattr(form, name)
        if upload is not None and not field.errors:
            field.errors = [f"Choose your file again ({upload[0]}): it was not saved because of the other problem"]


def _refusal(transition: Transition, refused: ServiceError) -> str:
    if isinstance(refused, TriggerNotAllowed) and refused.reason:
        return f"You can no longer {transition.label.lower()}. {refused.reason}"
    if isinstance(refused, TriggerNotAllowed):
        return (
            f"You can no longer {transition.label.lower()}: your claim is now "
            f"{STATE_LABELS[refused.state].lower()}. The page below shows what you can do now."
        )
    return refused.message


def _done(reference: str, what: str) -> Response:
    """After a change, back to the tracking page (so a refresh does not send it again)."""
    session["done"] = what
    return tracking.no_store(redirect(url_for("public.track", reference=reference, _anchor="main-content"), code=303))


@bp.before_request
def _uploads_may_be_large() -> None:
    if request.method == "POST" and request.path.startswith("/track/"):
        request.max_content_length = UPLOAD_LIMIT


@bp.post("/track/<reference>/actions/<trigger>")
def act(reference: str, trigger: str) -> Response:
    """The group answers a question, withdraws or appeals: one form per trigger, from the workflow.
    run_once owns this view's transaction: it commits the action with its key, once."""
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    ctx = context()
    actor = _group(ctx, reference)
    if transition is None or "group" not in transition.fired_by:
        return render_error(404)
    form = _action_form(transition)
    if not form.validate():
        return _tracking_page(ctx, reference, actor, 400, action_forms={trigger: form})
    data: dict[str, Any] = {
        spec.name: getattr(form, spec.name).data for spec in transition.inputs if spec.kind in ("text", "choice")
    }
    uploads = {spec.name: _upload(form, spec.name) for spec in transition.inputs if spec.kind == "evidence"}
    if is_terminal(transition.dest) and request.form.get("confirmed") != "yes":
        # Nothing can be done to the claim after this: ask once more, showing what will be sent.
        page = render_template(
            "public/confirm_action.html", claim_reference=reference, transition=transition, form=None, action=form
        )
        return tracking.no_store(make_response(page))
    fingerprint = {**data, **{k: (v[0], len(v[1])) if v else None for k, v in uploads.items()}, "trigger": trigger}

    def produce(once: ServiceContext) -> StoredResponse:
        for name, upload in uploads.items():
            data[name] = [_attach(once, reference, actor, upload, field=name).id] if upload else []
        fire(once, reference, trigger, actor, data)
        return StoredResponse(303, {}, {})

    try:
        run_once(f"web {reference} {trigger}", form.action_key.data or None, fingerprint, produce)
    except ValidationFailed as failed:
        if "Idempotency-Key" in failed.errors:
            return _tracking_page(ctx, reference, actor, 409, action_forms={trigger: form}, problem=ALREADY_SENT)
        forms.show_errors(form, failed.errors)
        _ask_to_choose_files_again(form, uploads)
        return _tracking_page(ctx, reference, actor, 400, action_forms={trigger: form})
    except (Conflict, StorageUnavailable) as refused:
        _ask_to_choose_files_again(form, uploads)
        status = 503 if isinstance(refused, StorageUnavailable) else 409
        problem = _refusal(transition, refused)
        return _tracking_page(ctx, reference, actor, status, action_forms={trigger: form}, problem=problem)
    return _done(reference, trigger)


def _attach(ctx: ServiceContext, reference: str, actor: GroupActor, upload: tuple[str, bytes], *, field: str) -> Any:
    try:
        return add_evidence(ctx, reference, actor, upload[0], upload[1])
    except ValidationFailed as failed:
        raise ValidationFailed({field: failed.errors.get("file", [failed.message])}) from None


@bp.post("/track/<reference>/evidence")
def upload_evidence(reference: str) -> Response:
    """A file of evidence, added once however often it is sent (run_once owns the transaction)."""
    ctx = context()
    actor = _group(ctx, reference)
    form = forms.EvidenceForm()
    if not form.validate():
        return _tracking_page(ctx, reference, actor, 400, evidence_form=form)
    upload = _upload(form, "file")
    if upload is None:
        forms.show_errors(form, {"file": ["Select a file to upload"]})
        return _tracking_page(ctx, reference, actor, 400, evidence_form=form)

    def produce(once: ServiceContext) -> StoredResponse:
        _attach(once, reference, actor, upload, field="file")
        return StoredResponse(303, {}, {})

    try:
        run_once(f"web {reference} evidence", form.action_key.data or None, [upload[0], len(upload[1])], produce)
    except ValidationFailed as failed:
        if "Idempotency-Key" in failed.errors:
            return _tracking_page(ctx, reference, actor, 409, evidence_form=form, problem=ALREADY_SENT)
        forms.show_errors(form, failed.errors)
        return _tracking_page(ctx, reference, actor, 400, evidence_form=form)
    except (Conflict, StorageUnavailable) as refused:
        status = 503 if isinstance(refused, StorageUnavailable) else 409
        return _tracking_page(ctx, reference, actor, status, evidence_form=form, problem=refused.message)
    return _done(reference, "evidence")


@bp.post("/track/<reference>/contact")
@transactional
def change_contact(ctx: ServiceContext, reference: str) -> Response:
    """A new contact e-mail address: audited, and the old address is told."""
    actor = _group(ctx, reference)
    form = forms.ContactEmailForm()
    if not form.validate():
        return _tracking_page(ctx, reference, actor, 400, contact_form=form)
    try:
        change_contact_email(ctx, reference, actor, form.email.data)
    except ValidationFailed as failed:
        undo()
        forms.show_errors(form, failed.errors)
        return _tracking_page(ctx, reference, actor, 400, contact_form=form)
    except Conflict as refused:
        undo()
        return _tracking_page(ctx, reference, actor, 409, problem=refused.message)
    return _done(reference, "contact")


@bp.get("/track/<reference>/evidence/<int:attachment_id>")
@read_only
def download_evidence(ctx: ServiceContext, reference: str, attachment_id: int) -> Response:
    try:
        actor = _group(ctx, reference)
        attachment, path = open_evidence(ctx, reference, attachment_id, actor)
    except NotFound:
        return tracking.no_store(render_error(404))
    except StorageUnavailable as unavailable:
        return tracking.no_store(render_error(503, unavailable.message))
    return tracking.no_store(evidence_download(path, attachment.content_type, attachment.filename))


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    status = 404 if isinstance(error, NotFound) else 409 if isinstance(error, Conflict) else 400
    return tracking.no_store(render_error(status, error.message))


# The claim form's pages register themselves on this blueprint.
from guarantee.public import filing  # noqa: E402, F401
