"""What an officer does to a claim: the workflow's actions, each on a page of its own with only
its form (generated from workflows/). An action that chooses a catalogue entry (accept) opens
pre-filled from what the group wrote: their category, and the closest entries ranked first.

A decision (``confirm_first`` in the workflow) is checked before it is made: posting its form
shows what the group will be sent and what happens to the clocks, and only the confirming post
makes it. Afterwards the claim page says what changed and who was told."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee import mail
from guarantee.action_forms import NEW_ENTRY, OTHER_ENTRY, action_form, answers, picked_errors
from guarantee.console import STALE, bp, refuse
from guarantee.console.claim import catalogue_entries, catalogue_query, claim_page_response
from guarantee.i18n import long_date, say
from guarantee.pages import render_error
from guarantee.services import publishing, queue, reading
from guarantee.services.claims import may_fire
from guarantee.services.context import ServiceContext
from guarantee.services.decisions import ClockChange, Effects, fire_and_report, preview
from guarantee.services.errors import Conflict, Forbidden, StaleClaim, TriggerNotAllowed, ValidationFailed
from guarantee.services.matching import EntryMatch, rank_entries
from guarantee.services.officers import active_names
from guarantee.transactions import read_only, transactional, undo
from workflows import STATE_LABELS, TRANSITIONS_BY_TRIGGER, Transition
from workflows.vocabulary import ROLES, label

# The answer that makes a decision close the claim as a duplicate of another (decline's).
DUPLICATE_OF = "duplicate_of"


def _officers_step(trigger: str) -> Transition | None:
    """The transition, if officers take it (the group's and the system's steps are not theirs)."""
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    return transition if transition is not None and set(transition.fired_by) & set(ROLES) else None


def _form(
    ctx: ServiceContext,
    reference: str,
    transition: Transition,
    entries: list[tuple[int, str]],
    ranked: list[EntryMatch] | None,
    **kwargs: object,
) -> FlaskForm:
    asked = publishing.decision_form(ctx, reference, transition)
    return action_form(
        transition,
        hidden=("version",),
        submit=_("Continue") if transition.confirm_first else None,  # to the check page
        regulations=entries,
        officers=active_names(ctx),
        ranked=None if ranked is None else [(m.regulation_id, m.title) for m in ranked],
        citable=[(p.id, _citable(p)) for p in asked.precedents],
        not_asked=asked.not_asked,
        **kwargs,
    )


def _citable(precedent: publishing.Precedent) -> str:
    """What a box to cite an earlier statement says: "Cite DS-2026-48213: upheld, April to June 2026. ..."."""
    return str(
        _(
            "Cite %(number)s: %(decision)s, %(quarter)s. %(first_line)s",
            number=precedent.number,
            decision=say(label(precedent.decision)).lower(),
            quarter=say(precedent.quarter),
            first_line=say(precedent.first_line),
        )
    )


def _ranked(ctx: ServiceContext, reference: str, transition: Transition) -> list[EntryMatch] | None:
    """The catalogue entries closest to the rule the group named, where the action chooses one."""
    if not any(spec.kind == "regulation" for spec in transition.inputs):
        return None
    return rank_entries(ctx, current_user.actor, reference)


def _prefilled(
    claim: dict[str, Any], transition: Transition, ranked: list[EntryMatch] | None, query: str
) -> dict[str, Any]:
    """The answers an action's page opens with, from what the group wrote: their category, and
    the closest catalogue entry if it is very likely the rule they meant (or the whole catalogue,
    once the officer has searched it)."""
    data: dict[str, Any] = {}
    for spec in transition.inputs:
        if spec.kind == "choice" and spec.name == "category" and claim["barrier"]["category"] in spec.choices:
            data[spec.name] = claim["category"] or claim["barrier"]["category"]
        if spec.kind == "regulation" and ranked is not None:
            if query:
                data[f"{spec.name}_pick"] = OTHER_ENTRY
            elif ranked and ranked[0].likely:
                data[f"{spec.name}_pick"] = str(ranked[0].regulation_id)
    return data


def _action_page(
    ctx: ServiceContext, reference: str, transition: Transition, form: FlaskForm | None = None, status: int = 200
) -> Response:
    """The action's page: its form, and the claim it acts on. A form that failed keeps its answers."""
    query = catalogue_query() if form is None else ""
    entries = catalogue_entries(ctx, query) if form is None else []
    _, claim = reading.read_claim(ctx, reference, current_user.actor)
    ranked = _ranked(ctx, reference, transition)
    if form is None:
        data = _prefilled(claim, transition, ranked, query)
        form = _form(ctx, reference, transition, entries, ranked, formdata=None, data=data)
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
        ranked=ranked,
        other_entry=OTHER_ENTRY,
        new_entry=NEW_ENTRY,
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
    form = _form(ctx, reference, transition, catalogue_entries(ctx, ""), _ranked(ctx, reference, transition))
    if not form.validate():
        return _action_page(ctx, reference, transition, form, 400)
    version = queue.as_id(form.version.data)
    if version is None:  # every form carries the version it was drawn from
        return claim_page_response(ctx, reference, 409, problem=say(STALE))
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
        refuse(form, failed)
        picked_errors(form, transition.inputs)
        return _action_page(ctx, reference, transition, form, 400)
    except StaleClaim:
        undo()
        return claim_page_response(ctx, reference, 409, problem=say(STALE))
    except (Conflict, Forbidden) as refused:
        undo()
        return claim_page_response(
            ctx, reference, 409 if isinstance(refused, Conflict) else 403, problem=say(refused.message)
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
        answers=_answers(transition, form, _cited_numbers(ctx, reference, transition)),
        posted=_posted(form),
        checked=checked,
        to_state=say(STATE_LABELS[checked.to_state]),
        duplicate_of=answers(transition.inputs, form).get(DUPLICATE_OF),
        clock_effect=clock_effect,
    )
    return make_response(page)


