"""The claim page: what the group wrote, its timeline, clocks and evidence, and the actions this
officer may take now; and the group's files of evidence, as downloads."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee.console import bp, forms, may
from guarantee.pages import render_error
from guarantee.security import evidence_download
from guarantee.services import matching, reading, regulations
from guarantee.services.casework import ASSIGNERS, CLASSIFIERS, CONTACT_ROLES
from guarantee.services.context import ServiceContext
from guarantee.services.evidence import list_evidence, open_evidence
from guarantee.services.officers import active_names
from guarantee.services.storage import StorageUnavailable
from guarantee.transactions import read_only
from workflows import CLOCKS, INITIAL_STATE, TERMINAL_STATES, TIMELINE_LABELS, TRANSITIONS, TRANSITIONS_BY_TRIGGER
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
        may_decline_duplicate=DECLINE in view["allowed_triggers"],
        duplicate_explanation=duplicate_explanation,
        decline_trigger=DECLINE,
        duplicate_reason=DUPLICATE,
        files=files,
        officer_names=dict(officers),
        transitions=TRANSITIONS_BY_TRIGGER,
        note_form=note_form,
        classification_form=classification_form,
        catalogue_query=query,
        catalogue_matches=len(entries),
        clocks=CLOCKS,
        timeline_labels=TIMELINE_LABELS,
        problem=problem,
        contact=contact,
        may_see_contact=may(CONTACT_ROLES),
        may_assign=may(ASSIGNERS),
        set_aside=_set_aside(view),
        form=next((f for f in (note_form, classification_form) if f and f.errors), None),
    )
    return make_response(page, status)


def due_dates(view: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The dates the claim's running clocks are due, soonest first; those past are overdue."""
    running = [c for c in view["clocks"] if c["status"] == "running" and c["due_on"]]
    return [
        {"label": CLOCKS[c["clock"]].label, "due_on": c["due_on"], "overdue": today > c["due_on"]}
        for c in sorted(running, key=lambda c: (c["due_on"], CLOCKS[c["clock"]].label))
    ]


def duplicate_explanation(kept: str) -> str:
    """What the group is told when its claim is declined as a duplicate of claim ``kept``."""
    return (
        f"Claim {kept} is about the same rule, in the same area, and is already with us. We will consider "
        f"the rule once, through claim {kept}, so this claim is closed as a duplicate of it."
    )


def still_possible(state: str) -> list[tuple[str, tuple[str, ...]]]:
    """What officers may still do to a finished claim: (the step's name, the roles that take it)."""
    return [
        (t.label, tuple(r for r in t.fired_by if r in ROLES))
        for t in TRANSITIONS
        if state in t.sources and set(t.fired_by) & set(ROLES)
    ]


def _set_aside(view: dict[str, Any]) -> str | None:
    """Why an appeal-panel member is not offered the appeal: they decided the claim before."""
    appeal_steps = {t for t, step in TRANSITIONS_BY_TRIGGER.items() if step.separation_of_duties}
    sources = {s for t in appeal_steps for s in TRANSITIONS_BY_TRIGGER[t].sources}
    may_decide = any(may(TRANSITIONS_BY_TRIGGER[t].fired_by) for t in appeal_steps)
    if view["state"] in sources and may_decide and not appeal_steps & set(view["allowed_triggers"]):
        return (
            "You made an earlier decision on this claim, so another member of the appeal panel must decide its appeal."
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
        return render_error(503, unavailable.message)
    return evidence_download(path, attachment.content_type, attachment.filename)
