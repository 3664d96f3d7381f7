"""The work queue: filtered, sorted, paged by keyset; the same as CSV; and bulk actions on the
claims ticked in it."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from guarantee import csv_export
from guarantee.console import bp, expired, forms, local, may
from guarantee.pages import render_error
from guarantee.services import queue, regulations, sender
from guarantee.services.casework import ASSIGNERS, assign_many, decline_as_duplicates
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.services.officers import active_names
from guarantee.transactions import read_only, transactional, undo
from workflows import CLOCKS, STATE_LABELS, STATES, TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, SECTORS

# Who may decline claims, so decline several as duplicates: from the workflow.
DECLINERS = TRANSITIONS_BY_TRIGGER["decline"].fired_by
FILTERS = ("state", "assignee", "due", "sector", "region", "category", "regulation", "sort")
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


@bp.get("")
@login_required
@read_only
def queue_page(ctx: ServiceContext) -> ResponseReturnValue:
    try:
        filters = queue.parse_filters(request.args, request.args.getlist("state"))
        page = queue.work_queue(ctx, current_user.actor, filters, cursor=request.args.get("cursor"))
    except ValidationFailed as failed:
        return render_error(400, failed.summary)
    return render_template(
        "console/queue.html",
        page=page,
        count_cap=queue.COUNT_CAP,
        filters=filters,
        officers=active_names(ctx),
        catalogue_entries=regulations.titles(ctx, current_user.actor),
        states=STATES,
        state_labels=STATE_LABELS,
        sectors=SECTORS,
        regions=REGIONS,
        categories=BARRIER_CATEGORIES,
        clocks=CLOCKS,
        args=request.args,
        next_url=_next_page_url(page.next_cursor),
        may_assign=may(ASSIGNERS),
        may_decline=may(DECLINERS),
        failed_messages=sender.counts(ctx).get("failed", 0) if may(("admin",)) else 0,
        csv_url=_filtered_url("console.queue_csv"),
    )


@bp.get("/queue.csv")
@login_required
@read_only
def queue_csv(ctx: ServiceContext) -> ResponseReturnValue:
    """The filtered queue as CSV: officers' fields only, never the group's contact details."""
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
        return render_error(400, failed.summary)
    response = make_response(csv_export.write(rows))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = "attachment; filename=queue.csv"
    return response


def _filtered_url(endpoint: str, **more: Any) -> str:
    """An address with this page's filters (not its page)."""
    kept: dict[str, Any] = {k: request.args.getlist(k) for k in FILTERS if k in request.args}
    return url_for(endpoint, **kept, **more)


def _next_page_url(cursor: str | None) -> str | None:
    """This page's address, filters kept, one page on."""
    return _filtered_url("console.queue_page", cursor=cursor) if cursor else None


@bp.post("/bulk")
@login_required
@transactional
def bulk(ctx: ServiceContext) -> ResponseReturnValue:
    """Assign the selected claims, or decline them as duplicates of one claim: all or none."""
    back = request.form.get("back") or ""
    if not local(back):
        back = url_for("console.queue_page")
    if not forms.CsrfForm().validate():
        return expired("Go back to the queue and try again.")
    references = request.form.getlist("reference")
    # The version of each claim as the queue showed it: a claim changed since is not touched.
    versions = {r: queue.as_id(request.form.get(f"version-{r}")) for r in references}
    if any(v is None for v in versions.values()):
        flash("Nothing was changed. Reload the queue and select the claims again.")
        return redirect(back, code=303)
    try:
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
        undo()  # all or none: the claims done before the refusal are not changed either
        flash(f"Nothing was changed. {failed.summary}")
        return redirect(back, code=303)
    flash(done, "success")
    return redirect(back, code=303)


def _claims(count: int) -> str:
    return "1 claim" if count == 1 else f"{count} claims"
