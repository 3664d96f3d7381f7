"""The officers' console: sign in and out, the work queue, and a claim page that offers only
the actions this officer may take now, each asking for exactly what the workflow needs."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from guarantee.console import forms, sessions
from guarantee.context import service_context, unit_of_work
from guarantee.extensions import limiter
from guarantee.models import Officer, Regulation
from guarantee.pages import render_error
from guarantee.public.forms import show_errors
from guarantee.services import admin, queue, reading, regulations
from guarantee.services.casework import (
    CONTACT_ROLES,
    add_note,
    assign,
    assign_many,
    decline_as_duplicates,
    view_contact,
)
from guarantee.services.claims import fire
from guarantee.services.errors import Conflict, Forbidden, NotFound, StaleClaim, ValidationFailed
from guarantee.services.evidence import list_evidence, open_evidence
from guarantee.services.officers import authenticate, change_password, end_sessions
from guarantee.services.storage import StorageUnavailable
from workflows import CLOCKS, STATE_LABELS, STATES, TIMELINE_LABELS, TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, ROLES, SECTORS

bp = Blueprint("console", __name__, url_prefix="/officer", template_folder="templates")

SIGN_IN_FAILED = "Enter a correct email address and password"


def _local(target: str) -> bool:
    """A console address on this host, safe to redirect to."""
    return (
        target.startswith("/officer")
        and not any(c in target for c in "\\\r\n\t\x00")
        and not urlsplit(target).netloc
        and not urlsplit(target).scheme
    )


def _client_and_email() -> str:
    """Sign-in attempts are counted per address *and* email, so that nobody can lock a real
    officer out by failing to sign in as them from somewhere else."""
    return f"{request.remote_addr}|{(request.form.get('email') or '').strip().lower()}"


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
    return None


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# --- signing in and out ------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", key_func=_client_and_email, methods=["POST"])
@limiter.limit("50 per hour", methods=["POST"])
def sign_in() -> ResponseReturnValue:
    form = forms.SignInForm()
    if request.method == "GET" or not form.validate():
        return render_template("console/sign_in.html", form=form), 200 if request.method == "GET" else 400
    with unit_of_work() as ctx:
        officer = authenticate(ctx, form.email.data or "", form.password.data or "")
        signed_in = sessions.signed_in(officer) if officer else None
    if signed_in is None:
        form.password.data = ""
        show_errors(form, {"email": [SIGN_IN_FAILED]})
        return render_template("console/sign_in.html", form=form), 400
    sessions.start(signed_in)
    target = request.args.get("next") or ""
    return redirect(target if _local(target) else url_for("console.queue_page"), code=303)


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
    sessions.start(now_signed_in)  # this session goes on with the new nonce; the others have ended
    flash("Your password was changed. Any other sessions of yours have ended.", "success")
    return redirect(url_for("console.queue_page"), code=303)


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
    except ValidationFailed as failed:
        ctx.rollback()
        problem = "; ".join(m for msgs in failed.errors.values() for m in msgs)
        return render_error(400, problem)
    finally:
        ctx.rollback()
    return render_template(
        "console/queue.html",
        page=page,
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


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/queue.csv")
@login_required
def queue_csv() -> ResponseReturnValue:
    """The filtered queue as CSV: officers' fields only, never the group's contact details."""
    ctx = service_context()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    try:
        filters = queue.parse_filters(request.args, request.args.getlist("state"))
        cursor = None
        while True:
            page = queue.work_queue(ctx, current_user.actor, filters, cursor=cursor, limit=500, with_counts=False)
            for row in page.rows:
                values = {**row, "assignee": page.assignees.get(row["assignee_id"], "")}
                writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    except ValidationFailed as failed:
        return render_error(400, "; ".join(m for msgs in failed.errors.values() for m in msgs))
    finally:
        ctx.rollback()
    response = make_response(out.getvalue())
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
    return [(o.id, o.name) for o in ctx.session.scalars(select(Officer).where(Officer.active).order_by(Officer.name))]


def _regulations(ctx: Any) -> list[tuple[int, str]]:
    query = select(Regulation).where(Regulation.merged_into_id.is_(None)).order_by(Regulation.title).limit(1000)
    return [(r.id, r.title) for r in ctx.session.scalars(query)]


# --- a claim ------------------------------------------------------------------------------


def _claim_page(
    reference: str,
    status: int = 200,
    *,
    action_forms: dict[str, FlaskForm] | None = None,
    note_form: FlaskForm | None = None,
    problem: str | None = None,
    contact: dict[str, str | None] | None = None,
) -> Response:
    ctx = service_context()
    try:
        _, view = reading.read_claim(ctx, reference, current_user.actor)
        regulations, officers = _regulations(ctx), _officers(ctx)
        files = [
            {"id": f.id, "filename": f.filename, "size": f.size, "uploaded_by": f.uploaded_by}
            for f in list_evidence(ctx, reference, current_user.actor)
        ]
    finally:
        ctx.rollback()
    shown: dict[str, FlaskForm] = {}
    for trigger in view["allowed_triggers"]:
        form = (action_forms or {}).get(trigger) or forms.action_form(
            TRANSITIONS_BY_TRIGGER[trigger], regulations=regulations, officers=officers, formdata=None
        )
        form.version.data = str(view["version"])  # what this officer saw; a stale page is refused
        shown[trigger] = form
    note_form = note_form or forms.NoteForm(formdata=None)
    page = render_template(
        "console/claim.html",
        claim=view,
        files=files,
        officer_names=dict(officers),
        action_forms=shown,
        transitions=TRANSITIONS_BY_TRIGGER,
        note_form=note_form,
        clocks=CLOCKS,
        timeline_labels=TIMELINE_LABELS,
        problem=problem,
        contact=contact,
        may_see_contact=bool(current_user.roles & set(CONTACT_ROLES)),
        form=next((f for f in (*shown.values(), note_form) if f.errors), None),
    )
    return make_response(page, status)


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
    response = send_file(
        path, mimetype=attachment.content_type, as_attachment=True, download_name=attachment.filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


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
    try:
        with unit_of_work() as ctx:
            if request.form.get("action") == "assign":
                count = assign_many(ctx, references, queue.as_id(request.form.get("assignee")), current_user.actor)
                done = f"{count} claims assigned."
            elif request.form.get("action") == "decline_duplicates":
                count = decline_as_duplicates(
                    ctx,
                    references,
                    (request.form.get("duplicate_of") or "").strip().upper(),
                    request.form.get("explanation") or "",
                    current_user.actor,
                )
                done = f"{count} claims declined as duplicates."
            else:
                return render_error(400, "Choose what to do with the selected claims.")
    except ValidationFailed as failed:
        flash("Nothing was changed. " + " ".join(m for msgs in failed.errors.values() for m in msgs))
        return redirect(back, code=303)
    flash(done, "success")
    return redirect(back, code=303)


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
        "console/regulation.html", regulation_id=regulation_id, title=title, form=form, others=others, problem=problem
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
        return render_template("console/temporary_password.html", officer_id=officer_id, password=password)
    flash(done, "success")
    return redirect(url_for("console.officer_account", officer_id=officer_id), code=303)


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
