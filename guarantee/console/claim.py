"""The claim page: what the group wrote, its evidence and timeline, a summary (state, due dates,
assignee, classification), possible duplicates and the actions this officer may take now; the
group's files of evidence, as downloads; and the casework beside the workflow (classification,
internal notes, showing the group's contact details, the assignee)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee.action_forms import answers
from guarantee.console import EXPIRED, STALE, bp, expired, forms, may, refuse, submitted, summary
from guarantee.i18n import language, say
from guarantee.pages import render_error
from guarantee.security import evidence_download
from guarantee.services import data_rights, matching, publishing, queue, reading, regulations, remedies, rule_pages
from guarantee.services.casework import ASSIGNERS, CLASSIFIERS, CONTACT_ROLES, add_note, assign, classify, view_contact
from guarantee.services.claims import get_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, StaleClaim, ValidationFailed
from guarantee.services.evidence import list_evidence, open_evidence
from guarantee.services.officers import active_names
from guarantee.services.storage import StorageUnavailable
from guarantee.transactions import read_only, transactional, undo
from workflows import CLOCKS, INITIAL_STATE, TERMINAL_STATES, TRANSITIONS, TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import ROLES

# The trigger that declines a claim, and the reason that makes it a duplicate of another.
DECLINE = "decline"
DUPLICATE = "duplicate"


def catalogue_query() -> str:
    """What was typed in "Find a catalogue entry": the forms that choose one then list only the matches."""
    if request.method != "GET":
        return ""
    return (request.args.get("q") or "").replace("\x00", "")[:200].strip()


def catalogue_entries(ctx: ServiceContext, query: str) -> list[tuple[int, str]]:
    """The entries a form offers: those matching the search, or all of them."""
    if query:
        return [(e.id, e.title) for e in regulations.search(ctx, current_user.actor, query, limit=200)]
    return regulations.titles(ctx, current_user.actor)


def claim_page_response(
    ctx: ServiceContext,
    reference: str,
    status: int = 200,
    *,
    note_form: FlaskForm | None = None,
    classification_form: FlaskForm | None = None,
    problem: str | None = None,
    contact: dict[str, str | None] | None = None,
) -> Response:
    """The claim page: the actions open to this officer are links to their pages. Forms that
    failed keep their answers and errors."""
    query = catalogue_query()
    _, view = reading.read_claim(ctx, reference, current_user.actor)
    claim = get_claim(ctx, reference)
    officers = active_names(ctx)
    entries = catalogue_entries(ctx, query)
    files = [
        {"id": f.id, "filename": f.filename, "size": f.size, "uploaded_by": f.uploaded_by}
        for f in list_evidence(ctx, reference, current_user.actor)
    ]
    note_form = note_form or forms.NoteForm(formdata=None)
    finished = view["state"] in TERMINAL_STATES
    if classification_form is None and view["state"] != INITIAL_STATE and not finished and may(CLASSIFIERS):
        current = {"category": view.get("category"), "regulation": str((view.get("regulation") or {}).get("id") or "")}
        classification_form = forms.classification_form(regulations=entries, formdata=None, data=current)
    if classification_form is not None:
        classification_form.version.data = str(view["version"])
    page = render_template(
        "console/claim.html",
        claim=view,
        finished=finished,
        still_possible=still_possible(view["state"]) if finished else [],
        due_dates=due_dates(view, ctx.today()),
        duplicates=[] if finished else matching.possible_duplicates(ctx, current_user.actor, reference),
        group_chose=rule_pages.chosen_by_group(ctx, reference),
        may_decline_duplicate=DECLINE in view["allowed_triggers"],
        duplicate_explanation=partial(duplicate_explanation, group_language=claim.language),
        decline_trigger=DECLINE,
        duplicate_reason=DUPLICATE,
        files=files,
        officer_names=dict(officers),
        note_form=note_form,
        classification_form=classification_form,
        catalogue_query=query,
        catalogue_matches=len(entries),
        problem=problem,
        contact=contact,
        may_see_contact=may(CONTACT_ROLES),
        contact_erased_at=data_rights.contact_erased_at(ctx, reference),
        data_requests=data_rights.requests_of_claim(ctx, reference, current_user.actor) if may(CONTACT_ROLES) else [],
        may_erase=may(data_rights.ERASERS),
        may_assign=may(ASSIGNERS),
        set_aside=_set_aside(view),
        check_ins=remedies.check_ins_of(ctx, claim),
        statements=publishing.of_claim(ctx, claim),
        may_open_statements=may(publishing.APPROVERS),
        today=ctx.today(),
        form=next((f for f in (note_form, classification_form) if f and f.errors), None),
    )
    return make_response(page, status)


def due_dates(view: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The dates the claim's running clocks are due, soonest first; those past are overdue."""
    running = [c for c in view["clocks"] if c["status"] == "running" and c["due_on"]]
    return [
        {"label": say(CLOCKS[c["clock"]].label), "due_on": c["due_on"], "overdue": today > c["due_on"]}
        for c in sorted(running, key=lambda c: (c["due_on"], CLOCKS[c["clock"]].label))
    ]


