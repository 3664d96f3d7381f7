"""The group's tracking page and what the group does on it: answer a question, appeal, add
evidence, change its contact address or the language it is written to in, and withdraw the claim
on a page of its own.

The page leads with what matters now: where the claim is and what happens next (with the
deadline and how it was worked out), then the decision, its reasons and the remedy, then the
action open now, then the timeline, then what the group told us. A step that ends the claim
(withdrawing) is a link to its own page, offered only while the workflow allows it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee.action_forms import action_form
from guarantee.context import run_once
from guarantee.i18n import say
from guarantee.pages import render_error
from guarantee.public import ALREADY_SENT, _group, back_to_claim, bp, forms, tracking
from guarantee.security import evidence_download
from guarantee.services import reading
from guarantee.services.actors import GroupActor
from guarantee.services.claims import change_contact_email, change_language, contact_email_hint, fire
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ServiceError, StaleClaim, TriggerNotAllowed, ValidationFailed
from guarantee.services.evidence import MAX_FILE_BYTES, MAX_FILES_PER_CLAIM, add_evidence, list_evidence, open_evidence
from guarantee.services.idempotency import StoredResponse
from guarantee.services.storage import StorageUnavailable
from guarantee.transactions import context, read_only, transactional, undo
from workflows import (
    STATE_GUIDANCE,
    STATE_LABELS,
    TIMELINE_LABELS,
    TRANSITIONS_BY_TRIGGER,
    Transition,
    is_terminal,
)
from workflows.vocabulary import label

DONE_MESSAGES = {
    "provide_information": _l("Your answer has been sent. We have started the time to decide again."),
    "appeal": _l("Your appeal has been sent."),
    "withdraw": _l("Your claim has been withdrawn."),
    "evidence": _l("Your file has been added to the claim."),
    "contact": _l("Your contact email address has been changed. We have told the old address."),
}

# Requests up to this size reach the form, so that a file somewhat over the limit gets a
# form error beside the field (and keeps the other answers); beyond it, the 413 page.
UPLOAD_LIMIT = 3 * MAX_FILE_BYTES


# --- the decision that stands -------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One step of the timeline shown in full near the top: a decision, or what the council did."""

    title: str
    occurred_at: datetime
    texts: list[dict[str, Any]]
    # (the workflow's label of the choice, what was chosen, in words): the remedy, the outcome
    choices: list[tuple[str, str]]


def _outcome(item: dict[str, Any], transition: Transition, claim: dict[str, Any]) -> Outcome:
    chosen = {"remedy": claim["remedy"], "outcome": claim["outcome"]}
    choices = [
        (spec.label, label(chosen[spec.name]))
        for spec in transition.inputs
        if spec.kind == "choice" and spec.name in chosen and chosen[spec.name]
    ]
    return Outcome(TIMELINE_LABELS[transition.trigger], item["occurred_at"], item["texts"], choices)


def standing(claim: dict[str, Any]) -> tuple[Outcome | None, Outcome | None]:
    """The decision that stands now, and what the council did about it, from the group's view of
    the claim: the last decision that came with public reasons (reopening a claim clears it), and
    the resolution recorded after it."""
    decision = resolution = None
    for item in claim["timeline"]:
        transition = TRANSITIONS_BY_TRIGGER.get(item["action"])
        if transition is None:  # "submitted"
            continue
        if transition.decided_at == "clear":
            decision = resolution = None
        elif transition.is_decision and item["texts"]:
            decision, resolution = _outcome(item, transition, claim), None
        elif transition.outcome_input and item["texts"]:
            resolution = _outcome(item, transition, claim)
    return decision, resolution


# --- the page -------------------------------------------------------------------------------


def ends_the_claim(transition: Transition) -> bool:
    """A step after which nothing more can happen: it has a page of its own that asks first."""
    return is_terminal(transition.dest)


