"""What each actor may read: a claim as its group sees it or as an officer sees it, the
officers' list of claims (keyset pagination), a claim's audit trail and the workflow."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select

from guarantee.models import AuditEvent, Claim, Regulation, TimelineEntry
from guarantee.services.actors import Actor, GroupActor, OfficerActor
from guarantee.services.claims import allowed_triggers, get_claim
from guarantee.services.clocks import clocks_of
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.services.officers import active_officer, require_role
from workflows import CLOCKS, STATE_LABELS, STATES, TERMINAL_STATES, TIMELINE_LABELS, TRANSITIONS
from workflows.vocabulary import ROLES
from workflows.words import N_, words

OFFICER_ROLES = ROLES
PUBLIC_ACTIONS = frozenset(TIMELINE_LABELS)  # what the group sees of its claim's audit chain


def _due(ctx: ServiceContext, claim: Claim, *, detailed: bool) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    clocks = clocks_of(ctx, claim)
    running = clocks.get(claim.due_clock) if claim.due_clock else None
    due = None
    if running is not None and claim.due_on is not None:
        due = {
            "clock": running.name,
            "label": CLOCKS[running.name].label,
            "due_on": claim.due_on,
            "overdue": ctx.today() > claim.due_on,
            "working": running.working["stretches"],
            "late_pauses": running.working.get("late_pauses", []),
        }
    listed = []
    if detailed:
        for clock in clocks.values():
            listed.append(
                {
                    "clock": clock.name,
                    "status": clock.status,
                    "working_days": clock.working_days,
                    "started_on": clock.started_on,
                    "due_on": clock.due_on,
                    "paused_on": clock.paused_on,
                    "days_left": clock.days_left,
                    "stopped_on": clock.stopped_on,
                    "working": clock.working["stretches"],
                    "late_pause": clock.working.get("late_pause"),
                    "late_pauses": clock.working.get("late_pauses", []),
                }
            )
    return due, listed


def _timeline(ctx: ServiceContext, claim: Claim, *, internal: bool) -> list[dict[str, Any]]:
    events = ctx.session.scalars(select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.seq))
    texts: dict[int, list[TimelineEntry]] = {}
    for entry in ctx.session.scalars(select(TimelineEntry).where(TimelineEntry.claim_id == claim.id)):
        if internal or entry.public:
            texts.setdefault(entry.seq, []).append(entry)
    timeline = []
    for event in events:
        if not internal and event.action not in PUBLIC_ACTIONS:
            continue
        item: dict[str, Any] = {
            "seq": event.seq,
            "occurred_at": event.occurred_at,
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "by": event.actor_type,
            "texts": [{"field": t.field, "text": t.body, "public": t.public} for t in texts.get(event.seq, [])],
        }
        if internal:
            item["actor_id"] = event.actor_id
        timeline.append(item)
    return timeline


def _common(claim: Claim) -> dict[str, Any]:
    return {
        "reference": claim.reference,
        "state": claim.state,
        "state_label": STATE_LABELS[claim.state],
        "version": claim.version,
        "submitted_at": claim.submitted_at,
        "updated_at": claim.updated_at,
        "group": {"name": claim.group_name, "language": claim.language},
        "initiative": {
            "title": claim.initiative_title,
            "description": claim.initiative_description,
            "sector": claim.sector,
            "region": claim.region,
            "people_involved": claim.people_involved,
        },
        "barrier": {
            "regulation": claim.barrier_regulation,
            "regulation_reference": claim.barrier_regulation_reference,
            "imposed_by": claim.barrier_imposed_by,
            "category": claim.barrier_category,
            "how_it_blocks": claim.barrier_how_it_blocks,
            "remedy_sought": claim.remedy_sought,
            "remedy_details": claim.remedy_details,
        },
        "remedy": claim.remedy,
        "outcome": claim.outcome,
    }


def read_claim(ctx: ServiceContext, reference: str, actor: Actor) -> tuple[Claim, dict[str, Any]]:
    """The claim as this actor may see it: the group's view, or an officer's full view."""
    claim = get_claim(ctx, reference)
    if isinstance(actor, GroupActor):
        if actor.claim_reference != claim.reference:
            raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=reference))
        due, _ = _due(ctx, claim, detailed=False)
        view = _common(claim) | {
            "due": due,
            "timeline": _timeline(ctx, claim, internal=False),
            "allowed_triggers": allowed_triggers(ctx, claim, actor),
        }
        return claim, view
    require_role(ctx, actor, OFFICER_ROLES, N_("read claims"))
    due, clocks = _due(ctx, claim, detailed=True)
    regulation = ctx.session.get(Regulation, claim.regulation_id) if claim.regulation_id else None
    duplicate_of = ctx.session.get(Claim, claim.duplicate_of_id) if claim.duplicate_of_id else None
    view = _common(claim) | {
        "due": due,
        "clocks": clocks,
        "category": claim.category,
        "regulation": {"id": regulation.id, "title": regulation.title} if regulation else None,
        "assignee_id": claim.assignee_id,
        "reason_code": claim.reason_code,
        "duplicate_of": duplicate_of.reference if duplicate_of else None,
        "consent_contact": claim.consent_contact,
        "consent_publish": claim.consent_publish,
        "decided_at": claim.decided_at,
        "resolved_at": claim.resolved_at,
        "timeline": _timeline(ctx, claim, internal=True),
        "allowed_triggers": allowed_triggers(ctx, claim, actor),
    }
    return claim, view


# --- the officers' list ---------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(claim_id: int) -> str:
    return base64.urlsafe_b64encode(f"claim:{claim_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "claim" or not number.isdigit() or not 1 <= int(number) <= 2**31 - 1:
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            {"cursor": [N_("This cursor is not valid; use next_cursor from the previous page")]}
        ) from exc


def list_claims(
    ctx: ServiceContext, actor: Actor, filters: Mapping[str, Any], *, limit: int = 25, cursor: str | None = None
) -> Page:
    """Claims newest first, filtered, a page at a time (keyset on the primary key, never OFFSET)."""
    if not isinstance(actor, OfficerActor):
        raise NotFound(N_("There is no such list for this token."))
    active_officer(ctx, actor)
    query = select(Claim).order_by(Claim.id.desc()).limit(limit + 1)
    if cursor:
        query = query.where(Claim.id < decode_cursor(cursor))
    if filters.get("state"):
        query = query.where(Claim.state.in_(filters["state"]))
    for name in ("sector", "region"):
        if filters.get(name):
            query = query.where(getattr(Claim, name) == filters[name])
    if filters.get("category"):
        category = filters["category"]
        query = query.where(
            or_(Claim.category == category, and_(Claim.category.is_(None), Claim.barrier_category == category))
        )
    if filters.get("assignee") is not None:
        query = query.where(Claim.assignee_id == filters["assignee"])
    if filters.get("overdue") is not None:
        today = ctx.today()
        query = (
            query.where(Claim.due_on < today)
            if filters["overdue"]
            else query.where(or_(Claim.due_on.is_(None), Claim.due_on >= today))
        )
    claims = list(ctx.session.scalars(query))
    more = len(claims) > limit
    claims = claims[:limit]
    today = ctx.today()
    items = [
        {
            "reference": c.reference,
            "state": c.state,
            "version": c.version,
            "submitted_at": c.submitted_at,
            "group_name": c.group_name,
            "initiative_title": c.initiative_title,
            "sector": c.sector,
            "region": c.region,
            "category": c.category or c.barrier_category,
            "assignee_id": c.assignee_id,
            "due_clock": c.due_clock,
            "due_on": c.due_on,
            "overdue": bool(c.due_on and today > c.due_on),
        }
        for c in claims
    ]
    return Page(items=items, next_cursor=encode_cursor(claims[-1].id) if more and claims else None)


def audit_trail(ctx: ServiceContext, reference: str, actor: Actor) -> list[dict[str, Any]]:
    """The claim's hash chain, for officers."""
    require_role(ctx, actor, OFFICER_ROLES, N_("read the audit trail"))
    claim = get_claim(ctx, reference)
    events = ctx.session.scalars(select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.seq))
    return [
        {
            "seq": e.seq,
            "occurred_at": e.occurred_at,
            "actor_type": e.actor_type,
            "actor_id": e.actor_id,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "payload": e.payload,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events
    ]


def describe_workflow(working_days: Mapping[str, int]) -> dict[str, Any]:
    """The workflow as data, for the API, the docs and the console: generated, never restated."""
    return {
        "states": [{"name": s, "label": STATE_LABELS[s], "terminal": s in TERMINAL_STATES} for s in STATES],
        "roles": list(ROLES),
        "clocks": [
            {"name": c.name, "label": c.label, "working_days": working_days.get(c.name, c.default_working_days)}
            for c in CLOCKS.values()
        ],
        "triggers": [
            {
                "trigger": t.trigger,
                "label": t.label,
                "sources": list(t.sources),
                "dest": t.dest,
                "fired_by": list(t.fired_by),
                "inputs": [
                    {
                        "name": i.name,
                        "kind": i.kind,
                        "label": i.label,
                        "required": i.required,
                        "required_when": {"field": i.required_when[0], "value": i.required_when[1]}
                        if i.required_when
                        else None,
                        "asked_if": i.asked_if[0] if i.asked_if else None,
                        "choices": list(i.choices),
                        "max_length": i.max_length if i.kind == "text" else None,
                        "public": i.public,
                    }
                    for i in t.inputs
                ],
                "clocks": [{"clock": e.clock, "action": e.action} for e in t.clocks],
                "clock_condition": {"clock": t.clock_condition.clock, "must_be": t.clock_condition.must_be}
                if t.clock_condition
                else None,
                "separation_of_duties": t.separation_of_duties,
            }
            for t in TRANSITIONS
        ],
    }
