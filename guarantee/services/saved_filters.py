"""Filters of the work queue that an officer saves under a name of their own, to come back to.

Only the queue's own filters are kept, each checked as the queue checks it (``queue.
parse_filters``) and written the one way the queue reads it, so that a saved filter opens the
same queue tomorrow as today ("assignee=me" stays "me": whoever opens it). Each officer sees and
deletes only their own.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from guarantee.models import SavedFilter
from guarantee.services import validation as v
from guarantee.services.actors import Actor
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.services.officers import require_role
from guarantee.services.queue import QueueFilters, parse_filters
from workflows import ACTIVE_STATES
from workflows.vocabulary import ROLES
from workflows.words import N_, AsWritten, words

# The queue's filters, in the order a saved filter's query string lists them.
FILTER_KEYS = ("state", "sector", "region", "category", "assignee", "regulation", "due", "sort")
MAX_NAME = 60
MAX_SAVED = 50  # a list longer than this is no longer a shortcut
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NamedFilter:
    """A saved filter, as its officer sees it."""

    id: int
    name: str
    args: dict[str, Any]  # the queue's filters: {"state": ["submitted"], "region": "wales", ...}
    query: str  # the same as a query string, for a link to the queue: "state=submitted&region=wales"


def _named(row: SavedFilter) -> NamedFilter:
    args = dict(row.args)
    ordered = [(key, args[key]) for key in FILTER_KEYS if key in args]
    return NamedFilter(row.id, row.name, args, urlencode(ordered, doseq=True))


def _first(value: Any) -> str | None:
    """One value of a query-string key, as text (a form's list gives its first)."""
    if isinstance(value, builtins.list | tuple):
        value = value[0] if value else None
    return None if value is None else str(value)


def _states(args: Mapping[str, Any]) -> builtins.list[str]:
    getlist = getattr(args, "getlist", None)  # a werkzeug MultiDict, such as request.args
    value = getlist("state") if callable(getlist) else args.get("state")
    if value is None:
        return []
    return [str(s) for s in value] if isinstance(value, builtins.list | tuple) else [str(value)]


def _canonical(filters: QueueFilters) -> dict[str, Any]:
    """The filters that differ from the queue's defaults, written as the queue reads them."""
    chosen: dict[str, Any] = {}
    if filters.states != ACTIVE_STATES:
        chosen["state"] = builtins.list(filters.states)
    for key in ("sector", "region", "category", "assignee", "due"):
        if getattr(filters, key) is not None:
            chosen[key] = getattr(filters, key)
    if filters.regulation is not None:
        chosen["regulation"] = str(filters.regulation)
    if filters.sort != "due":
        chosen["sort"] = filters.sort
    return chosen


def _clean_name(name: Any) -> str:
    cleaned = v.text(name, N_("a name for the filter"), max_length=10_000, multiline=False)
    assert cleaned is not None
    cleaned = _SPACES.sub(" ", cleaned)
    if len(cleaned) > MAX_NAME:
        raise v.Invalid(
            words("The name must be %(most)s characters or fewer (it has %(has)s)", most=MAX_NAME, has=len(cleaned))
        )
    return cleaned


def save(ctx: ServiceContext, actor: Actor, name: Any, args: Mapping[str, Any]) -> NamedFilter:
    """Save the queue's filters in ``args`` (``request.args``, or a dict with "state" as a list)
    under ``name`` (1-60 characters once spaces are tidied; unique for the officer, whatever the
    capitals). Keys other than the queue's filters are dropped; a wrong value of one of them is
    refused as the queue refuses it. Flushes only."""
    officer = require_role(ctx, actor, ROLES, N_("save filters of the queue"))
    errors = v.Errors()
    cleaned = errors.check("name", _clean_name, name)
    plain = {key: _first(args.get(key)) for key in FILTER_KEYS if key != "state"}
    try:
        chosen = _canonical(parse_filters(plain, _states(args)))
    except ValidationFailed as wrong:
        for field, messages in wrong.errors.items():
            for message in messages:
                errors.add(field, message)
        chosen = {}
    else:
        if not chosen:
            errors.add("filters", N_("Choose at least one filter before you save it: this is the whole queue"))
    key = cleaned.casefold() if cleaned else None
    mine = select(func.count()).where(SavedFilter.officer_id == officer.id)
    if key is not None and ctx.session.scalar(mine.where(SavedFilter.name_key == key)):
        errors.add(
            "name", words("You already have a filter called “%(name)s”: choose another name", name=AsWritten(cleaned))
        )
    elif (ctx.session.scalar(mine) or 0) >= MAX_SAVED:
        errors.add(
            "name", words("You have %(most)s saved filters, the most you can have: delete one first", most=MAX_SAVED)
        )
    errors.raise_if_any()
    assert cleaned is not None and key is not None
    row = SavedFilter(officer_id=officer.id, name=cleaned, name_key=key, args=chosen, created_at=ctx.now())
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
    except IntegrityError:  # the same name saved a moment ago, in another tab
        raise ValidationFailed(
            {
                "name": [
                    words("You already have a filter called “%(name)s”: choose another name", name=AsWritten(cleaned))
                ]
            }
        ) from None
    return _named(row)


def list(ctx: ServiceContext, actor: Actor) -> builtins.list[NamedFilter]:
    """The acting officer's saved filters, by name."""
    officer = require_role(ctx, actor, ROLES, N_("see your saved filters"))
    rows = ctx.session.scalars(
        select(SavedFilter).where(SavedFilter.officer_id == officer.id).order_by(SavedFilter.name_key, SavedFilter.id)
    )
    return [_named(row) for row in rows]


def delete(ctx: ServiceContext, actor: Actor, filter_id: int) -> None:
    """Delete one of the acting officer's saved filters; another's, or one already deleted, is
    NotFound. Flushes only."""
    officer = require_role(ctx, actor, ROLES, N_("delete saved filters"))
    row = ctx.session.get(SavedFilter, filter_id) if isinstance(filter_id, int) else None
    if row is None or row.officer_id != officer.id:
        raise NotFound(N_("There is no such saved filter: it may have been deleted already."))
    ctx.session.delete(row)
    ctx.session.flush()
