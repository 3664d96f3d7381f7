"""The public pages for community groups: the start page, filing a claim (with check your
answers), the confirmation, the tracking page and its actions, and lost tracking links."""

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
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee.context import run_once, service_context, unit_of_work
from guarantee.extensions import limiter
from guarantee.pages import render_error
from guarantee.public import forms, tracking
from guarantee.services import reading
from guarantee.services.actors import GroupActor
from guarantee.services.claims import (
    check_submission,
    fire,
    group_for_token_id,
    request_tracking_link,
    submit_claim,
    tracking_token_id,
)
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from guarantee.services.evidence import MAX_FILE_BYTES, MAX_FILES_PER_CLAIM, add_evidence, list_evidence, open_evidence
from guarantee.services.idempotency import StoredResponse
from guarantee.services.storage import StorageUnavailable
from workflows import CLOCKS, STATE_GUIDANCE, TIMELINE_LABELS, TRANSITIONS_BY_TRIGGER, is_terminal

bp = Blueprint("public", __name__, template_folder="templates")

# Requests up to this size reach the form, so that a file somewhat over the limit gets a
# form error beside the field (and keeps the other answers); beyond it, the 413 page.
UPLOAD_LIMIT = 3 * MAX_FILE_BYTES


def _submission_limit() -> str:
    return str(current_app.config["GUARANTEE_SUBMISSION_RATE_LIMIT"])


def _token_limit() -> str:
    return str(current_app.config["GUARANTEE_TOKEN_RATE_LIMIT"])


# --- start page and filing a claim ------------------------------------------------


@bp.get("/")
def start() -> str:
    return render_template("public/start.html", days=current_app.config["GUARANTEE_WORKING_DAYS"], clocks=CLOCKS)


@bp.route("/claims/new", methods=["GET", "POST"])
def new_claim() -> ResponseReturnValue:
    """The claim form. Posting it shows the answers for checking; nothing is saved yet."""
    form = forms.ClaimForm()
    if request.method == "GET" or "change" in request.form:
        return render_template("public/claim_form.html", form=form)
    if not form.validate():
        return render_template("public/claim_form.html", form=form), 400
    try:
        check_submission(forms.submission(form))
    except ValidationFailed as failed:
        forms.show_errors(form, failed.errors, choice_messages=forms.CHOICE_MESSAGES)
        return render_template("public/claim_form.html", form=form), 400
    form.submission_key.data = secrets.token_urlsafe(24)
    return render_template("public/check_answers.html", form=form, sections=forms.SECTIONS, answer=forms.answer_text)


@bp.post("/claims/new/submit")
@limiter.limit(_submission_limit)
def submit() -> ResponseReturnValue:
    """File the checked claim, once however often the button is pressed."""
    form = forms.ClaimForm()
    if not form.validate():
        return render_template("public/claim_form.html", form=form), 400
    body = forms.submission(form)
    base = current_app.config["GUARANTEE_BASE_URL"].rstrip("/")

    def produce(ctx: ServiceContext) -> StoredResponse:
        filed = submit_claim(ctx, body)
        link = f"{base}{url_for('public.track', reference=filed.reference)}?token={filed.tracking_token}"
        return StoredResponse(
            201,
            {
                "reference": filed.reference,
                "tracking_url": link,
                "due_on": filed.claim.due_on.isoformat() if filed.claim.due_on else None,
                "consent_contact": filed.claim.consent_contact,
            },
            {},
        )

    try:
        stored, _ = run_once("web POST /claims/new/submit", form.submission_key.data or None, body, produce)
    except ValidationFailed as failed:
        if "Idempotency-Key" in failed.errors:
            return render_error(400, "This claim was already sent. Check your email for its reference."), 400
        forms.show_errors(form, failed.errors, choice_messages=forms.CHOICE_MESSAGES)
        return render_template("public/claim_form.html", form=form), 400
    response = make_response(render_template("public/confirmation.html", filed=stored.body))
    return tracking.no_store(response)


# --- the tracking page --------------------------------------------------------------


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_token_limit, methods=["POST"])
def lost_link() -> ResponseReturnValue:
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
    with unit_of_work() as ctx:
        request_tracking_link(ctx, form.reference.data, form.email.data)
    return render_template("public/lost_link_sent.html")