def _posted(form: FlaskForm) -> list[tuple[str, str]]:
    """The form's fields as its check page posts them back: the answers, the version, the token."""
    posted = []
    for field in form:
        if field.type == "SubmitField":
            continue
        if field.type == "SelectMultipleField":  # one value a box
            posted += [(field.name, str(value)) for value in field.data or []]
        else:
            posted.append(
                (field.name, field.current_token if field.type == "CSRFTokenField" else str(field.data or ""))
            )
    return posted


def _cited_numbers(ctx: ServiceContext, reference: str, transition: Transition) -> dict[str, str]:
    """The number of each statement the decision may cite, by its id (as the form posts it)."""
    return {str(p.id): p.number for p in publishing.decision_form(ctx, reference, transition).precedents}


def _answers(transition: Transition, form: FlaskForm, numbers: dict[str, str]) -> list[tuple[str, str]]:
    """(question, answer) as the officer gave them: the words of the choices, not their codes;
    the statements cited by their ``numbers``."""
    shown = []
    for spec in transition.inputs:
        if spec.name not in form:  # not asked of this claim
            continue
        field = form[spec.name]
        if spec.kind == "citations":
            chosen = {str(value) for value in field.data or []}
            value = "; ".join(numbers.get(c.value, "") for c in field.choices if c.value in chosen)
        elif spec.kind == "regulation":
            entry = answers((spec,), form).get(spec.name)
            if isinstance(entry, dict):
                value = _("A new catalogue entry: %(title)s", title=entry["title"])
            else:
                value = next((c.label for c in field.choices if c.value == str(entry)), "")
        elif spec.kind in ("choice", "officer"):
            value = next((c.label for c in field.choices if c.value == (field.data or "")), "")
        else:
            value = field.data or ""
        shown.append((field.label.text, value or _("Not given")))
    return shown


def _day(day: date | None) -> str:
    return long_date(day) if day else ""


def clock_effect(change: ClockChange, *, done: bool = False) -> str:
    """What a step does to a clock, in words: "Time to appeal starts: due 14 January 2027"
    (``done``: what it did, "Time to appeal started: ...")."""
    clock, due, days = say(change.label), _day(change.due_on), change.days_left
    if change.action == "start":
        if done:
            return str(_("%(clock)s started: due %(due)s", clock=clock, due=due))
        return str(_("%(clock)s starts: due %(due)s", clock=clock, due=due))
    if change.action == "resume":
        if done:
            return str(_("%(clock)s runs again: due %(due)s", clock=clock, due=due))
        return str(_("%(clock)s will run again: due %(due)s", clock=clock, due=due))
    if change.action == "pause":
        if done:
            return str(_("%(clock)s paused, with %(days)s working days left", clock=clock, days=days))
        return str(_("%(clock)s pauses, with %(days)s working days left", clock=clock, days=days))
    if done:
        return str(_("%(clock)s stopped", clock=clock))
    return str(_("%(clock)s stops", clock=clock))


def told(effects: Effects) -> str:
    """What the claim page says once an action is made: what changed, and who was told."""
    said = [_("The claim is now %(state)s.", state=say(STATE_LABELS[effects.to_state]).lower())]
    group = effects.group_message
    if group is not None:
        said.append(_("An e-mail is on its way to the group at %(address)s.", address=group.to))
    elif effects.group_not_told:
        said.append(_("%(why)s, so no e-mail was sent to the group.", why=say(effects.group_not_told)))
    if effects.officer_messages:
        said.append(_("An e-mail is on its way to %(names)s.", names=", ".join(m.to for m in effects.officer_messages)))
    said += [f"{clock_effect(c, done=True)}." for c in effects.clocks]
    return " ".join(said)
