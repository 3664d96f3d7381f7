"""The work queue: the built-in views and the officer's saved filters as sub navigation, the
filters in MOJ's filter layout, a page of claims sorted and paged by keyset, the same as CSV; and
saving and deleting a filter. Bulk actions on the claims ticked in it: console.bulk."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from guarantee import csv_export
from guarantee.console import bp, expired, forms, may, summary
from guarantee.i18n import say, say_all
from guarantee.pages import render_error
from guarantee.services import queue, regulations, saved_filters, sender
from guarantee.services.casework import ASSIGNERS
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.services.officers import active_names
from guarantee.transactions import read_only, transactional, undo
from workflows import ACTIVE_STATES, STATE_LABELS, STATES, TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import label
from workflows.words import N_

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
DUE_WORDS = {"overdue": N_("Overdue"), "this_week": N_("Due this week")}
# Where the error summary sends the officer for each field a refusal names.
FIELD_IDS = {"name": "filter-name", "assignee": "bulk-assignee", "references": "claims"}


@bp.get("")
@login_required
@read_only
def queue_page(ctx: ServiceContext) -> ResponseReturnValue:
    return render_queue(ctx, request.args)


def render_queue(
    ctx: ServiceContext,
    args: MultiDict[str, str],
    *,
    errors: dict[str, list[str]] | None = None,
    ticked: tuple[str, ...] = (),
    typed_name: str = "",
) -> Response:
    """The queue under the filters in ``args`` (a query string); with ``errors``, the same page
    answering a form of it that was refused (400), the claims ticked and the name typed kept."""
    try:
        filters = queue.parse_filters(args, args.getlist("state"))
        page = queue.work_queue(ctx, current_user.actor, filters, cursor=args.get("cursor"))
    except ValidationFailed as failed:
        return render_error(400, summary(failed))
    actor = current_user.actor
    officers = active_names(ctx)
    entries = regulations.titles(ctx, actor)
    mine = saved_filters.list(ctx, actor)
    current = next((s for s in mine if _filters_of(s.args) == filters), None)
    kept = _kept(args)
    names = {**page.assignees, **dict(officers)}  # a deactivated officer's name, from their claims
    html = render_template(
        "console/queue.html",
        page=page,
        filters=filters,
        views=_views(ctx, filters, mine, current),
        current_saved=current,
        saveable=filters != queue.QueueFilters(),
        selected=_selected(filters, kept, names, dict(entries)),
        names=names,
        kept=kept,
        total=_total(page.counts, filters.states),
        capped=_capped(page.counts, filters.states),
        officers=officers,
        catalogue_entries=entries,
        states=STATES,
        count_cap=queue.COUNT_CAP,
        sort_urls={sort: _url(kept, sort=sort) for sort in queue.SORTS},
        next_url=_url(kept, cursor=page.next_cursor) if page.next_cursor else None,
        first_url=_url(kept) if args.get("cursor") else None,
        csv_url=url_for("console.queue_csv") + _query(kept),
        back=url_for("console.queue_page") + _query([*kept, *(("cursor", c) for c in args.getlist("cursor")[:1])]),
        may_assign=may(ASSIGNERS),
        may_decline=may(DECLINERS),
        failed_messages=sender.counts(ctx).get("failed", 0) if may(("admin",)) else 0,
        errors=say_all(errors or {}),
        error_list=[
            {"text": say(message), "href": f"#{FIELD_IDS.get(field, 'main-content')}"}
            for field, messages in (errors or {}).items()
            for message in messages
        ],
        ticked=set(ticked),
        typed_name=typed_name,
    )
    return make_response(html, 400 if errors else 200)


def _filters_of(args: dict[str, Any]) -> queue.QueueFilters | None:
    """The queue's filters a saved filter holds (None if they no longer parse)."""
    states = args.get("state") or []
    try:
        return queue.parse_filters({k: v for k, v in args.items() if k != "state"}, list(states))
    except ValidationFailed:
        return None


def _kept(args: MultiDict[str, str]) -> list[tuple[str, str]]:
    """This page's filters, as (key, value) pairs of its query string (not its page)."""
    return [(key, value) for key in FILTERS for value in args.getlist(key) if value]


def _query(pairs: list[tuple[str, str]]) -> str:
    return "?" + urlencode(pairs) if pairs else ""


def _url(kept: list[tuple[str, str]], **changed: str | None) -> str:
    """The queue's address with these filters, some changed (None: left out)."""
    pairs = [(k, v) for k, v in kept if k not in changed]
    pairs += [(k, v) for k, v in changed.items() if v is not None]
    return url_for("console.queue_page") + _query(pairs)


def _count_words(count: int) -> str:
    """A count as the queue shows it: "23", or "more than 1,000" past the cap."""
    if count > queue.COUNT_CAP:
        return str(_("more than %(num)s", num=f"{queue.COUNT_CAP:,}"))
    return f"{count:,}"


