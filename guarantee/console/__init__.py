"""The officers' console: sign in and out, the work queue, and a claim page that offers only
the actions this officer may take now, each asking for exactly what the workflow needs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from guarantee import csv_export, sign_in_limits
from guarantee.console import forms, sessions
from guarantee.context import service_context, unit_of_work
from guarantee.extensions import limiter
from guarantee.models import Claim, Officer, Regulation
from guarantee.pages import render_error
from guarantee.public.forms import show_errors
from guarantee.security import evidence_download
from guarantee.services import admin, queue, reading, regulations, sender, stats, two_step
from guarantee.services import officers as officers_service
from guarantee.services.casework import (
    ASSIGNERS,
    CLASSIFIERS,
    CONTACT_ROLES,
    add_note,
    assign,
    assign_many,
    classify,
    decline_as_duplicates,
    view_contact,
)
from guarantee.services.claims import fire
from guarantee.services.errors import Conflict, Forbidden, NotFound, StaleClaim, TooManyAttempts, ValidationFailed
from guarantee.services.evidence import list_evidence, open_evidence
from guarantee.services.officers import authenticate, change_password, end_sessions
from guarantee.services.storage import StorageUnavailable
from workflows import CLOCKS, INITIAL_STATE, STATE_LABELS, STATES, TIMELINE_LABELS, TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, ROLES, SECTORS

bp = Blueprint("console", __name__, url_prefix="/officer", template_folder="templates")

SIGN_IN_FAILED = "Enter a correct email address and password"
# Who may decline claims, so decline several as duplicates: from the workflow.
DECLINERS = TRANSITIONS_BY_TRIGGER["decline"].fired_by


def _may(roles: tuple[str, ...]) -> bool:
    """Whether the signed-in officer holds one of these roles (the services decide; the pages
    only leave out what would be refused)."""
    return bool(current_user.roles & set(roles))


def _local(target: str) -> bool:
    """A console address on this host, safe to redirect to."""
    return (
        target.startswith("/officer")
        and not any(c in target for c in "\\\r\n\t\x00")
        and not urlsplit(target).netloc
        and not urlsplit(target).scheme
    )


@bp.before_request
def _session_limits() -> ResponseReturnValue | None:
    # Signing out must always reach the server (to end the other sessions), even after a timeout.
    if request.endpoint in ("console.sign_in", "console.signed_out", "console.sign_out"):
        return None
    if not current_user.is_authenticated:
        return None
    why = sessions.lapsed()
    if why:
        logout_user()
        session.clear()
        flash(why)
        return redirect(url_for("console.sign_in"))
    if current_user.must_change_password and request.endpoint not in ("console.password", "console.sign_out"):
        return redirect(url_for("console.password"))
    if current_user.must_set_up_two_step and request.endpoint not in TWO_STEP_PAGES:
        return redirect(url_for("console.two_step_page"))
    return None


TWO_STEP_PAGES = ("console.two_step_page", "console.two_step_change", "console.sign_out", "console.password")


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# --- signing in and out ------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@sign_in_limits.limited
def sign_in() -> ResponseReturnValue:
    form = forms.SignInForm()
    if request.method == "GET" or not form.validate():
        return render_template("console/sign_in.html", form=form), 200 if request.method == "GET" else 400
    target = request.args.get("next") or ""
    target = target if _local(target) else url_for("console.queue_page")
    with unit_of_work() as ctx:
        officer = authenticate(ctx, form.email.data or "", form.password.data or "")
        if officer is not None and officer.totp_secret is not None:
            sessions.await_code(officer, target)
            return redirect(url_for("console.sign_in_code"), code=303)
        signed_in = sessions.signed_in(officer) if officer else None
    if signed_in is None:
        form.password.data = ""
        show_errors(form, {"email": [SIGN_IN_FAILED]})
        return render_template("console/sign_in.html", form=form), 400
    sessions.start(signed_in)
    return redirect(target, code=303)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit("50 per hour", methods=["POST"])
def sign_in_code() -> ResponseReturnValue:
    """The second step of signing in: the code from the officer's authenticator app. Wrong codes
    are counted on the officer (five in 15 minutes), whatever browser or address they come from."""
    if current_user.is_authenticated:
        return redirect(url_for("console.queue_page"), code=303)
    waiting = sessions.awaiting_code()
    if waiting is None:
        lapsed = session.pop("awaiting_code", None) is not None
        flash("The code was not entered within 5 minutes. Sign in again." if lapsed else "Sign in to continue.")
        return redirect(url_for("console.sign_in"), code=303)
    form = forms.CodeForm()
    if request.method == "GET" or not form.validate():
        return render_template("console/sign_in_code.html", form=form), 200 if request.method == "GET" else 400
    try:
        with unit_of_work() as ctx:
            officer = officers_service.officer_for_code(ctx, int(waiting["officer"]), str(waiting["nonce"]))
            if officer is not None:
                two_step.check_code(ctx, officer, form.code.data)
            signed_in = sessions.signed_in(officer) if officer is not None else None
    except two_step.WrongCode as wrong:
        with unit_of_work() as ctx:
            two_step.count_wrong_code(ctx, wrong.officer_id)
        form.code.data = ""
        show_errors(form, {"code": [wrong.message]})
        return render_template("console/sign_in_code.html", form=form), 400
    except TooManyAttempts as refused:
        return render_error(429, refused.message)
    if signed_in is None:  # deactivated, reset, signed out everywhere or turned off meanwhile
        session.clear()
        flash("Your sign-in was stopped because your account changed or you were signed out elsewhere. Sign in again.")
        return redirect(url_for("console.sign_in"), code=303)
    sessions.start(signed_in)
    return redirect(str(waiting["next"]), code=303)


@bp.post("/sign-out")
@login_required
def sign_out() -> ResponseReturnValue:
    form = forms.SignOutForm()
    if not form.validate():
        return render_error(400, "Your session had expired. Sign out again.")
    with unit_of_work() as ctx:
        end_sessions(ctx, current_user.officer_id)  # every session of this officer, everywhere
    logout_user()
    session.clear()
    return redirect(url_for("console.signed_out"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """Choose a new password (required after an administrator reset it). Other sessions end."""
    form = forms.PasswordForm()
    if request.method == "GET" or not form.validate():
        return render_template("console/password.html", form=form), 200 if request.method == "GET" else 400
    try:
        with unit_of_work() as ctx:
            officer = change_password(
                ctx, current_user.officer_id, form.current_password.data or "", form.new_password.data or ""
            )
            now_signed_in = sessions.signed_in(officer)
    except ValidationFailed as failed:
        show_errors(form, failed.errors)
        return render_template("console/password.html", form=form), 400
    sessions.start(now_signed_in, keep_started=True)  # this session goes on; the others have ended
    flash("Your password was changed. Any other sessions of yours have ended.", "success")
    return redirect(url_for("console.queue_page"), code=303)


@bp.get("/two-step")
@login_required
def two_step_page() -> ResponseReturnValue:
    return _two_step_page()


def _two_step_page(status: int = 200, form: FlaskForm | None = None, problem: str | None = None) -> Response:
    """Two-step verification: set it up (a QR code and the key, then a code to confirm), set up a
    new phone, or turn it off where it is not required."""
    with unit_of_work() as ctx:
        officer = officers_service.active_officer(ctx, current_user.actor)
        setup = two_step.pending_setup(ctx, officer)  # begun with a POST: opening the page changes nothing
        required = two_step.required(officer, sessions.admins_must_use_two_step())
        turned_on = officer.totp_secret is not None
    page = render_template(
        "console/two_step.html",
        setup=setup,
        qr=_qr_code(setup.uri) if setup else None,
        required=required,
        turned_on=turned_on,
        form=form or forms.CodeForm(formdata=None),
        problem=problem,
    )
    return make_response(page, status)


def _qr_code(uri: str) -> Markup:
    """The key as a QR code, inline SVG: segno draws only paths, from our own URI, with our title."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, title="QR code of your two-step verification key")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code of your two-step verification key" ', 1))  # noqa: S704


