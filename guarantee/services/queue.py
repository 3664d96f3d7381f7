"""The officers' work queue: claims by due date (or by filing), filtered, a page at a time.

Keyset pagination on (due date, id), never OFFSET, so page 400 costs what page 1 costs; a
page is one query for the claims, one for the officers' names and one for the counts per state.
The claims of a page are the first of each chosen state in the page's order, merged: both orders
have an index within each state (migration e5c2b8d4a1f7), so each state's part reads a page of
its stretch of the index, on either database and whatever their statistics say. The counts stop
at COUNT_CAP a state ("more than 1,000"), so they cost the same at a million claims as at ten
thousand; under a region filter they read the (state, region, due_on) index alone (migration
d3a7f1c5e8b2). Each statement is built once for each shape of filters (which filters, not their
values) and kept; a page binds the values.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlencode

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, tuple_, union_all

from guarantee.models import Claim, Officer
from guarantee.services.actors import OfficerActor
from guarantee.services.calendar import working_days_between
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ValidationFailed
from guarantee.services.officers import require_role
from workflows import ACTIVE_STATES, STATES
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, ROLES, SECTORS, nation_of
from workflows.words import N_

NO_DUE_DATE = date(9999, 12, 31)  # claims without a running clock sort last
# The due-date order, written exactly as its index is (ix_claims_queue_state_due): claims without a due
# date sort last. A literal, not a parameter, so that both databases match it to the index.
DUE_ORDER = func.coalesce(Claim.due_on, literal_column("'9999-12-31'"))
# The counts per state stop here: an officer needs to know there are more than a thousand
# claims in a state, not how many more, and counting every one costs a scan of them all.
COUNT_CAP = 1000
SORTS = ("due", "submitted")
DUE = ("overdue", "this_week")


@dataclass(frozen=True)
class QueueFilters:
    states: tuple[str, ...] = ACTIVE_STATES
    sector: str | None = None
    region: str | None = None
    category: str | None = None
    assignee: str | None = None  # "me", "none", or an officer id
    regulation: int | None = None  # a catalogue entry's id
    due: str | None = None  # "overdue" or "this_week"
    sort: str = "due"


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    counts: dict[str, int]
    assignees: dict[int, str]


MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds
BROKEN_LINK = N_("This page link is broken. Go back to the first page of the queue.")
# What to say of a filter's value that is not one of its choices.
NOT_IN_THE_LIST = {
    "sector": N_("Choose a sector from the list"),
    "region": N_("Choose a region from the list"),
    "category": N_("Choose a category from the list"),
    "due": N_("Choose a due from the list"),
    "sort": N_("Choose a sort from the list"),
}


def is_id(value: str | None) -> bool:
    """ASCII digits that fit an id column ("²".isdigit() is True; int("²") fails)."""
    if not value or not value.isascii() or not value.isdigit():
        return False
    return int(value) <= MAX_ID


def parse_filters(args: Mapping[str, Any], states: list[str]) -> QueueFilters:
    """The filters from a query string, or ValidationFailed naming what is wrong."""
    errors: dict[str, list[str]] = {}

    def one(name: str, allowed: tuple[str, ...]) -> str | None:
        value = args.get(name) or None
        if value is not None and value not in allowed:
            errors[name] = [NOT_IN_THE_LIST[name]]
            return None
        return value

    chosen = tuple(s for s in states if s)
    if any(s not in STATES for s in chosen):
        errors["state"] = [N_("Choose states from the list")]
    assignee = args.get("assignee") or None
    if assignee is not None and assignee not in ("me", "none") and not is_id(assignee):
        errors["assignee"] = [N_("Choose an assignee from the list")]
    regulation = args.get("regulation") or None
    if regulation is not None and not is_id(regulation):
        errors["regulation"] = [N_("Choose a regulation from the catalogue")]
    filters = QueueFilters(
        states=chosen or ACTIVE_STATES,
        regulation=as_id(regulation),
        sector=one("sector", SECTORS),
        region=one("region", REGIONS),
        category=one("category", BARRIER_CATEGORIES),
        assignee=assignee,
        due=one("due", DUE),
        sort=one("sort", SORTS) or "due",
    )
    if errors:
        raise ValidationFailed(errors)
    return filters


# What a row of the queue shows (columns, not whole claims: a page is read, never changed).
ROW_COLUMNS: tuple[Any, ...] = (
    Claim.id,
    Claim.reference,
    Claim.version,
    Claim.state,
    Claim.group_name,
    Claim.initiative_title,
    Claim.category,
    Claim.barrier_category,
    Claim.region,
    Claim.assignee_id,
    Claim.due_clock,
    Claim.due_on,
    Claim.submitted_at,
)


def _key(claim: Any, sort: str) -> list[Any]:
    if sort == "submitted":
        return [claim.submitted_at.isoformat(), claim.id]
    return [(claim.due_on or NO_DUE_DATE).isoformat(), claim.id]


def _encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    """The (sort key, id) a page link carries, or ValidationFailed if it was tampered with."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    well_formed = (
        isinstance(key, list)
        and len(key) == 2
        and isinstance(key[0], str)
        and type(key[1]) is int
        and 0 <= key[1] <= MAX_ID
    )
    if not well_formed:
        raise ValidationFailed({"cursor": [BROKEN_LINK]})
    decoded: list[Any] = key
    return decoded