def _capped(counts: dict[str, int], states: tuple[str, ...]) -> bool:
    return any(counts[s] > queue.COUNT_CAP for s in states)


def _total(counts: dict[str, int], states: tuple[str, ...]) -> int:
    """How many claims the filters find, from the counts per state (past the cap when ``_capped``)."""
    if _capped(counts, states):
        return queue.COUNT_CAP + 1
    return sum(counts[s] for s in states)


def _views(
    ctx: ServiceContext, filters: queue.QueueFilters, mine: list[saved_filters.NamedFilter], current: Any
) -> list[dict[str, Any]]:
    """The sub navigation: every open claim, the built-in views with their counts, then the
    officer's own saved filters; the one shown now marked."""
    counts = queue.view_counts(ctx, current_user.actor)
    shown = queue.current_view(filters)
    everything = filters == queue.QueueFilters(sort=filters.sort)
    items: list[dict[str, Any]] = [
        {"text": _("All open claims"), "href": url_for("console.queue_page"), "active": everything}
    ]
    for view in queue.VIEWS:
        items.append(
            {
                "text": say(view.label),
                "count": _count_words(counts[view.key]),
                "href": url_for("console.queue_page") + "?" + view.query,
                "active": view.key == shown,
            }
        )
    for saved in mine:
        items.append(
            {
                "text": saved.name,
                "href": url_for("console.queue_page") + (f"?{saved.query}" if saved.query else ""),
                "active": saved is current,
                "classes": "app-saved-filter",
            }
        )
    return items


def _selected(
    filters: queue.QueueFilters, kept: list[tuple[str, str]], officers: dict[int, str], entries: dict[int, str]
) -> list[dict[str, Any]]:
    """The filters in use, for MOJ's "Selected filters": each a link to the queue without it."""

    def without(key: str, value: str) -> str:
        rest = [(k, v) for k, v in kept if (k, v) != (key, value)]
        return url_for("console.queue_page") + _query(rest)

    assignee = filters.assignee
    words = {
        "assignee": {"me": _("Me"), "none": _("Nobody")}.get(assignee or "")
        or officers.get(int(assignee) if assignee and assignee.isdigit() else 0, _("A deactivated officer")),
        "due": say(DUE_WORDS.get(filters.due or "")),
        "sector": say(label(filters.sector)),
        "region": say(label(filters.region)),
        "category": say(label(filters.category)),
        "regulation": entries.get(filters.regulation or 0, _("A merged catalogue entry")),
    }
    headings = {
        "assignee": _("Assigned to"),
        "due": _("Due"),
        "sector": _("Sector"),
        "region": _("Region"),
        "category": _("Category"),
        "regulation": _("Regulation"),
    }
    categories = []
    if filters.states != ACTIVE_STATES:
        items = [{"text": say(STATE_LABELS[s]), "href": without("state", s)} for s in filters.states]
        categories.append({"heading": {"text": _("Status")}, "items": items})
    for key, heading in headings.items():
        value = next((v for k, v in kept if k == key), None)
        if value:
            categories.append(
                {"heading": {"text": heading}, "items": [{"text": words[key], "href": without(key, value)}]}
            )
    return categories


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
        return render_error(400, summary(failed))
    response = make_response(csv_export.write(rows))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = "attachment; filename=queue.csv"
    return response


@bp.post("/filters")
@login_required
@transactional
def save_filter(ctx: ServiceContext) -> ResponseReturnValue:
    """Save the filters in use under a name of the officer's own: a view of the queue."""
    if not forms.CsrfForm().validate():
        return expired(_("Go back to the queue and try again."))
    args = MultiDict([(key, value) for key in FILTERS for value in request.form.getlist(key)])
    try:
        saved = saved_filters.save(ctx, current_user.actor, request.form.get("name", ""), args)
    except ValidationFailed as failed:
        undo()
        return render_queue(ctx, args, errors=failed.errors, typed_name=request.form.get("name", ""))
    flash(_("Filter saved as “%(name)s”: it is with your views, above the queue.", name=saved.name), "success")
    return redirect(url_for("console.queue_page") + f"?{saved.query}", code=303)


@bp.post("/filters/<int(max=2147483647):filter_id>/delete")
@login_required
@transactional
def delete_filter(ctx: ServiceContext, filter_id: int) -> ResponseReturnValue:
    if not forms.CsrfForm().validate():
        return expired(_("Go back to the queue and try again."))
    names = {s.id: s.name for s in saved_filters.list(ctx, current_user.actor)}
    saved_filters.delete(ctx, current_user.actor, filter_id)  # another's, or gone: NotFound, a 404 page
    flash(
        _("Your saved filter “%(name)s” is deleted. The claims it showed are unchanged.", name=names[filter_id]),
        "success",
    )
    return redirect(url_for("console.queue_page"), code=303)