@bp.post("/two-step/<change>")
@login_required
def two_step_change(change: str) -> ResponseReturnValue:
    form = forms.CodeForm()
    if not form.validate():
        return render_error(400, "This page had expired. Go back and try again.")
    try:
        with unit_of_work() as ctx:
            if change == "confirm":
                officer = two_step.confirm_setup(ctx, current_user.officer_id, form.code.data, form.current_code.data)
                now_signed_in = sessions.signed_in(officer)
                done = "Two-step verification is on. You will be asked for a code each time you sign in."
            elif change == "start":  # the first phone, or a new one
                two_step.begin_setup(ctx, current_user.officer_id)
                return redirect(url_for("console.two_step_page"), code=303)
            elif change == "cancel":
                two_step.cancel_setup(ctx, current_user.officer_id)
                return redirect(url_for("console.two_step_page"), code=303)
            elif change == "turn-off":
                two_step.turn_off(ctx, current_user.officer_id, form.code.data, sessions.admins_must_use_two_step())
                now_signed_in = None
                done = "Two-step verification is off."
            else:
                return render_error(404)
    except two_step.WrongCode as wrong:
        with unit_of_work() as ctx:
            two_step.count_wrong_code(ctx, wrong.officer_id)
        form.code.data = form.current_code.data = ""
        show_errors(form, {wrong.field: [wrong.message]})
        return _two_step_page(400, form)
    except ValidationFailed as failed:
        form.code.data = form.current_code.data = ""
        show_errors(form, failed.errors)
        return _two_step_page(400, form)
    except Conflict as refused:
        return _two_step_page(409, problem=refused.message)
    except TooManyAttempts as refused:
        return render_error(429, refused.message)
    if now_signed_in is not None:
        sessions.start(now_signed_in, keep_started=True)  # this session goes on; the others have ended
    flash(done, "success")
    return redirect(url_for("console.two_step_page"), code=303)


