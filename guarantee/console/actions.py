"""What an officer does to a claim: the workflow's actions, each on a page of its own with only
its form (generated from workflows/), and the casework beside them (classification, internal
notes, showing the group's contact details, the assignee).

A decision (``confirm_first`` in the workflow) is checked before it is made: posting its form
shows what the group will be sent and what happens to the clocks, and only the confirming post
makes it. Afterwards the claim page says what changed and who was told."""

from __future__ import annotations

from datetime import date

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee import mail
from guarantee.action_forms import action_form, answers
from guarantee.console import EXPIRED, STALE, bp, expired, forms
from guarantee.console.claim import catalogue_entries, catalogue_query, claim_page_response
from guarantee.pages import render_error
from guarantee.public.forms import show_errors
from guarantee.services import queue, reading
from guarantee.services.casework import add_note, assign, classify, view_contact
from guarantee.services.claims import may_fire
from guarantee.services.context import ServiceContext
from guarantee.services.decisions import ClockChange, Effects, fire_and_report, preview
from guarantee.services.errors import Conflict, Forbidden, StaleClaim, TriggerNotAllowed, ValidationFailed
from guarantee.services.officers import active_names
from guarantee.transactions import read_only, transactional, undo
from workflows import STATE_LABELS, TRANSITIONS_BY_TRIGGER, Transition
from workflows.vocabulary import ROLES


def _officers_step(trigger: str) -> Transition | None:
    """The transition, if officers take it (the group's and the system's steps are not theirs)."""
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    return transition if transition is not None and set(transition.fired_by) & set(ROLES) else None


def _form(ctx: ServiceContext, transition: Transition, entries: list[tuple[int, str]], **kwargs: object) -> FlaskForm:
    return action_form(
        transition,
        hidden=("version",),
        submit="Continue" if transition.confirm_first else None,  # to the check page
        regulations=entries,
        officers=active_names(ctx),
        **kwargs,
    )


def _action_page(
    ctx: ServiceContext, reference: str, transition: Transition, form: FlaskForm | None = None, status: int = 200
) -> Response:
    """The action's page: its form, and the claim it acts on. A form that failed keeps its answers."""
    query = catalogue_query() if form is None else ""
    entries = catalogue_entries(ctx, query) if form is None else []
    form = form or _form(ctx, transition, entries, formdata=None)
    _, claim = reading.read_claim(ctx, reference, current_user.actor)
    if form.version.data is None:
        form.version.data = str(claim["version"])  # what this officer saw; a stale page is refused
    page = render_template(
        "console/action.html",
        claim=claim,
        transition=transition,
        action=form,
        form=form if form.errors else None,
        catalogue_search=any(spec.kind == "regulation" for spec in transition.inputs),
        catalogue_query=query,
        catalogue_matches=len(entries),
    )
    return make_response(page, status)


@bp.get("/claims/<reference>/actions/<trigger>")
@login_required
@read_only
def action_page(ctx: ServiceContext, reference: str, trigger: str) -> ResponseReturnValue:
    transition = _officers_step(trigger)
    if transition is None:
        return render_error(404)
    try:
        may_fire(ctx, reference, trigger, current_user.actor)
    except TriggerNotAllowed as not_now:
        page = render_template("console/not_now.html", reference=reference, transition=transition, why=not_now)
        return make_response(page, 409)
    return _action_page(ctx, reference, transition)