def tracking_page(
    ctx: ServiceContext,
    reference: str,
    actor: GroupActor,
    status: int = 200,
    *,
    action_forms: dict[str, FlaskForm] | None = None,
    evidence_form: forms.EvidenceForm | None = None,
    contact_form: forms.ContactEmailForm | None = None,
    language_form: forms.LanguageForm | None = None,
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
        language_form = language_form or forms.LanguageForm(formdata=None, language=claim.language)
    else:
        contact_hint = language_form = None
    allowed = [TRANSITIONS_BY_TRIGGER[t] for t in view["allowed_triggers"]]
    # A form for each action open now; one that failed keeps what was typed, if still open.
    shown = {t: f for t, f in (action_forms or {}).items() if t in view["allowed_triggers"]}
    for transition in allowed:
        if ends_the_claim(transition):
            continue
        shown.setdefault(transition.trigger, _action_form(transition, formdata=None))
        shown[transition.trigger].action_key.data = secrets.token_urlsafe(24)
    refused = evidence_form is not None and bool(evidence_form.errors)  # shown beside its field, even at the limit
    if not is_terminal(state) and (len(files) < MAX_FILES_PER_CLAIM or refused):
        evidence_form = evidence_form or forms.EvidenceForm(formdata=None)
        evidence_form.action_key.data = secrets.token_urlsafe(24)
    else:
        evidence_form = None
    decision, resolution = standing(view)
    page = render_template(
        "public/track.html",
        claim=view,
        guidance=STATE_GUIDANCE[state],
        decision=decision,
        resolution=resolution,
        files=files,
        action_forms=shown,
        final_steps=[t for t in allowed if ends_the_claim(t)],
        evidence_form=evidence_form,
        contact_form=contact_form if contact_hint is not None else None,
        contact_hint=contact_hint,
        language_form=language_form,
        language_name=forms.LANGUAGE_NAMES[claim.language],
        max_files=MAX_FILES_PER_CLAIM,
        problem=problem,
        done=_done_message(str(session.pop("done", "")), claim.language),
        form=_first_with_errors(shown, evidence_form, contact_form, language_form),
    )
    return tracking.no_store(make_response(page, status))


def _done_message(what: str, language: str) -> str | None:
    """The banner after a change, in the reader's language."""
    if what == "language":  # with the language now chosen
        return str(_("We will write to you in %(language)s from now on.", language=forms.LANGUAGE_NAMES[language]))
    message = DONE_MESSAGES.get(what)
    return str(message) if message is not None else None


def _action_form(transition: Transition, **kwargs: Any) -> FlaskForm:
    """The form for a step the group takes, sent once however often it is posted (its key). A
    step that ends the claim also carries the claim's version, so that a page left open while
    the claim moved on is refused. Its labels, hints and button (the workflow's words) are in the
    reader's language."""
    hidden = ("action_key", "version") if ends_the_claim(transition) else ("action_key",)
    form = action_form(transition, hidden=hidden, **kwargs)
    for field in form:
        if field.short_name not in (*hidden, "csrf_token"):
            field.label.text = say(field.label.text)
            field.description = say(field.description)
    return form


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
            field.errors = [
                _(
                    "Choose your file again (%(filename)s): it was not saved because of the other problem",
                    filename=upload[0],
                )
            ]


def _step(transition: Transition) -> str:
    """A step in the middle of a sentence: "withdraw the claim"."""
    return say(transition.label).lower()


def _state(state: str) -> str:
    """A state in the middle of a sentence: "under review"."""
    return say(STATE_LABELS[state]).lower()


def _not_now(transition: Transition, state: str) -> str:
    return str(
        _(
            "You can no longer %(step)s: your claim is now %(state)s. The page below shows what you can do now.",
            step=_step(transition),
            state=_state(state),
        )
    )


def _refusal(transition: Transition, refused: ServiceError) -> str:
    if isinstance(refused, TriggerNotAllowed) and refused.reason:
        return str(_("You can no longer %(step)s. %(reason)s", step=_step(transition), reason=say(refused.reason)))
    if isinstance(refused, TriggerNotAllowed):
        return _not_now(transition, refused.state)
    return say(refused.message)


def _done(reference: str, what: str) -> Response:
    """After a change, back to the tracking page (so a refresh does not send it again)."""
    session["done"] = what
    return tracking.no_store(redirect(url_for("public.track", reference=reference, _anchor="main-content"), code=303))


@bp.before_request
def _uploads_may_be_large() -> None:
    if request.method == "POST" and request.path.startswith("/track/"):
        request.max_content_length = UPLOAD_LIMIT


# --- a step that ends the claim, on its own page ---------------------------------------------


def _group_transition(trigger: str) -> Transition | None:
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    return transition if transition is not None and transition.may_be_fired_by("group") else None


def _final_step_page(
    ctx: ServiceContext,
    reference: str,
    actor: GroupActor,
    transition: Transition,
    status: int = 200,
    *,
    form: FlaskForm | None = None,
    problem: str | None = None,
) -> Response:
    """The page that asks before a step that ends the claim: what it means, an optional reason
    and the button; or the tracking page saying why not, when the step is not open now."""
    claim, view = reading.read_claim(ctx, reference, actor)
    if transition.trigger not in view["allowed_triggers"]:
        return tracking_page(ctx, reference, actor, 409, problem=_not_now(transition, claim.state))
    form = form or _action_form(transition, formdata=None)
    form.action_key.data = secrets.token_urlsafe(24)
    form.version.data = str(claim.version)
    page = render_template(
        "public/confirm_action.html", claim=view, transition=transition, action=form, problem=problem, form=form
    )
    return tracking.no_store(make_response(page, status))


@bp.get("/track/<reference>/actions/<trigger>")
@read_only
def step_page(ctx: ServiceContext, reference: str, trigger: str) -> Response:
    """A step that ends the claim has a page of its own; the others are forms on the tracking page."""
    actor = _group(ctx, reference)
    transition = _group_transition(trigger)
    if transition is None:
        return tracking.no_store(render_error(404))
    if not ends_the_claim(transition):
        return redirect(url_for("public.track", reference=reference, _anchor=f"action-{trigger}"), code=303)
    return _final_step_page(ctx, reference, actor, transition)


def _version(form: FlaskForm) -> int | None:
    """The claim's version the page was drawn at (None: not a number, so the page is not ours)."""
    value = str(form.version.data or "")
    return int(value) if value.isdigit() and len(value) < 10 else None


@bp.post("/track/<reference>/actions/<trigger>")
def act(reference: str, trigger: str) -> Response:
    """The group answers a question, appeals or withdraws: one form per trigger, from the workflow.
    run_once owns this view's transaction: it commits the action with its key, once."""
    ctx = context()
    actor = _group(ctx, reference)
    transition = _group_transition(trigger)
    if transition is None:
        return render_error(404)
    final = ends_the_claim(transition)
    form = _action_form(transition)

    def again(status: int, problem: str | None = None) -> Response:
        """This form again, with what was typed: on its own page, or on the tracking page."""
        if final:
            return _final_step_page(ctx, reference, actor, transition, status, form=form, problem=problem)
        return tracking_page(ctx, reference, actor, status, action_forms={trigger: form}, problem=problem)

    if not form.validate():
        return again(400)
    data: dict[str, Any] = {
        spec.name: getattr(form, spec.name).data for spec in transition.inputs if spec.kind in ("text", "choice")
    }
    uploads = {spec.name: _upload(form, spec.name) for spec in transition.inputs if spec.kind == "evidence"}
    version = _version(form) if final else None
    fingerprint = {**data, **{k: (v[0], len(v[1])) if v else None for k, v in uploads.items()}, "trigger": trigger}

    def produce(once: ServiceContext) -> StoredResponse:
        if final and version is None:
            raise StaleClaim(reference, None)
        for name, upload in uploads.items():
            data[name] = [_attach(once, reference, actor, upload, field=name).id] if upload else []
        fire(once, reference, trigger, actor, data, expected_version=version)
        return StoredResponse(303, {}, {})

    try:
        run_once(f"web {reference} {trigger}", form.action_key.data or None, fingerprint, produce)
    except ValidationFailed as failed:
        if "Idempotency-Key" in failed.errors:
            return again(409, str(ALREADY_SENT))
        forms.show_errors(form, failed.errors)
        _ask_to_choose_files_again(form, uploads)
        return again(400)
    except StaleClaim:
        state = reading.read_claim(ctx, reference, actor)[0].state
        return again(
            409,
            _(
                "Your claim changed while this page was open: it is now %(state)s. "
                "Check that you still want to %(step)s, then press the button again.",
                state=_state(state),
                step=_step(transition),
            ),
        )
    except (Conflict, StorageUnavailable) as refused:
        _ask_to_choose_files_again(form, uploads)
        status = 503 if isinstance(refused, StorageUnavailable) else 409
        problem = _refusal(transition, refused)
        return tracking_page(ctx, reference, actor, status, action_forms={trigger: form}, problem=problem)
    return _done(reference, trigger)


def _attach(ctx: ServiceContext, reference: str, actor: GroupActor, upload: tuple[str, bytes], *, field: str) -> Any:
    try:
        return add_evidence(ctx, reference, actor, upload[0], upload[1])
    except ValidationFailed as failed:
        raise ValidationFailed({field: failed.errors.get("file", [failed.message])}) from None


# --- evidence and the contact address ---------------------------------------------------------


@bp.post("/track/<reference>/evidence")
def upload_evidence(reference: str) -> Response:
    """A file of evidence, added once however often it is sent (run_once owns the transaction)."""
    ctx = context()
    actor = _group(ctx, reference)
    form = forms.EvidenceForm()
    if not form.validate():
        return tracking_page(ctx, reference, actor, 400, evidence_form=form)
    upload = _upload(form, "file")
    if upload is None:
        forms.show_errors(form, {"file": [_("Select a file to upload")]})
        return tracking_page(ctx, reference, actor, 400, evidence_form=form)

    def produce(once: ServiceContext) -> StoredResponse:
        _attach(once, reference, actor, upload, field="file")
        return StoredResponse(303, {}, {})

    try:
        run_once(f"web {reference} evidence", form.action_key.data or None, [upload[0], len(upload[1])], produce)
    except ValidationFailed as failed:
        if "Idempotency-Key" in failed.errors:
            return tracking_page(ctx, reference, actor, 409, evidence_form=form, problem=str(ALREADY_SENT))
        forms.show_errors(form, failed.errors)
        return tracking_page(ctx, reference, actor, 400, evidence_form=form)
    except (Conflict, StorageUnavailable) as refused:
        status = 503 if isinstance(refused, StorageUnavailable) else 409
        return tracking_page(ctx, reference, actor, status, evidence_form=form, problem=say(refused.message))
    return _done(reference, "evidence")


@bp.post("/track/<reference>/contact")
@transactional
def change_contact(ctx: ServiceContext, reference: str) -> Response:
    """A new contact e-mail address: audited, and the old address is told."""
    return _change(
        ctx,
        reference,
        "contact",
        forms.ContactEmailForm(),
        lambda actor, form: change_contact_email(ctx, reference, actor, form.email.data),
    )


@bp.post("/track/<reference>/language")
@transactional
def change_written_language(ctx: ServiceContext, reference: str) -> Response:
    """The language the group is written to in, from now on (issue 23): audited."""
    return _change(
        ctx,
        reference,
        "language",
        forms.LanguageForm(),
        lambda actor, form: change_language(ctx, reference, actor, form.language.data),
    )


def _change(
    ctx: ServiceContext, reference: str, what: str, form: Any, apply: Callable[[GroupActor, Any], object]
) -> Response:
    """One of the group's own details changed from its tracking page (``what``: contact or
    language): the page again with the form's errors, or the banner that says it is done."""
    actor = _group(ctx, reference)
    again = {f"{what}_form": form}
    if not form.validate():
        return tracking_page(ctx, reference, actor, 400, **again)
    try:
        apply(actor, form)
    except ValidationFailed as failed:
        undo()
        forms.show_errors(form, failed.errors)
        return tracking_page(ctx, reference, actor, 400, **again)
    except Conflict as refused:
        undo()
        return tracking_page(ctx, reference, actor, 409, problem=say(refused.message))
    return _done(reference, what)


@bp.get("/track/<reference>/evidence/<int:attachment_id>")
@read_only
def download_evidence(ctx: ServiceContext, reference: str, attachment_id: int) -> Response:
    try:
        actor = _group(ctx, reference)
        attachment, path = open_evidence(ctx, reference, attachment_id, actor)
    except NotFound:
        return tracking.no_store(render_error(404, next_step=back_to_claim()))
    except StorageUnavailable as unavailable:
        return tracking.no_store(render_error(503, say(unavailable.message), next_step=back_to_claim()))
    return tracking.no_store(evidence_download(path, attachment.content_type, attachment.filename))