@bp.get("/signed-out")
def signed_out() -> str:
    return render_template("console/signed_out.html")


# --- the queue ------------------------------------------------------------------------------


@bp.get("")
@login_required
def queue_page() -> ResponseReturnValue:
    ctx = service_context()
    try:
        filters = queue.parse_filters(request.args, request.args.getlist("state"))
        page = queue.work_queue(ctx, current_user.actor, filters, cursor=request.args.get("cursor"))
        officers, catalogue_entries = _officers(ctx), _regulations(ctx)
        failed_messages = sender.counts(ctx).get("failed", 0) if _may(("admin",)) else 0
    except ValidationFailed as failed:
        ctx.rollback()
        problem = "; ".join(m for msgs in failed.errors.values() for m in msgs)
        return render_error(400, problem)
    finally:
        ctx.rollback()
    return render_template(
        "console/queue.html",
        page=page,
        count_cap=queue.COUNT_CAP,
        filters=filters,
        officers=officers,
        catalogue_entries=catalogue_entries,
        states=STATES,
        state_labels=STATE_LABELS,
        sectors=SECTORS,
        regions=REGIONS,
        categories=BARRIER_CATEGORIES,
        clocks=CLOCKS,
        args=request.args,
        next_url=_next_page_url(page.next_cursor),
        may_assign=_may(ASSIGNERS),
        may_decline=_may(DECLINERS),
        failed_messages=failed_messages,
        csv_url=_filtered_url("console.queue_csv"),
    )


CSV_COLUMNS = (
    "reference",
    "state",
    "submitted_at",
    "group_name",
    "initiative_title",
    "category",
    "region",
    "assignee",
    "due_clock",
    "due_on",
    "working_days_overdue",
)


@bp.get("/queue.csv")
@login_required
def queue_csv() -> ResponseReturnValue:
    """The filtered queue as CSV: officers' fields only, never the group's contact details."""
    ctx = service_context()
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    try:
        filters = queue.parse_filters(request.args, request.args.getlist("state"))
        cursor = None
        while True:
            page = queue.work_queue(ctx, current_user.actor, filters, cursor=cursor, limit=500, with_counts=False)
            for row in page.rows:
                values = {**row, "assignee": page.assignees.get(row["assignee_id"], "")}
                rows.append([values[c] for c in CSV_COLUMNS])
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    except ValidationFailed as failed:
        return render_error(400, "; ".join(m for msgs in failed.errors.values() for m in msgs))
    finally:
        ctx.rollback()
    response = make_response(csv_export.write(rows))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = "attachment; filename=queue.csv"
    return response


FILTERS = ("state", "assignee", "due", "sector", "region", "category", "regulation", "sort")


def _filtered_url(endpoint: str, **more: Any) -> str:
    """An address with this page's filters (not its page)."""
    kept: dict[str, Any] = {k: request.args.getlist(k) for k in FILTERS if k in request.args}
    return url_for(endpoint, **kept, **more)