@bp.get("/track/<reference>")
@limiter.limit(_token_limit, exempt_when=lambda: "token" not in request.args)
def track(reference: str) -> Response:
    token = request.args.get("token")
    if token is not None:
        return _open_link(reference, token)
    actor = _opened_group(reference)
    return tracking.remember(_tracking_page(reference, actor), tracking.opened_claims())


def _open_link(reference: str, token: str) -> Response:
    """First visit with the link: swap the token for the cookie, then drop it from the address."""
    ctx = service_context()
    try:
        token_id = tracking_token_id(ctx, reference, token)
    except NotFound:
        return tracking.no_store(
            render_error(
                404,
                "This tracking link does not work. It may have been copied only in part, "
                "or a newer link may have replaced it.",
            )
        )
    finally:
        ctx.rollback()
    opened = tracking.opened_claims()
    opened.pop(reference, None)
    opened[reference] = token_id
    response = redirect(url_for("public.track", reference=reference), code=303)
    return tracking.remember(tracking.no_store(response), opened)


class _NotOpened(Exception):
    """This browser has no live tracking session for the claim."""


def _group(ctx: ServiceContext, reference: str) -> GroupActor:
    token_id = tracking.opened_claims().get(reference)
    if token_id is None:
        raise _NotOpened
    try:
        return group_for_token_id(ctx, reference, token_id)
    except NotFound:
        raise _NotOpened from None


def _opened_group(reference: str) -> GroupActor:
    """The group, if this browser opened the claim with its tracking link (a short read)."""
    ctx = service_context()
    try:
        return _group(ctx, reference)
    finally:
        ctx.rollback()


@bp.errorhandler(_NotOpened)
def _not_opened(_: _NotOpened) -> Response:
    return tracking.no_store(make_response(render_template("public/link_needed.html"), 403))


def _tracking_page(
    reference: str,
    actor: GroupActor,
    status: int = 200,
    *,
    action_forms: dict[str, FlaskForm] | None = None,
    evidence_form: forms.EvidenceForm | None = None,
    problem: str | None = None,
) -> Response:
    """The tracking page, in a short read-only transaction; forms that failed keep their
    answers and errors."""
    ctx = service_context()
    try:
        page = _render_tracking_page(
            ctx, reference, actor, action_forms=action_forms, evidence_form=evidence_form, problem=problem
        )
    finally:
        ctx.rollback()
    return tracking.no_store(make_response(page, status))


def _render_tracking_page(
    ctx: ServiceContext,
    reference: str,
    actor: GroupActor,
    *,
    action_forms: dict[str, FlaskForm] | None,
    evidence_form: forms.EvidenceForm | None,
    problem: str | None,
) -> str:
    claim, view = reading.read_claim(ctx, reference, actor)
    files = list_evidence(ctx, reference, actor)
    action_forms = dict(action_forms or {})
    for trigger in view["allowed_triggers"]:
        if trigger not in action_forms:
            action_forms[trigger] = forms.action_form(TRANSITIONS_BY_TRIGGER[trigger], formdata=None)
        action_forms[trigger].action_key.data = secrets.token_urlsafe(24)
    refused = evidence_form is not None and bool(evidence_form.errors)  # shown beside its field, even at the limit
    can_upload = not is_terminal(claim.state) and (len(files) < MAX_FILES_PER_CLAIM or refused)
    if can_upload:
        evidence_form = evidence_form or forms.EvidenceForm(formdata=None)
        evidence_form.action_key.data = secrets.token_urlsafe(24)
    return render_template(
        "public/track.html",
        claim=view,
        guidance=STATE_GUIDANCE[claim.state],
        files=files,
        action_forms=action_forms,
        transitions=TRANSITIONS_BY_TRIGGER,
        clocks=CLOCKS,
        timeline_labels=TIMELINE_LABELS,
        evidence_form=evidence_form if can_upload else None,
        max_files=MAX_FILES_PER_CLAIM,
        problem=problem,
        form=_first_with_errors(action_forms, evidence_form),
    )


def _first_with_errors(action_forms: dict[str, FlaskForm], evidence_form: FlaskForm | None) -> FlaskForm | None:
    """The form whose errors the page's error summary lists."""
    for form in (*action_forms.values(), evidence_form):
        if form is not None and form.errors:
            return form
    return None