@bp.post("/claims/<reference>/actions/<trigger>")
@login_required
@transactional
def act(ctx: ServiceContext, reference: str, trigger: str) -> ResponseReturnValue:
    """The action's form posted: a decision goes to its check page first (``confirm=yes`` makes
    it); "Change your answers" comes back to the form (``change``); any other action is made."""
    transition = _officers_step(trigger)
    if transition is None:
        return render_error(404)
    form = _form(ctx, transition, catalogue_entries(ctx, ""))
    if not form.validate():
        return _action_page(ctx, reference, transition, form, 400)
    version = queue.as_id(form.version.data)
    if version is None:  # every form carries the version it was drawn from
        return claim_page_response(ctx, reference, 409, problem=STALE)
    if "change" in request.form:
        return _action_page(ctx, reference, transition, form)
    given = answers(transition.inputs, form)
    confirmed = not transition.confirm_first or request.form.get("confirm") == "yes"
    try:
        if confirmed:
            done = fire_and_report(ctx, reference, trigger, current_user.actor, given, expected_version=version)
        else:
            checked = preview(
                ctx, reference, trigger, current_user.actor, given, expected_version=version, render=mail.render
            )
    except ValidationFailed as failed:
        undo()
        show_errors(form, failed.errors)
        return _action_page(ctx, reference, transition, form, 400)
    except StaleClaim:
        undo()
        return claim_page_response(ctx, reference, 409, problem=STALE)
    except (Conflict, Forbidden) as refused:
        undo()
        return claim_page_response(
            ctx, reference, 409 if isinstance(refused, Conflict) else 403, problem=refused.message
        )
    if not confirmed:
        return _check_page(ctx, reference, transition, form, checked)
    flash(told(done), "success")
    return redirect(url_for("console.claim_page", reference=reference), code=303)


def _check_page(
    ctx: ServiceContext, reference: str, transition: Transition, form: FlaskForm, checked: Effects
) -> Response:
    """Check your decision: the answers, the e-mail the group will get as it will be sent, the
    officers told, and the clocks. Its buttons post the answers back, with the version seen."""
    _, claim = reading.read_claim(ctx, reference, current_user.actor)
    page = render_template(
        "console/check_decision.html",
        claim=claim,
        transition=transition,
        action=form,
        answers=_answers(transition, form),
        posted=_posted(form),
        checked=checked,
        to_state=STATE_LABELS[checked.to_state],
        clock_effect=clock_effect,
    )
    return make_response(page)


def _posted(form: FlaskForm) -> list[tuple[str, str]]:
    """The form's fields as its check page posts them back: the answers, the version, the token."""
    return [
        (field.name, field.current_token if field.type == "CSRFTokenField" else str(field.data or ""))
        for field in form
        if field.type != "SubmitField"
    ]


def _answers(transition: Transition, form: FlaskForm) -> list[tuple[str, str]]:
    """(question, answer) as the officer gave them: the words of the choices, not their codes."""
    shown = []
    for spec in transition.inputs:
        field = form[spec.name]
        if spec.kind == "regulation" and not field.data:
            new = (form[f"{spec.name}_new"].data or "").strip()
            value = f"A new catalogue entry: {new}" if new else ""
        elif spec.kind in ("choice", "regulation", "officer"):
            value = next((c.label for c in field.choices if c.value == (field.data or "")), "")
        else:
            value = field.data or ""
        shown.append((field.label.text, value or "Not given"))
    return shown


def _day(day: date | None) -> str:
    return f"{day:%-d %B %Y}" if day else ""


def clock_effect(change: ClockChange, *, done: bool = False) -> str:
    """What a step does to a clock, in words: "Time to appeal starts: due 14 January 2027"."""
    if change.action == "start":
        return f"{change.label} {'started' if done else 'starts'}: due {_day(change.due_on)}"
    if change.action == "resume":
        return f"{change.label} {'runs' if done else 'will run'} again: due {_day(change.due_on)}"
    if change.action == "pause":
        return f"{change.label} {'paused' if done else 'pauses'}, with {change.days_left} working days left"
    return f"{change.label} {'stopped' if done else 'stops'}"


def told(effects: Effects) -> str:
    """What the claim page says once an action is made: what changed, and who was told."""
    said = [f"The claim is now {STATE_LABELS[effects.to_state].lower()}."]
    group = effects.group_message
    if group is not None:
        said.append(f"An e-mail is on its way to the group at {group.to}.")
    elif effects.group_not_told:
        said.append(f"{effects.group_not_told}, so no e-mail was sent to the group.")
    if effects.officer_messages:
        said.append(f"An e-mail is on its way to {', '.join(m.to for m in effects.officer_messages)}.")
    said += [f"{clock_effect(c, done=True)}." for c in effects.clocks]
    return " ".join(said)


@bp.post("/claims/<reference>/classification")
@login_required
@transactional
def classification(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    """Change the claim's barrier category or catalogue entry (a new entry may be added here)."""
    form = forms.classification_form(regulations=catalogue_entries(ctx, ""))
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