def _next_page_url(cursor: str | None) -> str | None:
    """This page's address, filters kept, one page on."""
    return _filtered_url("console.queue_page", cursor=cursor) if cursor else None


def _officers(ctx: Any) -> list[tuple[int, str]]:
    active = select(Officer.id, Officer.name).where(Officer.active).order_by(Officer.name)
    return [(officer_id, name) for officer_id, name in ctx.session.execute(active)]


def _regulations(ctx: Any) -> list[tuple[int, str]]:
    query = select(Regulation.id, Regulation.title).where(Regulation.merged_into_id.is_(None))
    return [(entry_id, title) for entry_id, title in ctx.session.execute(query.order_by(Regulation.title).limit(1000))]


# --- a claim ------------------------------------------------------------------------------


def _claim_page(
    reference: str,
    status: int = 200,
    *,
    action_forms: dict[str, FlaskForm] | None = None,
    note_form: FlaskForm | None = None,
    classification_form: FlaskForm | None = None,
    problem: str | None = None,
    contact: dict[str, str | None] | None = None,
) -> Response:
    # "Find a catalogue entry": the accept and classification forms then list only the matches.
    catalogue_query = (request.args.get("q") or "").replace("\x00", "")[:200].strip() if request.method == "GET" else ""
    ctx = service_context()
    try:
        _, view = reading.read_claim(ctx, reference, current_user.actor)
        officers = _officers(ctx)
        if catalogue_query:
            found = regulations.search(ctx, current_user.actor, catalogue_query, limit=200)
            entries = [(e.id, e.title) for e in found]
        else:
            entries = _regulations(ctx)
        files = [
            {"id": f.id, "filename": f.filename, "size": f.size, "uploaded_by": f.uploaded_by}
            for f in list_evidence(ctx, reference, current_user.actor)
        ]
    finally:
        ctx.rollback()
    shown: dict[str, FlaskForm] = {}
    for trigger in view["allowed_triggers"]:
        form = (action_forms or {}).get(trigger) or forms.action_form(
            TRANSITIONS_BY_TRIGGER[trigger], regulations=entries, officers=officers, formdata=None
        )
        form.version.data = str(view["version"])  # what this officer saw; a stale page is refused
        shown[trigger] = form
    note_form = note_form or forms.NoteForm(formdata=None)
    if classification_form is None and view["state"] != INITIAL_STATE and _may(CLASSIFIERS):
        current = {"category": view.get("category"), "regulation": str((view.get("regulation") or {}).get("id") or "")}
        classification_form = forms.classification_form(regulations=entries, formdata=None, data=current)
    if classification_form is not None:
        classification_form.version.data = str(view["version"])
    page = render_template(
        "console/claim.html",
        claim=view,
        files=files,
        officer_names=dict(officers),
        action_forms=shown,
        transitions=TRANSITIONS_BY_TRIGGER,
        note_form=note_form,
        classification_form=classification_form,
        catalogue_query=catalogue_query,
        catalogue_matches=len(entries),
        clocks=CLOCKS,
        timeline_labels=TIMELINE_LABELS,
        problem=problem,
        contact=contact,
        may_see_contact=_may(CONTACT_ROLES),
        may_assign=_may(ASSIGNERS),
        set_aside=_set_aside(view),
        form=next((f for f in (*shown.values(), note_form, classification_form) if f and f.errors), None),
    )
    return make_response(page, status)


def _set_aside(view: dict[str, Any]) -> str | None:
    """Why an appeal-panel member is not offered the appeal: they decided the claim before."""
    appeal_steps = {t for t, step in TRANSITIONS_BY_TRIGGER.items() if step.separation_of_duties}
    sources = {s for t in appeal_steps for s in TRANSITIONS_BY_TRIGGER[t].sources}
    may_decide = any(_may(tuple(r for r in TRANSITIONS_BY_TRIGGER[t].fired_by)) for t in appeal_steps)
    if view["state"] in sources and may_decide and not appeal_steps & set(view["allowed_triggers"]):
        return (
            "You made an earlier decision on this claim, so another member of the appeal panel must decide its appeal."
        )
    return None