class Shape(NamedTuple):
    """Which filters a queue statement narrows by, not their values: statements are built once
    for each shape and kept (building one, with its subqueries' column proxies, cost as much as
    running it), and the values are bound when it runs (``_values``)."""

    states: tuple[str, ...]
    sector: bool
    region: bool
    category: bool
    regulation: bool
    assignee: str | None  # "me", "none", "id" (one officer's), or None
    due: str | None
    sort: str


def shape_of(filters: QueueFilters) -> Shape:
    assignee = filters.assignee if filters.assignee in (None, "me", "none") else "id"
    return Shape(
        filters.states,
        filters.sector is not None,
        filters.region is not None,
        filters.category is not None,
        filters.regulation is not None,
        assignee,
        filters.due,
        filters.sort,
    )


def _filtered(query: Any, shape: Shape) -> Any:
    """``query`` (a select of claims, or of counts) narrowed by every filter of ``shape`` but the
    states, each value a bound parameter that ``_values`` gives."""
    if shape.sector:
        query = query.where(Claim.sector == bindparam("sector"))
    if shape.region:
        query = query.where(Claim.region == bindparam("region"))
    if shape.category:
        query = query.where(
            or_(
                Claim.category == bindparam("category"),
                and_(Claim.category.is_(None), Claim.barrier_category == bindparam("category")),
            )
        )
    if shape.regulation:
        query = query.where(Claim.regulation_id == bindparam("regulation"))
    if shape.assignee == "me":
        query = query.where(Claim.assignee_id == bindparam("me"))
    elif shape.assignee == "none":
        query = query.where(Claim.assignee_id.is_(None))
    elif shape.assignee == "id":
        query = query.where(Claim.assignee_id == bindparam("assignee"))
    if shape.due == "overdue":
        query = query.where(Claim.due_on < bindparam("today"))
    elif shape.due == "this_week":
        query = query.where(Claim.due_on >= bindparam("today"), Claim.due_on <= bindparam("week_end"))
    return query


def _values(filters: QueueFilters, me: int, today: date) -> dict[str, Any]:
    """The values of the filters, for the parameters ``_filtered`` binds."""
    return {
        "sector": filters.sector,
        "region": filters.region,
        "category": filters.category,
        "regulation": filters.regulation,
        "me": me,
        "assignee": as_id(filters.assignee),
        "today": today,
        "week_end": today + timedelta(days=6 - today.weekday()),
        "cap": COUNT_CAP + 1,
    }


@lru_cache(maxsize=256)
def _counts_statement(shape: Shape) -> Any:
    """Claims in each state under the filters but the states, up to COUNT_CAP + 1: one statement,
    each state's part reading that state's entries of the (state, due_on) index until it has
    found that many (the order steers the planners to it)."""
    parts = [
        _filtered(select(Claim.state).where(Claim.state == state), shape)
        .order_by(Claim.due_on)
        .limit(bindparam("cap"))
        .subquery()
        for state in STATES
    ]
    capped = union_all(*(select(part.c.state) for part in parts)).subquery()
    return select(capped.c.state, func.count()).group_by(capped.c.state)


