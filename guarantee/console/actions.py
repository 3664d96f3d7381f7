"""What an officer does to a claim: the workflow's actions, and the casework beside them
(classification, internal notes, showing the group's contact details, the assignee)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from guarantee.action_forms import action_form, answers
from guarantee.console import EXPIRED, STALE, bp, expired, forms
from guarantee.console.claim import claim_page_response
from guarantee.pages import render_error
from guarantee.public.forms import show_errors
from guarantee.services import queue, regulations
from guarantee.services.casework import add_note, assign, classify, view_contact
from guarantee.services.claims import fire
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, Forbidden, StaleClaim, ValidationFailed
from guarantee.services.officers import active_names
from guarantee.transactions import transactional, undo
from workflows import TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import ROLES


@bp.post("/claims/<reference>/actions/<trigger>")
@login_required
@transactional
def act(ctx: ServiceContext, reference: str, trigger: str) -> ResponseReturnValue:
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    if transition is None or not set(transition.fired_by) & set(ROLES):
        return render_error(404)  # the group's and the system's steps are not officers' to take
    form = action_form(
        transition,
        hidden=("version",),
        regulations=regulations.titles(ctx, current_user.actor),
        officers=active_names(ctx),
    )
    if not form.validate():
        return claim_page_response(ctx, reference, 400, action_forms={trigger: form})
    version = queue.as_id(form.version.data)
    if version is None:  # every form carries the version it was drawn from
        return claim_page_response(ctx, reference, 409, action_forms={trigger: form}, problem=STALE)
    try:
        fire(ctx, reference, trigger, current_user.actor, answers(transition.inputs, form), expected_version=version)
    except ValidationFailed as failed:
        undo()
        show_errors(form, failed.errors)
        return claim_page_response(ctx, reference, 400, action_forms={trigger: form})
    except StaleClaim:
        undo()
        return claim_page_response(ctx, reference, 409, action_forms={trigger: form}, problem=STALE)
    except (Conflict, Forbidden) as refused:
        undo()
        status = 409 if isinstance(refused, Conflict) else 403
        return claim_page_response(ctx, reference, status, problem=refused.message)
    flash(f"Done: {transition.label.lower()}.", "success")
    return redirect(url_for("console.claim_page", reference=reference), code=303)


@bp.post("/claims/<reference>/classification")
@login_required
@transactional
def classification(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    """Change the claim's barrier category or catalogue entry (a new entry may be added here)."""
    form = forms.classification_form(regulations=regulations.titles(ctx, current_user.actor))
    if not form.validate():
        return claim_page_response(ctx, reference, 400, classification_form=form)
    version = queue.as_id(form.version.data)
    if version is None:
        return claim_page_response(ctx, reference, 400, problem=f"{EXPIRED} Reload it and try again.")
    given = answers(forms.CLASSIFICATION, form)
    try:
        claim = classify(
            ctx,
            reference,
            current_user.actor,
            category=given.get("category"),
            regulation=given.get("regulation"),
            expected_version=version,
        )
    except ValidationFailed as failed:
        undo()
        show_errors(form, failed.errors)
        return claim_page_response(ctx, reference, 400, classification_form=form)
    except StaleClaim:
        undo()
        return claim_page_response(ctx, reference, 409, classification_form=form, problem=STALE)
    except Conflict as refused:
        undo()
        return claim_page_response(ctx, reference, 409, problem=refused.message)
    if claim.version != version:
        flash("The classification was changed.", "success")
    else:
        flash("Nothing was changed: the claim already had that classification.", "info")
    return redirect(url_for("console.claim_page", reference=reference), code=303)


@bp.post("/claims/<reference>/notes")
@login_required
@transactional
def note(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    form = forms.NoteForm()
    if not form.validate():
        return claim_page_response(ctx, reference, 400, note_form=form)
    try:
        add_note(ctx, reference, current_user.actor, form.note.data or "")
    except ValidationFailed as failed:
        undo()
        show_errors(form, failed.errors)
        return claim_page_response(ctx, reference, 400, note_form=form)
    flash("Note added.", "success")
    return redirect(url_for("console.claim_page", reference=reference, _anchor="timeline"), code=303)


@bp.post("/claims/<reference>/contact")
@login_required
@transactional
def contact(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    """Show the group's contact details on the claim page (the view is audited)."""
    if not forms.CsrfForm().validate():  # any form of ours: only the CSRF token matters here
        return expired()
    details = view_contact(ctx, reference, current_user.actor)
    return claim_page_response(ctx, reference, contact=details)


@bp.post("/claims/<reference>/assignee")
@login_required
@transactional
def assignee(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    """Give the claim to an officer, or to nobody; refused if the page was stale."""
    form = forms.AssignForm()
    if not form.validate():
        return expired()
    chosen = queue.as_id(form.assignee.data)
    if form.assignee.data and chosen is None:
        return render_error(400, "Choose an officer from the list.")
    version = queue.as_id(form.version.data)
    if version is None:
        return claim_page_response(ctx, reference, 409, problem=STALE)
    try:
        assign(ctx, reference, chosen, current_user.actor, expected_version=version)
    except StaleClaim:
        undo()
        return claim_page_response(ctx, reference, 409, problem=STALE)
    except ValidationFailed as failed:
        undo()
        return claim_page_response(ctx, reference, 400, problem=failed.summary)
    except Conflict as refused:
        undo()
        return claim_page_response(ctx, reference, 409, problem=refused.message)
    flash("The claim's assignee was changed.", "success")
    return redirect(url_for("console.claim_page", reference=reference), code=303)