@bp.get("/claims/<reference>")
@login_required
def claim_page(reference: str) -> ResponseReturnValue:
    return _claim_page(reference)


@bp.post("/claims/<reference>/actions/<trigger>")
@login_required
def act(reference: str, trigger: str) -> ResponseReturnValue:
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    if transition is None or not set(transition.fired_by) & set(ROLES):
        return render_error(404)  # the group's and the system's steps are not officers' to take
    with unit_of_work() as ctx:
        regulations, officers = _regulations(ctx), _officers(ctx)
    form = forms.action_form(transition, regulations=regulations, officers=officers)
    if not form.validate():
        return _claim_page(reference, 400, action_forms={trigger: form})
    version = queue.as_id(form.version.data)
    if version is None:  # every form carries the version it was drawn from
        return _claim_page(reference, 409, action_forms={trigger: form}, problem=STALE)
    try:
        with unit_of_work() as ctx:
            fire(
                ctx,
                reference,
                trigger,
                current_user.actor,
                forms.action_input(transition, form),
                expected_version=version,
            )
    except ValidationFailed as failed:
        show_errors(form, failed.errors)
        return _claim_page(reference, 400, action_forms={trigger: form})
    except StaleClaim:
        return _claim_page(reference, 409, action_forms={trigger: form}, problem=STALE)
    except (Conflict, Forbidden) as refused:
        return _claim_page(reference, 409 if isinstance(refused, Conflict) else 403, problem=refused.message)
    flash(f"Done: {transition.label.lower()}.", "success")
    return redirect(url_for("console.claim_page", reference=reference), code=303)


@bp.post("/claims/<reference>/classification")
@login_required
def classification(reference: str) -> ResponseReturnValue:
    """Change the claim's barrier category or catalogue entry (a new entry may be added here)."""
    with unit_of_work() as ctx:
        regulations = _regulations(ctx)
    form = forms.classification_form(regulations=regulations)
    if not form.validate():
        return _claim_page(reference, 400, classification_form=form)
    version = queue.as_id(form.version.data)
    if version is None:
        return _claim_page(reference, 400, problem="This page had expired. Reload it and try again.")
    given = forms.answers(forms.CLASSIFICATION, form)
    try:
        with unit_of_work() as ctx:
            claim = classify(
                ctx,
                reference,
                current_user.actor,
                category=given.get("category"),
                regulation=given.get("regulation"),
                expected_version=version,
            )
            changed = claim.version != version
    except ValidationFailed as failed:
        show_errors(form, failed.errors)
        return _claim_page(reference, 400, classification_form=form)
    except StaleClaim:
        return _claim_page(reference, 409, classification_form=form, problem=STALE)
    except Conflict as refused:
        return _claim_page(reference, 409, problem=refused.message)
    if changed:
        flash("The classification was changed.", "success")
    else:
        flash("Nothing was changed: the claim already had that classification.", "info")
    return redirect(url_for("console.claim_page", reference=reference), code=303)


STALE = (
    "Someone else changed this claim while you were looking at it, so nothing was done. "
    "The page now shows the claim as it is. Check it, then act again if you still need to."
)


@bp.post("/claims/<reference>/notes")
@login_required
def note(reference: str) -> ResponseReturnValue:
    form = forms.NoteForm()
    if not form.validate():
        return _claim_page(reference, 400, note_form=form)
    try:
        with unit_of_work() as ctx:
            add_note(ctx, reference, current_user.actor, form.note.data or "")
    except ValidationFailed as failed:
        show_errors(form, failed.errors)
        return _claim_page(reference, 400, note_form=form)
    flash("Note added.", "success")
    return redirect(url_for("console.claim_page", reference=reference, _anchor="timeline"), code=303)


@bp.get("/claims/<reference>/evidence/<int(max=2147483647):attachment_id>")
@login_required
def evidence(reference: str, attachment_id: int) -> ResponseReturnValue:
    """A file of evidence, as an attachment that browsers never display inline."""
    ctx = service_context()
    try:
        attachment, path = open_evidence(ctx, reference, attachment_id, current_user.actor)
    except StorageUnavailable as unavailable:
        return render_error(503, unavailable.message)
    finally:
        ctx.rollback()
    return evidence_download(path, attachment.content_type, attachment.filename)