def _counts(ctx: ServiceContext, filters: QueueFilters, me: int) -> dict[str, int]:
    """Claims in each state under the filters but the states, up to COUNT_CAP + 1 (shown as "more
    than COUNT_CAP")."""
    shape = shape_of(replace(filters, states=(), sort="due"))
    rows = ctx.session.execute(_counts_statement(shape), _values(filters, me, ctx.today()))
    return dict.fromkeys(STATES, 0) | {state: int(n) for state, n in rows}


@lru_cache(maxsize=256)
def _page_statement(shape: Shape, after: bool, limit: int) -> Any:
    """A page of claims: the first ``limit`` + 1 of each chosen state in the page's order (after
    the bound ``after_key`` and ``after_id`` where ``after``), each from its stretch of the index,
    merged."""
    order = (Claim.submitted_at, Claim.id) if shape.sort == "submitted" else (DUE_ORDER, Claim.id)
    after_key = bindparam("after_key", type_=order[0].type)
    parts = []
    for state in shape.states:
        part = _filtered(select(*ROW_COLUMNS, order[0].label("sort_key")), shape).where(Claim.state == state)
        if after:  # the first term lets either database start reading at the key
            part = part.where(order[0] >= after_key, tuple_(*order) > tuple_(after_key, bindparam("after_id")))
        parts.append(part.order_by(*order).limit(limit + 1).subquery())
    merged = union_all(*(select(part) for part in parts)).subquery()
    page = select(*(merged.c[column.key] for column in ROW_COLUMNS))
    return page.order_by(merged.c.sort_key, merged.c.id).limit(limit + 1)


def _after(cursor: str, sort: str) -> tuple[date, int]:
    """The (sort key, id) of the last claim of the page before, from its link."""
    first, last_id = _decode(cursor)
    try:
        after: date = datetime.fromisoformat(first) if sort == "submitted" else date.fromisoformat(first)
    except ValueError:
        raise ValidationFailed({"cursor": [BROKEN_LINK]}) from None
    if isinstance(after, datetime) and after.tzinfo is None:
        raise ValidationFailed({"cursor": [BROKEN_LINK]})
    return after, last_id


def row(c: Any, today: date) -> dict[str, Any]:
    """What the queue shows of a claim (a row of ROW_COLUMNS)."""
    return {
        "reference": c.reference,
        "version": c.version,
        "state": c.state,
        "group_name": c.group_name,
        "initiative_title": c.initiative_title,
        "category": c.category or c.barrier_category,
        "region": c.region,
        "assignee_id": c.assignee_id,
        "due_clock": c.due_clock,
        "due_on": c.due_on,
        "working_days_overdue": working_days_between(c.due_on, today, nation_of(c.region))
        if c.due_on and today > c.due_on
        else 0,
        "submitted_at": c.submitted_at,
    }


def work_queue(
    ctx: ServiceContext,
    actor: OfficerActor,
    filters: QueueFilters,
    *,
    cursor: str | None = None,
    limit: int = 50,
    with_counts: bool = True,
) -> QueuePage:
    """A page of the queue for an officer, with the counts per state under the other filters."""
    require_role(ctx, actor, ROLES, N_("see the queue"))
    after = _after(cursor, filters.sort) if cursor else None
    values = _values(filters, actor.officer_id, ctx.today())
    if after is not None:
        values |= {"after_key": after[0], "after_id": after[1]}
    claims = list(ctx.session.execute(_page_statement(shape_of(filters), after is not None, limit), values))
    more = len(claims) > limit
    claims = claims[:limit]
    counts = _counts(ctx, filters, actor.officer_id) if with_counts else dict.fromkeys(STATES, 0)
    ids = {c.assignee_id for c in claims if c.assignee_id}
    named = select(Officer.id, Officer.name).where(Officer.id.in_(ids))
    assignees: dict[int, str] = {officer_id: name for officer_id, name in ctx.session.execute(named)} if ids else {}
    today = ctx.today()
    rows = [row(c, today) for c in claims]
    next_cursor = _encode(_key(claims[-1], filters.sort)) if more and claims else None
    return QueuePage(rows=rows, next_cursor=next_cursor, counts=counts, assignees=assignees)