def duplicate_explanation(kept: str, group_language: str | None = None) -> str:
    """What the group is told when its claim is declined as a duplicate of claim ``kept``, in the
    language the group chose (it is sent to them as the officer's explanation)."""
    with language(group_language):
        return str(
            _(
                "Claim %(kept)s is about the same rule, in the same area, and is already with us. We will consider "
                "the rule once, through claim %(kept)s, so this claim is closed as a duplicate of it.",
                kept=kept,
            )
        )


def still_possible(state: str) -> list[tuple[str, tuple[str, ...]]]:
    """What officers may still do to a finished claim: (the step's name, the roles that take it)."""
    return [
        (say(t.label), tuple(r for r in t.fired_by if r in ROLES))
        for t in TRANSITIONS
        if state in t.sources and set(t.fired_by) & set(ROLES)
    ]


def _set_aside(view: dict[str, Any]) -> str | None:
    """Why an appeal-panel member is not offered the appeal: they decided the claim before."""
    appeal_steps = {t for t, step in TRANSITIONS_BY_TRIGGER.items() if step.separation_of_duties}
    sources = {s for t in appeal_steps for s in TRANSITIONS_BY_TRIGGER[t].sources}
    may_decide = any(may(TRANSITIONS_BY_TRIGGER[t].fired_by) for t in appeal_steps)
    if view["state"] in sources and may_decide and not appeal_steps & set(view["allowed_triggers"]):
        return str(
            _(
                "You made an earlier decision on this claim, so another member of the appeal panel must decide its "
                "appeal."
            )
        )
    return None


@bp.get("/claims/<reference>")
@login_required
@read_only
def claim_page(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    return claim_page_response(ctx, reference)


@bp.get("/claims/<reference>/evidence/<int(max=2147483647):attachment_id>")
@login_required
@read_only
def evidence(ctx: ServiceContext, reference: str, attachment_id: int) -> ResponseReturnValue:
    """A file of evidence, as an attachment that browsers never display inline."""
    try:
        attachment, path = open_evidence(ctx, reference, attachment_id, current_user.actor)
    except StorageUnavailable as unavailable:
        return render_error(503, say(unavailable.message))
    return evidence_download(path, attachment.content_type, attachment.filename)


# --- The casework beside the workflow: classification, internal notes, contact details, assignee


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
        return claim_page_response(ctx, reference, 400, problem=" ".join((say(EXPIRED), _("Reload it and try again."))))
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
        refuse(form, failed)
        return claim_page_response(ctx, reference, 400, classification_form=form)
    except StaleClaim:
        undo()
        return claim_page_response(ctx, reference, 409, classification_form=form, problem=say(STALE))
    except Conflict as refused:
        undo()
        return claim_page_response(ctx, reference, 409, problem=say(refused.message))
    if claim.version != version:
        flash(_("The classification was changed."), "success")
    else:
        flash(_("Nothing was changed: the claim already had that classification."), "info")
    return redirect(url_for("console.claim_page", reference=reference), code=303)


@bp.post("/claims/<reference>/notes")
@login_required
@transactional
def note(ctx: ServiceContext, reference: str) -> ResponseReturnValue:
    form = forms.NoteForm()
    if not submitted(form, lambda: add_note(ctx, reference, current_user.actor, form.note.data or "")):
        return claim_page_response(ctx, reference, 400, note_form=form)
    flash(_("Note added."), "success")
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
        return render_error(400, _("Choose an officer from the list."))
    version = queue.as_id(form.version.data)
    if version is None:
        return claim_page_response(ctx, reference, 409, problem=say(STALE))
    try:
        assign(ctx, reference, chosen, current_user.actor, expected_version=version)
    except StaleClaim:
        undo()
        return claim_page_response(ctx, reference, 409, problem=say(STALE))
    except ValidationFailed as failed:
        undo()
        return claim_page_response(ctx, reference, 400, problem=summary(failed))
    except Conflict as refused:
        undo()
        return claim_page_response(ctx, reference, 409, problem=say(refused.message))
    flash(_("The claim's assignee was changed."), "success")
    return redirect(url_for("console.claim_page", reference=reference), code=303)