@bp.post("/claims/<reference>/contact")
@login_required
def contact(reference: str) -> ResponseReturnValue:
    """Show the group's contact details on the claim page (the view is audited)."""
    if not forms.CsrfForm().validate():  # any form of ours: only the CSRF token matters here
        return render_error(400, "This page had expired. Go back and try again.")
    with unit_of_work() as ctx:
        details = view_contact(ctx, reference, current_user.actor)
    return _claim_page(reference, contact=details)


@bp.post("/claims/<reference>/assignee")
@login_required
def assignee(reference: str) -> ResponseReturnValue:
    """Give the claim to an officer, or to nobody; refused if the page was stale."""
    form = forms.AssignForm()
    if not form.validate():
        return render_error(400, "This page had expired. Go back and try again.")
    chosen = queue.as_id(form.assignee.data)
    if form.assignee.data and chosen is None:
        return render_error(400, "Choose an officer from the list.")
    version = queue.as_id(form.version.data)
    if version is None:
        return _claim_page(reference, 409, problem=STALE)
    try:
        with unit_of_work() as ctx:
            assign(ctx, reference, chosen, current_user.actor, expected_version=version)
    except StaleClaim:
        return _claim_page(reference, 409, problem=STALE)
    except ValidationFailed as failed:
        problem = "; ".join(m for msgs in failed.errors.values() for m in msgs)
        return _claim_page(reference, 400, problem=problem)
    except Conflict as refused:
        return _claim_page(reference, 409, problem=refused.message)
    flash("The claim's assignee was changed.", "success")
    return redirect(url_for("console.claim_page", reference=reference), code=303)


@bp.post("/bulk")
@login_required
def bulk() -> ResponseReturnValue:
    """Assign the selected claims, or decline them as duplicates of one claim: all or none."""
    form = forms.CsrfForm()
    back = request.form.get("back") or ""
    if not _local(back):
        back = url_for("console.queue_page")
    if not form.validate():
        return render_error(400, "This page had expired. Go back to the queue and try again.")
    references = request.form.getlist("reference")
    # The version of each claim as the queue showed it: a claim changed since is not touched.
    versions = {r: queue.as_id(request.form.get(f"version-{r}")) for r in references}
    if any(v is None for v in versions.values()):
        flash("Nothing was changed. Reload the queue and select the claims again.")
        return redirect(back, code=303)
    try:
        with unit_of_work() as ctx:
            if request.form.get("action") == "assign":
                assignee = queue.as_id(request.form.get("assignee"))
                count = assign_many(ctx, references, assignee, current_user.actor, versions=versions)
                done = f"{_claims(count)} assigned."
            elif request.form.get("action") == "decline_duplicates":
                count = decline_as_duplicates(
                    ctx,
                    references,
                    (request.form.get("duplicate_of") or "").strip().upper(),
                    request.form.get("explanation") or "",
                    current_user.actor,
                    versions=versions,
                )
                done = f"{_claims(count)} declined as {'a duplicate' if count == 1 else 'duplicates'}."
            else:
                return render_error(400, "Choose what to do with the selected claims.")
    except ValidationFailed as failed:
        flash("Nothing was changed. " + " ".join(m for msgs in failed.errors.values() for m in msgs))
        return redirect(back, code=303)
    flash(done, "success")
    return redirect(back, code=303)


def _claims(count: int) -> str:
    return "1 claim" if count == 1 else f"{count} claims"


# --- the regulation catalogue -------------------------------------------------------------


@bp.get("/regulations")
@login_required
def catalogue() -> ResponseReturnValue:
    text = request.args.get("q", "").replace("\x00", "")[:200]
    ctx = service_context()
    try:
        entries = regulations.search(ctx, current_user.actor, text)
    finally:
        ctx.rollback()
    return render_template("console/regulations.html", entries=entries, q=text)


def _regulation_page(
    regulation_id: int, status: int = 200, *, form: FlaskForm | None = None, problem: str | None = None
) -> Response:
    ctx = service_context()
    try:
        found = regulations.entry(ctx, current_user.actor, regulation_id)
        form = form or forms.RegulationForm(obj=found, formdata=None)
        others = [e for e in regulations.search(ctx, current_user.actor, limit=1000) if e.id != regulation_id]
        title = found.title
    finally:
        ctx.rollback()
    page = render_template(
        "console/regulation.html",
        regulation_id=regulation_id,
        title=title,
        form=form,
        others=others,
        problem=problem,
        may_edit=_may(regulations.EDITORS),
    )
    return make_response(page, status)