# --- the built-in views ----------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """A built-in view of the queue: a name and a set of the queue's own filters."""

    key: str
    label: str
    args: Mapping[str, str]  # query-string filters other than the states
    states: tuple[str, ...] = ()  # the states shown; () the active states, as the queue's default

    @property
    def filters(self) -> QueueFilters:
        return parse_filters(self.args, list(self.states))

    @property
    def query(self) -> str:
        """The view's query string, for a link to the queue: "assignee=me", "state=appealed"."""
        return urlencode([*(("state", s) for s in self.states), *self.args.items()])


VIEWS: tuple[View, ...] = (
    View("mine", N_("My claims"), {"assignee": "me"}),
    View("unassigned", N_("Unassigned"), {"assignee": "none"}),
    View("due_this_week", N_("Due this week"), {"due": "this_week"}),
    View("overdue", N_("Overdue"), {"due": "overdue"}),
    View("appeals", N_("Appeals waiting"), {}, ("appealed",)),
)
VIEWS_BY_KEY: dict[str, View] = {view.key: view for view in VIEWS}


def current_view(filters: QueueFilters) -> str | None:
    """The key of the built-in view these filters are (sorted either way), if any: the sub
    navigation marks it as the current page."""
    for view in VIEWS:
        if view.filters == replace(filters, sort="due"):
            return view.key
    return None


def view_counts(ctx: ServiceContext, actor: OfficerActor) -> dict[str, int]:
    """How many claims each built-in view holds for this officer, by view key, in one statement.
    Like the queue's counts per state, each stops at COUNT_CAP + 1, to be shown as "more than
    COUNT_CAP": each view's part stops reading once it has found that many."""
    require_role(ctx, actor, ROLES, N_("see the queue"))
    rows = ctx.session.execute(_view_counts_statement(), _values(QueueFilters(), actor.officer_id, ctx.today()))
    counts = dict.fromkeys(VIEWS_BY_KEY, 0)
    for number, count in rows:
        counts[VIEWS[int(number)].key] = int(count)
    return counts


@lru_cache(maxsize=1)
def _view_counts_statement() -> Any:
    """Each built-in view's claims up to COUNT_CAP + 1, by view number: one statement, built once."""
    parts = []
    for number, view in enumerate(VIEWS):
        filters = view.filters
        if _values(filters, 0, date.min) != _values(QueueFilters(), 0, date.min):  # bound once for every view
            raise ValueError(f"the view {view.key} filters by a value: count it on its own")
        query: Any = select(literal_column(str(number)).label("view")).where(Claim.state.in_(filters.states))
        parts.append(_filtered(query, shape_of(filters)).limit(bindparam("cap")).subquery())
    capped = union_all(*(select(part.c.view) for part in parts)).subquery()
    return select(capped.c.view, func.count()).group_by(capped.c.view)


def as_id(value: str | None) -> int | None:
    """An id typed or posted as text, or None if it is not one."""
    return int(value) if value is not None and is_id(value) else None


# The most claims a page about ticked claims shows (casework.MAX_BULK are acted on at a time).
MAX_CHOSEN = 500


def claims_by_reference(ctx: ServiceContext, actor: OfficerActor, references: list[str]) -> list[dict[str, Any]]:
    """The queue's rows of these claims, in the order given (each once; a reference of no claim is
    left out): the claims an officer ticked, listed again on the page that asks what to do with
    them. One query."""
    require_role(ctx, actor, ROLES, N_("see the queue"))
    wanted = list(dict.fromkeys(r for r in references if isinstance(r, str) and r))[:MAX_CHOSEN]
    if not wanted:
        return []
    found = {c.reference: c for c in ctx.session.execute(select(*ROW_COLUMNS).where(Claim.reference.in_(wanted)))}
    today = ctx.today()
    return [row(found[r], today) for r in wanted if r in found]
