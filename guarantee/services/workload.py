"""The team's workload: how many open claims each officer holds in each state, how many of them
are overdue, and the earliest due date among them; for admins and team leaders, who share the
work out again (``reassign``, or ``casework.assign_many`` from the queue)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, or_, select

from guarantee.models import Claim, Officer
from guarantee.services import queue
from guarantee.services.actors import Actor
from guarantee.services.casework import MAX_BULK, assign_many
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.services.officers import require_role
from workflows import ACTIVE_STATES
from workflows.words import N_

# Who may see the team's workload.
LEADERS = ("admin", "team_leader")


@dataclass(frozen=True)
class OfficerLoad:
    """One officer's open claims, or (``officer_id`` None) the claims no officer holds."""

    officer_id: int | None
    name: str  # the officer's name, or "Unassigned"
    active: bool  # False: a deactivated officer who still holds claims, to be given to others
    by_state: dict[str, int] = field(default_factory=dict)  # every active state, 0 where none
    total: int = 0
    overdue: int = 0  # a running clock past its due date, as the queue counts them
    oldest_due: date | None = None  # the earliest due date of a running clock among them

    @property
    def queue_args(self) -> dict[str, str]:
        """The queue's filter for these claims: {"assignee": "7"} or {"assignee": "none"}."""
        return {"assignee": "none" if self.officer_id is None else str(self.officer_id)}


def team_workload(ctx: ServiceContext, actor: Actor) -> list[OfficerLoad]:
    """A row for each active officer (holding claims or not), each deactivated officer who still
    holds open claims, and the unassigned claims, last; officers by name. Two queries: the counts
    grouped by officer and state, and the officers' names."""
    require_role(ctx, actor, LEADERS, N_("see the team's workload"))
    today = ctx.today()
    grouped = ctx.session.execute(
        select(
            Claim.assignee_id,
            Claim.state,
            func.count(),
            func.sum(case((Claim.due_on < today, 1), else_=0)),
            func.min(Claim.due_on),
        )
        .where(Claim.state.in_(ACTIVE_STATES))
        .group_by(Claim.assignee_id, Claim.state)
    ).all()
    by_state: dict[int | None, dict[str, int]] = {}
    overdue: dict[int | None, int] = {}
    earliest: dict[int | None, date] = {}
    for assignee_id, state, count, late, first_due in grouped:
        by_state.setdefault(assignee_id, dict.fromkeys(ACTIVE_STATES, 0))[state] = int(count)
        overdue[assignee_id] = overdue.get(assignee_id, 0) + int(late or 0)
        if first_due is not None and (assignee_id not in earliest or first_due < earliest[assignee_id]):
            earliest[assignee_id] = first_due
    holding = [key for key in by_state if key is not None]
    officers = ctx.session.execute(
        select(Officer.id, Officer.name, Officer.active)
        .where(or_(Officer.active, Officer.id.in_(holding)))
        .order_by(Officer.name, Officer.id)
    ).all()

    def load(officer_id: int | None, name: str, active: bool) -> OfficerLoad:
        states = by_state.get(officer_id, dict.fromkeys(ACTIVE_STATES, 0))
        return OfficerLoad(
            officer_id, name, active, states, sum(states.values()), overdue.get(officer_id, 0), earliest.get(officer_id)
        )

    return [*(load(o.id, o.name, o.active) for o in officers), load(None, N_("Unassigned"), True)]


@dataclass(frozen=True)
class Holding:
    """An officer's open claims, for a team leader to give to others."""

    officer_id: int
    name: str
    active: bool
    claims: list[dict[str, Any]]  # the queue's rows (queue.work_queue), soonest due first
    more: bool  # they hold more than are listed (queue.MAX_CHOSEN)


def claims_held(ctx: ServiceContext, actor: Actor, officer_id: int) -> Holding:
    """The open claims an officer holds, soonest due first (at most queue.MAX_CHOSEN of them), for
    admins and team leaders; NotFound for an officer who does not exist."""
    require_role(ctx, actor, LEADERS, N_("share out the team's work"))
    officer = ctx.session.get(Officer, officer_id) if isinstance(officer_id, int) else None
    if officer is None:
        raise NotFound(N_("There is no such officer."))
    today = ctx.today()
    rows = ctx.session.execute(
        select(*queue.ROW_COLUMNS)
        .where(Claim.assignee_id == officer.id, Claim.state.in_(ACTIVE_STATES))
        .order_by(queue.DUE_ORDER, Claim.id)
        .limit(queue.MAX_CHOSEN + 1)
    ).all()
    claims = [queue.row(c, today) for c in rows[: queue.MAX_CHOSEN]]
    return Holding(officer.id, officer.name, officer.active, claims, len(rows) > queue.MAX_CHOSEN)


def reassign(
    ctx: ServiceContext,
    actor: Actor,
    references: list[str],
    assignee_id: int | None,
    versions: Mapping[str, int | None],
) -> int:
    """Give these claims to another officer (or to nobody): all of them, or, if any cannot be
    given (changed since ``versions`` were read, finished, gone), none. For admins and team
    leaders; any number of claims, casework.MAX_BULK at a time. Flushes only."""
    require_role(ctx, actor, LEADERS, N_("share out the team's work"))
    chosen = list(dict.fromkeys(r for r in references if r))
    if not chosen:
        raise ValidationFailed({"references": [N_("Select at least one claim")]})
    problems: list[str] = []
    for start in range(0, len(chosen), MAX_BULK):
        try:
            assign_many(ctx, chosen[start : start + MAX_BULK], assignee_id, actor, versions=versions)
        except ValidationFailed as refused:
            problems += [m for messages in refused.errors.values() for m in messages]
    if problems:
        raise ValidationFailed({"references": problems})
    return len(chosen)