@bp.route("/regulations/<int(max=2147483647):regulation_id>", methods=["GET", "POST"])
@login_required
def regulation(regulation_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return _regulation_page(regulation_id)
    form = forms.RegulationForm()
    if not form.validate():
        return _regulation_page(regulation_id, 400, form=form)
    try:
        with unit_of_work() as ctx:
            regulations.correct(ctx, current_user.actor, regulation_id, form.data)
    except ValidationFailed as failed:
        show_errors(form, failed.errors)
        return _regulation_page(regulation_id, 400, form=form)
    flash("The catalogue entry was saved.", "success")
    return redirect(url_for("console.regulation", regulation_id=regulation_id), code=303)


@bp.post("/regulations/<int(max=2147483647):regulation_id>/merge")
@login_required
def merge_regulation(regulation_id: int) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return render_error(400, "This page had expired. Go back and try again.")
    into = queue.as_id(request.form.get("into"))
    if into is None:
        return _regulation_page(regulation_id, 400, problem="Choose the entry this one duplicates.")
    try:
        with unit_of_work() as ctx:
            moved = regulations.merge(ctx, current_user.actor, regulation_id, into)
    except (ValidationFailed, Conflict) as refused:
        message = refused.message if isinstance(refused, Conflict) else "Choose a different entry to merge into."
        return _regulation_page(regulation_id, 409, problem=message)
    flash(f"Merged: {moved} claims now point to this entry.", "success")
    return redirect(url_for("console.regulation", regulation_id=into), code=303)


# --- administering officers ------------------------------------------------------------------


@bp.route("/admin", methods=["GET", "POST"])
@login_required
def officers() -> ResponseReturnValue:
    """Every officer account; add one (with a temporary password, shown once)."""
    problem = None
    if request.method == "POST":
        if not forms.CsrfForm().validate():
            return render_error(400, "This page had expired. Go back and try again.")
        try:
            with unit_of_work() as ctx:
                officer_id, password = admin.add_officer(
                    ctx,
                    current_user.actor,
                    email=request.form.get("email", ""),
                    name=request.form.get("name", ""),
                    roles=request.form.getlist("roles"),
                )
        except ValidationFailed as failed:
            problem = " ".join(m for msgs in failed.errors.values() for m in msgs)
        else:
            return render_template("console/temporary_password.html", officer_id=officer_id, password=password)
    ctx = service_context()
    try:
        listed = admin.accounts(ctx, current_user.actor)
    finally:
        ctx.rollback()
    page = render_template("console/officers.html", accounts=listed, roles=ROLES, problem=problem, typed=request.form)
    return make_response(page, 400 if problem else 200)


@bp.get("/admin/<int(max=2147483647):officer_id>")
@login_required
def officer_account(officer_id: int) -> ResponseReturnValue:
    ctx = service_context()
    try:
        found = admin.account(ctx, current_user.actor, officer_id)
        events = [(e.occurred_at, e.action, e.payload) for e in admin.history(ctx, current_user.actor, officer_id)]
    finally:
        ctx.rollback()
    return render_template("console/officer.html", account=found, events=events, roles=ROLES)


@bp.post("/admin/<int(max=2147483647):officer_id>/<change>")
@login_required
def change_officer(officer_id: int, change: str) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return render_error(400, "This page had expired. Go back and try again.")
    password = None
    try:
        with unit_of_work() as ctx:
            if change == "roles":
                admin.set_roles(ctx, current_user.actor, officer_id, request.form.getlist("roles"))
                done = "Roles saved."
            elif change in ("deactivate", "reactivate"):
                admin.set_active(ctx, current_user.actor, officer_id, change == "reactivate")
                done = (
                    "Account deactivated: its sessions and API tokens have ended."
                    if change == "deactivate"
                    else "Account reactivated."
                )
            elif change == "reset-password":
                password = admin.reset_password(ctx, current_user.actor, officer_id)
                done = "Password reset."
            elif change == "reset-two-step":
                password = admin.reset_two_step(ctx, current_user.actor, officer_id)
                done = "Two-step verification reset."
            elif change == "revoke-tokens":
                done = f"{admin.revoke_api_tokens(ctx, current_user.actor, officer_id)} API tokens revoked."
            else:
                return render_error(404)
    except (ValidationFailed, Conflict) as refused:
        flash(
            "Nothing was changed. "
            + (refused.message if isinstance(refused, Conflict) else "Choose at least one role.")
        )
        return redirect(url_for("console.officer_account", officer_id=officer_id), code=303)
    if password is not None:
        return render_template(
            "console/temporary_password.html",
            officer_id=officer_id,
            password=password,
            two_step_reset=change == "reset-two-step",
        )
    flash(done, "success")
    return redirect(url_for("console.officer_account", officer_id=officer_id), code=303)


# --- messages that could not be sent --------------------------------------------------------


@bp.get("/messages")
@login_required
def messages() -> ResponseReturnValue:
    """The outbox at a glance, and the messages the sender gave up on, each to try again."""
    ctx = service_context()
    try:
        officers_service.require_role(ctx, current_user.actor, ("admin",), "see the messages that could not be sent")
        counts, failed = sender.counts(ctx), sender.failed_messages(ctx)
        references = dict(
            ctx.session.execute(
                select(Claim.id, Claim.reference).where(Claim.id.in_({m.claim_id for m in failed if m.claim_id}))
            ).all()
        )
    finally:
        ctx.rollback()
    return render_template("console/messages.html", counts=counts, failed=failed, references=references)


@bp.post("/messages/<int(max=2147483647):message_id>/try-again")
@login_required
def try_message_again(message_id: int) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return render_error(400, "This page had expired. Go back and try again.")
    with unit_of_work() as ctx:
        admin_officer = officers_service.require_role(ctx, current_user.actor, ("admin",), "send messages again")
        queued = sender.try_again(ctx, message_id, admin_officer.id)
    if queued:
        flash("The message will be sent again at the sender's next round.", "success")
    else:
        flash("That message is no longer waiting to be tried again.", "info")
    return redirect(url_for("console.messages"), code=303)


# --- statistics releases ---------------------------------------------------------------------


def _period_end(choice: str, today: date) -> date:
    """The last day a release counts, from the choice on the publish form."""
    if choice == "month":
        return today.replace(day=1) - timedelta(days=1)
    if choice == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
    return today - timedelta(days=1)


def _statistics_page(
    form: forms.PublishForm, status: int = 200, refused: list[str] | None = None
) -> ResponseReturnValue:
    ctx = service_context()
    try:
        officers_service.require_role(ctx, current_user.actor, ("admin",), "publish statistics")
        register = stats.releases(ctx.session)
    finally:
        ctx.rollback()
    settings = stats.settings_from(current_app.config)
    return (
        render_template(
            "console/statistics.html",
            form=form,
            register=register,
            refused=refused or [],
            rules=settings.rules,
            epsilon=current_app.config["GUARANTEE_STATISTICS_EPSILON"],
            today=ctx.today(),
        ),
        status,
    )


@bp.get("/statistics")
@login_required
def statistics() -> ResponseReturnValue:
    """The register of statistics releases, and publishing the next one (admins)."""
    return _statistics_page(forms.PublishForm())


@bp.post("/statistics")
@login_required
def publish_statistics() -> ResponseReturnValue:
    form = forms.PublishForm()
    if not form.validate():
        return _statistics_page(form, 400)
    settings = stats.settings_from(current_app.config, private=form.method.data == stats.DIFFERENTIAL_PRIVACY)
    try:
        with unit_of_work() as ctx:
            admin_officer = officers_service.require_role(ctx, current_user.actor, ("admin",), "publish statistics")
            release = stats.publish(ctx, admin_officer.id, settings, _period_end(form.period.data, ctx.today()))
            number = release.number
    except stats.StatisticsRefused as refused:
        return _statistics_page(form, 409, refused.reasons)
    flash(f"Release {number} is published.", "success")
    return redirect(url_for("console.statistics"), code=303)


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> Response:
    return render_error(404, error.message)


@bp.errorhandler(Conflict)
def _conflict(error: Conflict) -> Response:
    return render_error(409, error.message)


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden) -> Response:
    return render_error(403, error.message)


def init_app(app: Any) -> None:
    sessions.init_app(app)
    app.register_blueprint(bp)