def _upload(form: FlaskForm, name: str) -> tuple[str, bytes] | None:
    storage = getattr(form, name).data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.filename, storage.read(MAX_FILE_BYTES + 1)


@bp.before_request
def _uploads_may_be_large() -> None:
    if request.method == "POST" and request.path.startswith("/track/"):
        request.max_content_length = UPLOAD_LIMIT


@bp.post("/track/<reference>/actions/<trigger>")
def act(reference: str, trigger: str) -> Response:
    """The group answers a question, withdraws or appeals: one form per trigger, from the workflow."""
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    actor = _opened_group(reference)
    if transition is None or "group" not in transition.fired_by:
        return render_error(404)
    form = forms.action_form(transition)
    if not form.validate():
        return _tracking_page(reference, actor, 400, action_forms={trigger: form})
    data: dict[str, Any] = {
        spec.name: getattr(form, spec.name).data for spec in transition.inputs if spec.kind in ("text", "choice")
    }
    uploads = {spec.name: _upload(form, spec.name) for spec in transition.inputs if spec.kind == "evidence"}
    fingerprint = {**data, **{k: (v[0], len(v[1])) if v else None for k, v in uploads.items()}, "trigger": trigger}

    def produce(ctx: ServiceContext) -> StoredResponse:
        for name, upload in uploads.items():
            data[name] = [_attach(ctx, reference, actor, upload, field=name).id] if upload else []
        fire(ctx, reference, trigger, actor, data)
        return StoredResponse(303, {}, {})

    try:
        run_once(f"web {reference} {trigger}", form.action_key.data or None, fingerprint, produce)
    except ValidationFailed as failed:
        forms.show_errors(form, failed.errors)
        return _tracking_page(reference, actor, 400, action_forms={trigger: form})
    except (Conflict, StorageUnavailable) as refused:
        return _tracking_page(reference, actor, 409, problem=refused.message)
    return tracking.no_store(redirect(url_for("public.track", reference=reference, done=trigger), code=303))


def _attach(ctx: ServiceContext, reference: str, actor: GroupActor, upload: tuple[str, bytes], *, field: str) -> Any:
    try:
        return add_evidence(ctx, reference, actor, upload[0], upload[1])
    except ValidationFailed as failed:
        raise ValidationFailed({field: failed.errors.get("file", [failed.message])}) from None


@bp.post("/track/<reference>/evidence")
def upload_evidence(reference: str) -> Response:
    actor = _opened_group(reference)
    form = forms.EvidenceForm()
    if not form.validate():
        return _tracking_page(reference, actor, 400, evidence_form=form)
    upload = _upload(form, "file")
    if upload is None:
        forms.show_errors(form, {"file": ["Select a file to upload"]})
        return _tracking_page(reference, actor, 400, evidence_form=form)

    def produce(ctx: ServiceContext) -> StoredResponse:
        _attach(ctx, reference, actor, upload, field="file")
        return StoredResponse(303, {}, {})

    try:
        run_once(f"web {reference} evidence", form.action_key.data or None, [upload[0], len(upload[1])], produce)
    except ValidationFailed as failed:
        forms.show_errors(form, failed.errors)
        return _tracking_page(reference, actor, 400, evidence_form=form)
    except (Conflict, StorageUnavailable) as refused:
        return _tracking_page(reference, actor, 409, problem=refused.message)
    return tracking.no_store(redirect(url_for("public.track", reference=reference, done="evidence"), code=303))


@bp.get("/track/<reference>/evidence/<int:attachment_id>")
def download_evidence(reference: str, attachment_id: int) -> Response:
    ctx = service_context()
    try:
        actor = _group(ctx, reference)
        attachment, path = open_evidence(ctx, reference, attachment_id, actor)
    except NotFound:
        return tracking.no_store(render_error(404))
    except StorageUnavailable as unavailable:
        return tracking.no_store(render_error(503, unavailable.message))
    finally:
        ctx.rollback()
    response = send_file(
        path, mimetype=attachment.content_type, as_attachment=True, download_name=attachment.filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return tracking.no_store(response)


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    status = 404 if isinstance(error, NotFound) else 409 if isinstance(error, Conflict) else 400
    return tracking.no_store(render_error(status, error.message))
